#!/usr/bin/python
# -*- coding: utf-8 -*-
# Documentation only: the module is the ferry binary (modules/migrate -> ferry).

DOCUMENTATION = r'''
module: migrate
short_description: Migrate, sync or cut over a set of VMware VMs to OpenStack
description:
  - Runs C(ferry migrate), C(ferry sync) or C(ferry cutover) for the
    selected VMs on this host (the conversion host), then reads each VM's
    outcome from ferry's state (C(ferry status)).
  - Idempotent, a VM already migrated is left alone; C(changed) is true iff
    some VM was migrated or synced in this run.
  - One VM's failure does not stop the others; the task fails if any VM
    failed and C(vms) says which.
  - In check mode, runs with C(--dry-run) and returns the plans; C(changed)
    is false.
version_added: 0.1.0
author: ferry developers
extends_documentation_fragment: ferry.vmware.common
options:
  mode:
    description:
      - C(cold) one-pass migration, C(sync) a CBT pre-sync with the VM
        running, C(cutover) the end of a warm migration.
      - Default from C(cbt_sync) and C(cutover) as os-migrate does.
    type: str
    choices: [cold, sync, cutover]
  parallel:
    description: How many VMs this host migrates at once (C(ferry_parallel)).
    type: int
  enable_cbt:
    description: Turn CBT on where it is off (warm modes).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Migrate this host's share
  ferry.vmware.migrate:
    config: "{{ ferry_vars }}"
    vms: [web-1, web-2]
    parallel: 2
  no_log: true
  register: migrated
'''

RETURN = r'''
mode:
  description: cold, sync or cutover.
  returned: always
  type: str
vms:
  description: One object per VM.
  returned: unless check mode
  type: list
  elements: dict
  contains:
    vm: {description: VM name, type: str}
    result: {description: ok or failed, type: str}
    changed: {description: migrated or synced in this run, type: bool}
    phase: {description: ferry's phase (done, synced, copying, ...), type: str}
    error: {description: what failed, type: str}
    seconds: {description: time taken (when changed), type: float}
    server: {description: Nova server id, type: str}
    bytes_copied: {description: bytes copied over all runs, type: int}
    volumes: {description: Cinder volumes by VMware disk key, type: dict}
plans:
  description: The plan per VM (check mode).
  returned: check mode
  type: list
  elements: dict
'''

if __name__ == '__main__':
    import json
    print(json.dumps({"failed": True, "msg": "ferry.vmware: the module binaries are not "
                      "installed: run ansible/build-collection.sh (see docs/ansible.md)"}))
