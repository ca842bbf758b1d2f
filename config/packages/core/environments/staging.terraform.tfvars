# Terraform variables for the Proxmox infrastructure (images, templates, nodes).
# No secrets here: the API token comes from the environment (PROXMOX_VE_API_TOKEN).

proxmox_endpoint = "https://pve-stg-01.example.internal:8006/"
proxmox_insecure = false
proxmox_nodes    = ["pve-stg-01"]

image_datastore_id = "local"
vm_datastore_id    = "local-lvm"
network_bridge     = "vmbr0"
vlan_id            = 120

cloud_image_url       = "https://cloud-images.ubuntu.com/releases/noble/release-20260911/ubuntu-24.04-server-cloudimg-amd64.img"
cloud_image_file_name = "ubuntu-24.04-server-cloudimg-amd64-20260911.img"
template_vm_id        = 9100
template_name         = "ubuntu-2404-stg-template"

ssh_user = "ubuntu"
ssh_public_keys = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvznNeLmxXJNXPEtSQ7IE1K8LsoDt50OQmOhWJ5rGe0 ops@example.internal",
]

ipv4_gateway  = "10.20.0.1"
dns_servers   = ["10.0.0.53", "10.0.1.53"]
search_domain = "staging.example.internal"

nodes = {
  "stg-cp-1" = {
    vm_id        = 1201
    role         = "k8s-control-plane"
    proxmox_node = "pve-stg-01"
    ipv4_address = "10.20.0.11/24"
    cores        = 2
    memory_mb    = 4096
    disk_gb      = 40
  }
  "stg-worker-1" = {
    vm_id        = 1211
    role         = "k8s-worker"
    proxmox_node = "pve-stg-01"
    ipv4_address = "10.20.0.21/24"
    cores        = 4
    memory_mb    = 16384
    disk_gb      = 80
  }
  "stg-worker-2" = {
    vm_id        = 1212
    role         = "k8s-worker"
    proxmox_node = "pve-stg-01"
    ipv4_address = "10.20.0.22/24"
    cores        = 4
    memory_mb    = 16384
    disk_gb      = 80
  }
}
