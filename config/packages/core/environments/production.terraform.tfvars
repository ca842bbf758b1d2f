# Terraform variables for the Proxmox infrastructure (images, templates, nodes).
# No secrets here: the API token comes from the environment (PROXMOX_VE_API_TOKEN).

proxmox_endpoint = "https://pve-prod-01.example.internal:8006/"
proxmox_insecure = false
proxmox_nodes    = ["pve-prod-01", "pve-prod-02", "pve-prod-03"]

image_datastore_id = "local"
vm_datastore_id    = "ceph-vm"
network_bridge     = "vmbr0"
vlan_id            = 130

cloud_image_url       = "https://cloud-images.ubuntu.com/releases/noble/release-20260911/ubuntu-24.04-server-cloudimg-amd64.img"
cloud_image_file_name = "ubuntu-24.04-server-cloudimg-amd64-20260911.img"
template_vm_id        = 9200
template_name         = "ubuntu-2404-prod-template"

ssh_user = "ubuntu"
ssh_public_keys = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEPJrd19KkDr0wqHgX7asO1N/T28Mb2BPZIggOCkIUr8 ops@example.internal",
]

ipv4_gateway  = "10.30.0.1"
dns_servers   = ["10.0.0.53", "10.0.1.53"]
search_domain = "production.example.internal"

nodes = {
  "prod-cp-1" = {
    vm_id        = 1301
    role         = "k8s-control-plane"
    proxmox_node = "pve-prod-01"
    ipv4_address = "10.30.0.11/24"
    cores        = 4
    memory_mb    = 8192
    disk_gb      = 80
  }
  "prod-cp-2" = {
    vm_id        = 1302
    role         = "k8s-control-plane"
    proxmox_node = "pve-prod-02"
    ipv4_address = "10.30.0.12/24"
    cores        = 4
    memory_mb    = 8192
    disk_gb      = 80
  }
  "prod-cp-3" = {
    vm_id        = 1303
    role         = "k8s-control-plane"
    proxmox_node = "pve-prod-03"
    ipv4_address = "10.30.0.13/24"
    cores        = 4
    memory_mb    = 8192
    disk_gb      = 80
  }
  "prod-worker-1" = {
    vm_id        = 1311
    role         = "k8s-worker"
    proxmox_node = "pve-prod-01"
    ipv4_address = "10.30.0.21/24"
    cores        = 8
    memory_mb    = 32768
    disk_gb      = 150
  }
  "prod-worker-2" = {
    vm_id        = 1312
    role         = "k8s-worker"
    proxmox_node = "pve-prod-02"
    ipv4_address = "10.30.0.22/24"
    cores        = 8
    memory_mb    = 32768
    disk_gb      = 150
  }
  "prod-worker-3" = {
    vm_id        = 1313
    role         = "k8s-worker"
    proxmox_node = "pve-prod-03"
    ipv4_address = "10.30.0.23/24"
    cores        = 8
    memory_mb    = 32768
    disk_gb      = 150
  }
}
