#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation only: the module is the ferry binary (modules/check -> ferry).

DOCUMENTATION = r'''
module: check
short_description: Check both sides before migrating
description:
  - Runs C(ferry check) for the selected VMs (credentials, privileges,
    reachability, quotas, conversion host tools).
  - Fails if any check fails; warnings become Ansible warnings.  Never
    reports C(changed).
version_added: 0.1.0
author: ferry developers
extends_documentation_fragment: ferry.vmware.common
options:
  warm:
    description: A warm migration is planned (CBT off is a failure).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Pre-flight checks
  ferry.vmware.check:
    config: "{{ ferry_vars }}"
  no_log: true
'''

RETURN = r'''
checks:
  description: One row per check, as C(ferry check --format json).
  returned: always
  type: list
  elements: dict
  sample: [{"status": "pass", "check": "vcenter-login", "target": "vc1", "detail": "..."}]
'''

if __name__ == '__main__':
    import json
    print(json.dumps({"failed": True, "msg": "ferry.vmware: the module binaries are not "
                      "installed: run ansible/build-collection.sh (see docs/ansible.md)"}))
