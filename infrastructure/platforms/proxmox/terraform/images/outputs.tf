output "image_file_id" {
  description = "Proxmox file ID (datastore:iso/file) of the cloud image; the templates module uses the same ID as its disk source."
  value       = proxmox_download_file.cloud_image.id
}

output "image_node" {
  description = "Proxmox node that downloaded the image (the first of proxmox_nodes, which holds the template)."
  value       = proxmox_download_file.cloud_image.node_name
}
