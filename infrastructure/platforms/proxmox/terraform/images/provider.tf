# The API token is never a variable and never sits in a tfvars file: the provider
# reads it from PROXMOX_VE_API_TOKEN ("user@realm!tokenid=secret") in the
# environment Terraform runs in. SSH settings the provider may need for disk
# operations come the same way (PROXMOX_VE_SSH_USERNAME, PROXMOX_VE_SSH_AGENT or
# PROXMOX_VE_SSH_PRIVATE_KEY).
provider "proxmox" {
  endpoint = var.proxmox_endpoint
  insecure = var.proxmox_insecure
}
