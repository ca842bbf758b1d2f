terraform {
  required_version = ">= 1.5.0"

  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = "~> 0.66"
    }
  }

  # Partial configuration: Strata runs `init -backend-config=path=...` with one
  # state file per environment, and may drop in an override file that swaps this
  # block for a remote backend.
  backend "local" {}
}
