# Terraform variables for the Proxmox infrastructure (images, templates, nodes).
# No secrets here: the API token comes from the environment (PROXMOX_VE_API_TOKEN).

proxmox_endpoint = "https://pve-dev-01.example.internal:8006/"
proxmox_insecure = true
proxmox_nodes    = ["pve-dev-01"]

image_datastore_id = "local"
vm_datastore_id    = "local-lvm"
network_bridge     = "vmbr0"
vlan_id            = 110

cloud_image_url       = "https://cloud-images.ubuntu.com/releases/noble/release-20260911/ubuntu-24.04-server-cloudimg-amd64.img"
cloud_image_file_name = "ubuntu-24.04-server-cloudimg-amd64-20260911.img"
template_vm_id        = 9000
template_name         = "ubuntu-2404-dev-template"

ssh_user = "ubuntu"
ssh_public_keys = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILFsIiFTO7Idpb3QRATMBM29IGMxv95Wffs/Bd/6Lmx0 ops@example.internal",
]

ipv4_gateway  = "10.10.0.1"
dns_servers   = ["10.0.0.53", "10.0.1.53"]
search_domain = "development.example.internal"

nodes = {
  "dev-cp-1" = {
    vm_id        = 1101
    role         = "k8s-control-plane"
    proxmox_node = "pve-dev-01"
    ipv4_address = "10.10.0.11/24"
    cores        = 2
    memory_mb    = 4096
    disk_gb      = 40
  }
  "dev-worker-1" = {
    vm_id        = 1111
    role         = "k8s-worker"
    proxmox_node = "pve-dev-01"
    ipv4_address = "10.10.0.21/24"
    cores        = 4
    memory_mb    = 8192
    disk_gb      = 60
  }
  "dev-worker-2" = {
    vm_id        = 1112
    role         = "k8s-worker"
    proxmox_node = "pve-dev-01"
    ipv4_address = "10.10.0.22/24"
    cores        = 4
    memory_mb    = 8192
    disk_gb      = 60
  }
}
