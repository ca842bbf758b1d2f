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

variable "template_vm_id" {
  type        = number
  description = "VM ID of the cloud-init template the nodes are cloned from."

  validation {
    condition     = var.template_vm_id == floor(var.template_vm_id) && var.template_vm_id >= 100 && var.template_vm_id <= 999999999
    error_message = "template_vm_id must be a whole number from 100 to 999999999 (the Proxmox VM ID range)."
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

variable "ipv4_gateway" {
  type        = string
  description = "IPv4 default gateway of the node network (an address, without a prefix)."

  validation {
    condition     = can(regex("^\\d{1,3}(\\.\\d{1,3}){3}$", var.ipv4_gateway)) && can(cidrhost("${var.ipv4_gateway}/32", 0))
    error_message = "ipv4_gateway must be an IPv4 address without a prefix, such as 10.10.0.1."
  }
}

variable "dns_servers" {
  type        = list(string)
  description = "DNS servers cloud-init configures on every node."

  validation {
    condition     = length(var.dns_servers) > 0
    error_message = "dns_servers must hold at least one server."
  }

  validation {
    condition     = alltrue([for s in var.dns_servers : can(regex("^\\d{1,3}(\\.\\d{1,3}){3}$", s)) && can(cidrhost("${s}/32", 0))])
    error_message = "Each entry of dns_servers must be an IPv4 address without a prefix."
  }
}

variable "search_domain" {
  type        = string
  description = "DNS search domain cloud-init configures on every node."

  validation {
    condition     = can(regex("^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", var.search_domain))
    error_message = "search_domain must be a DNS domain name, such as development.example.internal."
  }
}

variable "nodes" {
  type = map(object({
    vm_id        = number
    role         = string
    proxmox_node = string
    ipv4_address = string
    cores        = number
    memory_mb    = number
    disk_gb      = number
  }))
  description = "Cluster VMs by host name: VM ID, Kubernetes role, Proxmox node, static IPv4 address in CIDR form, and size."

  validation {
    condition     = length(var.nodes) > 0
    error_message = "nodes must hold at least one VM."
  }

  validation {
    condition     = alltrue([for name, v in var.nodes : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", name))])
    error_message = "Each key of nodes must be a host name: lower-case letters, digits and inner hyphens, at most 63 characters."
  }

  validation {
    condition     = alltrue([for name, v in var.nodes : contains(["k8s-control-plane", "k8s-worker"], v.role)])
    error_message = "Each node's role must be k8s-control-plane or k8s-worker."
  }

  validation {
    condition     = anytrue([for name, v in var.nodes : v.role == "k8s-control-plane"])
    error_message = "nodes must hold at least one k8s-control-plane node."
  }

  validation {
    condition = alltrue([
      for name, v in var.nodes :
      can(regex("^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$", v.ipv4_address)) && can(cidrhost(v.ipv4_address, 0))
    ])
    error_message = "Each node's ipv4_address must be an IPv4 address in CIDR form, such as 10.10.0.11/24."
  }

  validation {
    condition     = length(distinct([for name, v in var.nodes : split("/", v.ipv4_address)[0]])) == length(var.nodes)
    error_message = "Two nodes share an ipv4_address."
  }

  validation {
    condition     = alltrue([for name, v in var.nodes : v.vm_id == floor(v.vm_id) && v.vm_id >= 100 && v.vm_id <= 999999999])
    error_message = "Each node's vm_id must be a whole number from 100 to 999999999."
  }

  validation {
    condition     = length(distinct([for name, v in var.nodes : v.vm_id])) == length(var.nodes)
    error_message = "Two nodes share a vm_id."
  }

  validation {
    condition     = alltrue([for name, v in var.nodes : v.cores == floor(v.cores) && v.cores >= 1])
    error_message = "Each node's cores must be a whole number of at least 1."
  }

  validation {
    condition     = alltrue([for name, v in var.nodes : v.memory_mb == floor(v.memory_mb) && v.memory_mb >= 1024])
    error_message = "Each node's memory_mb must be a whole number of at least 1024."
  }

  validation {
    condition     = alltrue([for name, v in var.nodes : v.disk_gb == floor(v.disk_gb) && v.disk_gb >= 20])
    error_message = "Each node's disk_gb must be a whole number of at least 20 (the template disk is 20 GB and a clone cannot shrink it)."
  }
}

variable "qemu_guest_agent" {
  type        = bool
  description = "Whether the image runs qemu-guest-agent. Stock cloud images do not: with the agent enabled but absent, the provider waits up to 15 minutes on every create and refresh and 30 on destroy. Strata sets it to true when the template is a role image that installs the agent (publish.templateRole)."
  default     = false
}
