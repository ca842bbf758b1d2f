# The API token is never a variable and never sits in a tfvars file: the provider
# reads it from PROXMOX_VE_API_TOKEN ("user@realm!tokenid=secret") in the
# environment Terraform runs in.
#
# SSH to the Proxmox node is required to build the template: the provider imports
# its disk from the downloaded image with `pvesm path`, `qm disk import` and
# `qm set`, which the API cannot do. With an API token it reads the SSH user from
# PROXMOX_VE_SSH_USERNAME and authenticates with an agent (PROXMOX_VE_SSH_AGENT=true
# and SSH_AUTH_SOCK) or an unencrypted key (PROXMOX_VE_SSH_PRIVATE_KEY); a user
# other than root needs passwordless sudo for /usr/sbin/pvesm and /usr/sbin/qm.
# The same settings come from the environment in every module.
provider "proxmox" {
  endpoint = var.proxmox_endpoint
  insecure = var.proxmox_insecure
}
