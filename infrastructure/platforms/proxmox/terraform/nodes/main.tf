# Phase 3 of 3 (images -> templates -> nodes): the Kubernetes VMs, each a full
# clone of the template with a static address set by cloud-init.
locals {
  template_node = var.proxmox_nodes[0]
}

resource "proxmox_virtual_environment_vm" "node" {
  for_each = var.nodes

  name      = each.key
  node_name = each.value.proxmox_node
  vm_id     = each.value.vm_id
  tags      = [each.value.role]

  clone {
    vm_id     = var.template_vm_id
    node_name = local.template_node
    full      = true
  }

  # As in the template: the agent only when the image runs it, and a stop
  # rather than a shutdown nobody answers on destroy.
  agent {
    enabled = var.qemu_guest_agent
  }
  stop_on_destroy = !var.qemu_guest_agent

  cpu {
    cores = each.value.cores
    type  = "host"
  }

  memory {
    dedicated = each.value.memory_mb
  }

  # Same interface as the template disk, so the clone's disk is resized in place.
  # A redeclared disk takes only the settings given here: without discard the
  # template's `discard = "on"` is dropped (at create from provider v0.74).
  disk {
    datastore_id = var.vm_datastore_id
    interface    = "virtio0"
    size         = each.value.disk_gb
    discard      = "on"
  }

  network_device {
    bridge  = var.network_bridge
    vlan_id = var.vlan_id
  }

  initialization {
    datastore_id = var.vm_datastore_id

    ip_config {
      ipv4 {
        address = each.value.ipv4_address
        gateway = var.ipv4_gateway
      }
    }

    dns {
      servers = var.dns_servers
      domain  = var.search_domain
    }

    user_account {
      username = var.ssh_user
      keys     = var.ssh_public_keys
    }
  }

  # Checks that span several variables live here rather than in variable
  # validation blocks, which may only refer to other variables from Terraform 1.9.
  lifecycle {
    precondition {
      condition     = contains(var.proxmox_nodes, each.value.proxmox_node)
      error_message = "Node ${each.key}: proxmox_node \"${each.value.proxmox_node}\" is not in proxmox_nodes."
    }

    precondition {
      condition     = each.value.vm_id != var.template_vm_id
      error_message = "Node ${each.key}: vm_id ${each.value.vm_id} is the template's VM ID."
    }

    precondition {
      condition     = cidrhost(each.value.ipv4_address, 0) == cidrhost("${var.ipv4_gateway}/${split("/", each.value.ipv4_address)[1]}", 0)
      error_message = "Node ${each.key}: ipv4_gateway ${var.ipv4_gateway} is not in the subnet of ${each.value.ipv4_address}."
    }
  }
}
