# Phase 1 of 3 (images -> templates -> nodes): every Proxmox node downloads the
# distribution cloud image into its image datastore. The file name pins the
# release, so a new image is a new file and an existing one is never replaced
# behind Terraform's back (overwrite = false).
resource "proxmox_virtual_environment_download_file" "cloud_image" {
  for_each = toset(var.proxmox_nodes)

  content_type = "iso"
  datastore_id = var.image_datastore_id
  node_name    = each.key
  url          = var.cloud_image_url
  file_name    = var.cloud_image_file_name
  overwrite    = false
}
