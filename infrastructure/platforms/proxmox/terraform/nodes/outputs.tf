# Computed from the inputs, so every value is known at plan time. depends_on
# only orders them after the VMs; the Kubespray layer reads the `nodes` output.

output "nodes" {
  description = "Cluster VMs by host name: ip (without prefix), role, vm_id, proxmox_node."
  value = {
    for name, v in var.nodes : name => {
      ip           = split("/", v.ipv4_address)[0]
      role         = v.role
      vm_id        = v.vm_id
      proxmox_node = v.proxmox_node
    }
  }
  depends_on = [proxmox_virtual_environment_vm.node]
}

output "control_plane_ips" {
  description = "IPv4 addresses of the k8s-control-plane nodes, in host-name order."
  value       = [for name, v in var.nodes : split("/", v.ipv4_address)[0] if v.role == "k8s-control-plane"]
  depends_on  = [proxmox_virtual_environment_vm.node]
}

output "worker_ips" {
  description = "IPv4 addresses of the k8s-worker nodes, in host-name order."
  value       = [for name, v in var.nodes : split("/", v.ipv4_address)[0] if v.role == "k8s-worker"]
  depends_on  = [proxmox_virtual_environment_vm.node]
}
