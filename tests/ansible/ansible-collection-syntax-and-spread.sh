#!/bin/sh
# The collection without the lab: the playbook and the installation role
# pass ansible-playbook --syntax-check, every module has documentation
# ansible-doc reads, spread_vms deals VMs round robin and honours ferry_vms
# pins, and a collection whose binary is missing says how to fix it.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/ansible/functions-ansible.sh"
setup_collection
cat > "$TMP/inventory.yml" <<'INV'
migrator:
  hosts:
    localhost:
      ansible_connection: local
conversion_host:
  hosts:
    conv-a:
      ansible_connection: local
INV
run_cmd 0 ansible-playbook --syntax-check -i "$TMP/inventory.yml" ferry.vmware.migration
cat > "$TMP/role.yml" <<'PLAY'
- hosts: conversion_host
  roles: [ferry.vmware.conversion_host]
PLAY
run_cmd 0 ansible-playbook --syntax-check -i "$TMP/inventory.yml" "$TMP/role.yml"

for m in discover check migrate status teardown; do
    run_cmd 0 ansible-doc -t module "ferry.vmware.$m"
    expect_in "$TMP/out" "EXAMPLES|RETURN VALUES"
done

# spread_vms: round robin over the hosts that pin nothing; pins kept.
ansible localhost -c local -o -m ansible.builtin.debug -a \
  'msg={{ ["v1","v2","v3","v4","v5"] | ferry.vmware.spread_vms(["a","b","c"], {"c": ["v5"]}) | to_json }}' \
  > "$TMP/spread" 2>&1 || { cat "$TMP/spread"; fail "spread_vms failed"; }
spread_is () { grep -qF "$1" "$TMP/spread" || { cat "$TMP/spread"; fail "spread_vms: expected $1"; }; }
spread_is '{\"a\": [\"v1\", \"v3\"], \"b\": [\"v2\", \"v4\"], \"c\": [\"v5\"]}'
ansible localhost -c local -o -m ansible.builtin.debug -a \
  'msg={{ ["v1","v2","v3"] | ferry.vmware.spread_vms(["a","b"]) | to_json }}' > "$TMP/spread" 2>&1
spread_is '{\"a\": [\"v1\", \"v3\"], \"b\": [\"v2\"]}'
ansible localhost -c local -o -m ansible.builtin.debug -a \
  'msg={{ ["v1"] | ferry.vmware.spread_vms(["a","b"], {"a": ["v1"], "b": ["v1"]}) }}' > "$TMP/spread" 2>&1 &&
    fail "a VM pinned to two hosts was accepted"
expect_in "$TMP/spread" "VM v1 is pinned to both a and b"

# Without the binary, the documentation stub answers with what to do.
rm "$COLL/plugins/modules/ferry"
ansible localhost -c local -m ferry.vmware.status > "$TMP/missing" 2>&1 && fail "status ran without ferry"
expect_in "$TMP/missing" "module binaries are not installed: run ansible/build-collection.sh"
