# Phase 2 of 3 (images -> templates -> nodes): one cloud-init VM template on the
# first Proxmox node, its disk imported from the image the images phase
# downloaded. The nodes phase clones it.
locals {
  template_node = var.proxmox_nodes[0]
  image_file_id = "${var.image_datastore_id}:iso/${var.cloud_image_file_name}"
}

resource "proxmox_virtual_environment_vm" "template" {
  node_name   = local.template_node
  vm_id       = var.template_vm_id
  name        = var.template_name
  description = "Cloud-init template managed by Strata (Terraform phase: templates)."

  template = true
  started  = false
  on_boot  = false

  # Only an image that runs qemu-guest-agent may enable it: the provider waits
  # for an agent that never answers (15 minutes on create and refresh). Without
  # it, destroy stops the VM instead of waiting 30 minutes for a shutdown the
  # guest never hears of.
  agent {
    enabled = var.qemu_guest_agent
  }
  stop_on_destroy = !var.qemu_guest_agent

  # Cloud images expect a serial console.
  serial_device {}

  cpu {
    type = "host"
  }

  operating_system {
    type = "l26"
  }

  # Importing from file_id runs `pvesm path` and `qm disk import` over SSH on
  # the node: the provider needs PROXMOX_VE_SSH_USERNAME and an agent or key
  # (see provider.tf). `cargo xtask infra` refuses to apply without them.
  disk {
    datastore_id = var.vm_datastore_id
    file_id      = local.image_file_id
    interface    = "virtio0"
    size         = 20
    discard      = "on"
  }

  initialization {
    datastore_id = var.vm_datastore_id

    ip_config {
      ipv4 {
        address = "dhcp"
      }
    }

    user_account {
      username = var.ssh_user
      keys     = var.ssh_public_keys
    }
  }

  network_device {
    bridge  = var.network_bridge
    vlan_id = var.vlan_id
  }
}
