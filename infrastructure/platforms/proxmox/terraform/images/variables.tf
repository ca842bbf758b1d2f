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

variable "cloud_image_url" {
  type        = string
  description = "URL the Proxmox nodes download the distribution cloud image from."

  validation {
    condition     = can(regex("^https?://[^/\\s]+/\\S+$", var.cloud_image_url))
    error_message = "cloud_image_url must be an http(s) URL of an image file."
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

variable "cloud_image_sha256" {
  type        = string
  description = "SHA-256 of the cloud image file (64 hex digits). Proxmox checks the download against it and refuses a file that does not match."

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.cloud_image_sha256))
    error_message = "cloud_image_sha256 must be the image's SHA-256: 64 lower-case hex digits."
  }
}
