variable "proxmox_endpoint" {
  type        = string
  description = "URL of the Proxmox VE API, for example https://pve-01.example.internal:8006/."

  validation {
    condition     = can(regex("^https://[^/\\s]+", var.proxmox_endpoint))
    error_message = "proxmox_endpoint must be an https:// URL, such as https://pve-01.example.internal:8006/."
  }
}

variable "proxmox_insecure" {
  type        = bool
  description = "Skip TLS verification of the Proxmox API certificate (self-signed lab clusters only)."
  default     = false
}

variable "proxmox_nodes" {
  type        = list(string)
  description = "Names of the Proxmox cluster nodes to use. The first one holds the VM template."

  validation {
    condition     = length(var.proxmox_nodes) > 0
    error_message = "proxmox_nodes must name at least one Proxmox node."
  }

  validation {
    condition     = alltrue([for n in var.proxmox_nodes : can(regex("^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$", n))])
    error_message = "Each entry of proxmox_nodes must be a Proxmox node name (letters, digits and inner hyphens)."
  }

  validation {
    condition     = length(distinct(var.proxmox_nodes)) == length(var.proxmox_nodes)
    error_message = "proxmox_nodes must not name a node twice."
  }
}

variable "image_datastore_id" {
  type        = string
  description = "Proxmox datastore that holds the downloaded cloud image as ISO content (for example local)."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._-]*$", var.image_datastore_id))
    error_message = "image_datastore_id must be a Proxmox storage ID, such as local."
  }
}

variable "vm_datastore_id" {
  type        = string
  description = "Proxmox datastore for VM disks and cloud-init drives (for example local-lvm or a Ceph pool)."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._-]*$", var.vm_datastore_id))
    error_message = "vm_datastore_id must be a Proxmox storage ID, such as local-lvm."
  }
}

variable "network_bridge" {
  type        = string
  description = "Proxmox bridge the VM network device is attached to (for example vmbr0)."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_.-]*$", var.network_bridge))
    error_message = "network_bridge must be a Linux bridge or SDN VNet name, such as vmbr0."
  }
}

variable "vlan_id" {
  type        = number
  description = "VLAN tag of the VM network device."

  validation {
    condition     = var.vlan_id == floor(var.vlan_id) && var.vlan_id >= 1 && var.vlan_id <= 4094
    error_message = "vlan_id must be a whole number from 1 to 4094."
  }
}

variable "cloud_image_file_name" {
  type        = string
  description = "File name the cloud image is stored under in the image datastore. Pin a release in it so a new image is a new file."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*\\.(img|iso)$", var.cloud_image_file_name))
    error_message = "cloud_image_file_name must be a plain file name ending in .img or .iso (Proxmox only accepts those for ISO content)."
  }
}

variable "template_vm_id" {
  type        = number
  description = "VM ID of the cloud-init template the nodes are cloned from."

  validation {
    condition     = var.template_vm_id == floor(var.template_vm_id) && var.template_vm_id >= 100 && var.template_vm_id <= 999999999
    error_message = "template_vm_id must be a whole number from 100 to 999999999 (the Proxmox VM ID range)."
  }
}

variable "template_name" {
  type        = string
  description = "Name of the VM template (a DNS-style name)."

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$", var.template_name))
    error_message = "template_name must be a DNS-style name: letters, digits, dots and inner hyphens, at most 63 characters."
  }
}

variable "ssh_user" {
  type        = string
  description = "User cloud-init creates on every VM; Kubespray connects as this user and needs passwordless sudo."

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.ssh_user))
    error_message = "ssh_user must be a lower-case Linux user name."
  }
}

variable "ssh_public_keys" {
  type        = list(string)
  description = "OpenSSH public keys authorised for ssh_user. Public keys only: never a private key."

  validation {
    condition     = length(var.ssh_public_keys) > 0
    error_message = "ssh_public_keys must hold at least one key."
  }

  validation {
    condition = alltrue([
      for k in var.ssh_public_keys :
      can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,3}( .*)?$", k))
    ])
    error_message = "Each entry of ssh_public_keys must be one OpenSSH public key line (type, base64 key, optional comment)."
  }
}

variable "qemu_guest_agent" {
  type        = bool
  description = "Whether the image runs qemu-guest-agent. Stock cloud images do not: with the agent enabled but absent, the provider waits up to 15 minutes on every create and refresh and 30 on destroy. Strata sets it to true when the template is a role image that installs the agent (publish.templateRole)."
  default     = false
}
