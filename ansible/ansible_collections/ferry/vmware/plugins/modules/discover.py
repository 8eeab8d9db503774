#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation only: the module is the ferry binary (modules/discover -> ferry).

DOCUMENTATION = r'''
module: discover
short_description: Inventory VMware VMs and flag migration blockers
description:
  - Runs C(ferry discover) against vCenter/ESXi for the selected VMs and
    returns one object per VM (hardware, disks, NICs, CBT, blockers,
    warnings).
  - Writes each VM's C(vm.json) and os-migrate's metadata files under
    C(os_migrate_vmw_data_dir) unless I(write=false).  Never reports
    C(changed).
version_added: 0.1.0
author: ferry developers
extends_documentation_fragment: ferry.vmware.common
options:
  all:
    description: Every VM of the datacenter instead of I(vms).
    type: bool
    default: false
  write:
    description: Write the per-VM files (not in check mode).
    type: bool
    default: true
  output_dir:
    description: Where to write them (default C(os_migrate_vmw_data_dir)).
    type: path
'''

EXAMPLES = r'''
- name: Discover the VMs to migrate
  ferry.vmware.discover:
    config: "{{ ferry_vars }}"
  no_log: true
  register: discovery
'''

RETURN = r'''
vms:
  description: One object per VM, as C(ferry discover --format json).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "web-1", "power_state": "poweredOn", "disks": [], "blockers": []}]
'''

if __name__ == '__main__':
    # Run only when the ferry binary is missing (Ansible falls back to this file).
    import json
    print(json.dumps({"failed": True, "msg": "ferry.vmware: the module binaries are not "
                      "installed: run ansible/build-collection.sh (see docs/ansible.md)"}))
