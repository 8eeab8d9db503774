#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation only: the module is the ferry binary (modules/status -> ferry).

DOCUMENTATION = r'''
module: status
short_description: Each VM's migration phase, bytes copied, syncs and resources
description:
  - Reads ferry's per-VM state under C(os_migrate_vmw_data_dir) on this
    host, as C(ferry status --format json).  Never reports C(changed).
  - Without I(vms) and C(vms_list), every VM with state in the data dir.
version_added: 0.1.0
author: ferry developers
extends_documentation_fragment: ferry.vmware.common
'''

EXAMPLES = r'''
- name: Where are we
  ferry.vmware.status:
    os_migrate_vmw_data_dir: /opt/os-migrate
  register: st
'''

RETURN = r'''
vms:
  description: One object per VM (name, phase, bytes_copied, bytes_total, volumes, ports, server, syncs, error, ...).
  returned: always
  type: list
  elements: dict
'''

if __name__ == '__main__':
    import json
    print(json.dumps({"failed": True, "msg": "ferry.vmware: the module binaries are not "
                      "installed: run ansible/build-collection.sh (see docs/ansible.md)"}))
