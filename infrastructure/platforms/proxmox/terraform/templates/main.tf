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

  agent {
    enabled = true
  }

  # Cloud images expect a serial console.
  serial_device {}

  cpu {
    type = "host"
  }

  operating_system {
    type = "l26"
  }

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
