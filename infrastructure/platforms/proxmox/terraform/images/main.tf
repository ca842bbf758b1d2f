# Phase 1 of 3 (images -> templates -> nodes): the distribution cloud image,
# downloaded once, by the first Proxmox node (the one the template is built on),
# into the image datastore. One download per storage: a second node downloading
# the same file into shared storage would fail, and no other node reads it.
#
# Proxmox verifies the file against cloud_image_sha256 before it keeps it. The
# file name pins the release, so a new image is a new file and an existing one
# is never replaced behind Terraform's back (overwrite = false).
resource "proxmox_download_file" "cloud_image" {
  content_type       = "iso"
  datastore_id       = var.image_datastore_id
  node_name          = var.proxmox_nodes[0]
  url                = var.cloud_image_url
  file_name          = var.cloud_image_file_name
  checksum           = var.cloud_image_sha256
  checksum_algorithm = "sha256"
  overwrite          = false
}
