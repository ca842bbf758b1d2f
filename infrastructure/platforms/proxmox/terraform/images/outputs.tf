output "image_file_ids" {
  description = "Proxmox file ID (datastore:iso/file) of the cloud image, by Proxmox node."
  value       = { for node, file in proxmox_virtual_environment_download_file.cloud_image : node => file.id }
}

output "image_file_id_pattern" {
  description = "File ID the templates module uses as the template disk source; the same on every node."
  value       = "${var.image_datastore_id}:iso/${var.cloud_image_file_name}"
}
