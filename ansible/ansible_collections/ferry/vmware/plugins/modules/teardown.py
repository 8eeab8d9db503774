#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation only: the module is the ferry binary (modules/teardown -> ferry).

DOCUMENTATION = r'''
module: teardown
short_description: Delete what ferry created on OpenStack for the selected VMs
description:
  - Runs C(ferry teardown), which deletes the server, ports, volumes and flavor
    ferry created (per delete_os_instance, delete_os_port, delete_os_volume)
    and nothing else.  The source VM is not touched.
  - C(changed) is true iff something was deleted.  In check mode nothing is
    deleted and C(vms[].would_delete) lists what would be.
version_added: 0.1.0
author: ferry developers
extends_documentation_fragment: ferry.vmware.common
'''

EXAMPLES = r'''
- name: Remove a test migration
  ferry.vmware.teardown:
    config: "{{ ferry_vars }}"
    vms: [web-1]
  no_log: true
'''

RETURN = r'''
vms:
  description: Per VM, C(deleted) (or C(would_delete)) and C(left), as "server ID", "port ID", "volume ID".
  returned: always
  type: list
  elements: dict
'''

if __name__ == '__main__':
    import json
    print(json.dumps({"failed": True, "msg": "ferry.vmware: the module binaries are not "
                      "installed: run ansible/build-collection.sh (see docs/ansible.md)"}))
