# -*- coding: utf-8 -*-
"""ferry.vmware.spread_vms: which conversion host migrates which VM."""

from ansible.errors import AnsibleFilterError


def spread_vms(vms, hosts, pinned=None):
    """Assign each VM of vms to one of hosts.

    pinned maps a host to the VMs it must migrate (the host variable
    ferry_vms).  Pinned VMs go to their host; the others are dealt round
    robin, in vms_list order, over the hosts that pin nothing (over all
    hosts if every host pins some).  Returns {host: [vm, ...]} with every
    host present.
    """
    vms = list(vms or [])
    hosts = list(hosts or [])
    pinned = dict(pinned or {})
    if not hosts:
        raise AnsibleFilterError("spread_vms: no conversion hosts (inventory group conversion_host is empty)")
    out = {h: [] for h in hosts}
    owner = {}
    for h, lst in pinned.items():
        if h not in out:
            raise AnsibleFilterError("spread_vms: ferry_vms set for %s, which is not a conversion host" % h)
        if isinstance(lst, str):
            lst = [lst]
        for vm in lst or []:
            if vm in owner and owner[vm] != h:
                raise AnsibleFilterError("spread_vms: VM %s is pinned to both %s and %s (ferry_vms)"
                                         % (vm, owner[vm], h))
            owner[vm] = h
    free = [h for h in hosts if not pinned.get(h)] or hosts
    i = 0
    for vm in vms:
        if vm in owner:
            continue
        owner[vm] = free[i % len(free)]
        i += 1
    # Pinned VMs keep their ferry_vms order; the rest the order of vms_list.
    for h, lst in pinned.items():
        for vm in ([lst] if isinstance(lst, str) else lst or []):
            if vm not in out[h]:
                out[h].append(vm)
    for vm in vms:
        if owner[vm] not in pinned or not pinned.get(owner[vm]):
            out[owner[vm]].append(vm)
    return out


def summary_line(row):
    """One line of the migration summary for a row {vm, host, result, changed, seconds, error}."""
    return '%-28s %-20s %-8s %-8s %8s  %s' % (row.get('vm', ''), row.get('host', ''), row.get('result', ''),
                                              row.get('changed', ''), row.get('seconds', '-'),
                                              row.get('error', '') or '')


class FilterModule(object):
    def filters(self):
        return {'spread_vms': spread_vms, 'summary_line': summary_line}
