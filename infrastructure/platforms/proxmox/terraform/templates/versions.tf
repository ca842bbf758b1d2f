terraform {
  required_version = ">= 1.5.0"

  required_providers {
    # A tested range, not `~> 0.x`: bpg/proxmox breaks things in minor releases
    # (v0.74, v0.75, v0.88, v0.100, v0.109). v0.109 is the last of those;
    # proxmox_download_file needs v0.100 or newer. Widen the range only after
    # planning against the new version, and commit the .terraform.lock.hcl
    # that `terraform init` writes next to this file.
    proxmox = {
      source  = "bpg/proxmox"
      version = ">= 0.109.0, < 0.112.0"
    }
  }

  # Partial configuration: Strata runs `init -backend-config=path=...` with one
  # state file per environment, and may drop in an override file that swaps this
  # block for a remote backend.
  backend "local" {}
}
