output "template_vm_id" {
  description = "VM ID of the template the nodes phase clones."
  value       = proxmox_virtual_environment_vm.template.vm_id
}

output "template_node" {
  description = "Proxmox node that holds the template."
  value       = proxmox_virtual_environment_vm.template.node_name
}
