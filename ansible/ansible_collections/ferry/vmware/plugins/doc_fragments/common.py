# -*- coding: utf-8 -*-
# Options every ferry.vmware module takes.


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  vms:
    description:
      - Names of the VMware VMs to work on.
      - Defaults to C(vms_list).
    type: list
    elements: str
  config:
    description:
      - ferry's variables as one dictionary, exactly as in os-migrate's
        C(vars.yaml) and C(secrets.yml) (vcenter_hostname, vcenter_username,
        vcenter_password, dst_cloud, os_migrate_vmw_data_dir, vms_list,
        network_map, ...).  C(ferry config keys) lists them all.
      - Any of these variables may also be given as a module argument of its
        own; those win over C(config).
      - Holds secrets, so set C(no_log) on the task; the module result never
        contains them.
    type: dict
notes:
  - The module is the ferry binary, run as an Ansible binary module (see
    docs/ansible.md).  ferry's runtime dependencies must be installed on the
    managed host (role C(ferry.vmware.conversion_host)).
  - Arguments are not checked by Ansible; ferry warns about unknown
    variables (with the closest known name) in C(warnings).
  - Every result has C(rc) (ferry's exit status, see C(ferry --help)),
    C(stderr) (ferry's log, secrets masked), C(warnings) and C(msg).
'''
