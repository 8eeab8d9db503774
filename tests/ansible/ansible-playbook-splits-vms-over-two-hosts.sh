#!/bin/sh
# The migration playbook with the seeds' inventory format, vars.yml and
# secrets.yml (the lab's): two conversion hosts (this machine under two
# names, each with its own data dir; conv-a with Ansible's local
# connection, conv-b over SSH through a private sshd, as a remote host is
# reached: the module and its arguments copied over, nothing of the
# controller's environment) split vms_list round robin; each VM is migrated
# exactly once, by its host, byte for byte; the summary lists every VM; a
# rerun changes nothing; the vCenter password is in no process's argv and
# in no file left in the SSH user's temporary directory.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
. "$FERRY_SRCDIR/tests/ansible/functions-ansible.sh"
need_lab
setup_collection
start_sshd
A=$TMP/conv-a B=$TMP/conv-b
VMS="lab-small-06 lab-small-07 lab-small-08 lab-small-09"
cleanup () {
    for vm in $VMS; do
        clean_vm "$vm" -e "os_migrate_vmw_data_dir=$A"
        clean_vm "$vm" -e "os_migrate_vmw_data_dir=$B"
    done
}
on_exit cleanup

# vars.yml as the lab writes it, with our VMs; the data dir comes from each
# host of the inventory (extra vars would override host vars).
# shellcheck disable=SC2086 # one argument per VM
python3 - "$FERRY_LAB_VARS" "$TMP/vars.yml" $VMS <<'PY'
import sys, yaml
v = yaml.safe_load(open(sys.argv[1]))
v.pop("os_migrate_vmw_data_dir", None)
v["vms_list"] = sys.argv[3:]
v["skip_conversion"] = True
yaml.safe_dump(v, open(sys.argv[2], "w"))
PY
cat > "$TMP/inventory.yml" <<INV
migrator:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
      os_migrate_vmw_data_dir: $TMP/migrator
conversion_host:
  vars:
    ferry_install: false
    ferry_parallel: 2
  hosts:
    conv-a:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
      os_migrate_vmw_data_dir: $A
    conv-b:
$(ssh_host_vars 6)
      os_migrate_vmw_data_dir: $B
INV

play () {
    ansible-playbook -i "$TMP/inventory.yml" ferry.vmware.migration \
        -e "@$FERRY_LAB_SECRETS" -e "@$TMP/vars.yml" > "$TMP/$1" 2>&1 ||
        { cat "$TMP/$1"; fail "ansible-playbook ($1) failed"; }
}
watch_argv 0.1
play run1
stop_watch_argv
expect_not_in "$TMP/run1" "vcenter_password|$FERRY_LAB_VCENTER_PASSWORD"
# conv-b's module ran through sshd; what it left behind holds no secret.
grep -q "sshd: root" "$TMP/ps.all" || fail "no SSH session was seen during the play"
grep -Eq "AnsiballZ_migrate" "$TMP/ps.all" || echo "note: the modules ran between two ps samples"
expect_not_in "$TMP/ps.all" "$FERRY_LAB_VCENTER_PASSWORD"
! grep -rqF -- "$FERRY_LAB_VCENTER_PASSWORD" "$TMP/.ansible-remote" "$B" 2>/dev/null ||
    fail "the vCenter password is in a file on conv-b: $(grep -rlF -- "$FERRY_LAB_VCENTER_PASSWORD" "$TMP/.ansible-remote" "$B")"

# Round robin in vms_list order: conv-a 06, 08; conv-b 07, 09.
for vm in $VMS; do
    case $vm in lab-small-06|lab-small-08) mine=$A other=$B host=conv-a ;;
                *) mine=$B other=$A host=conv-b ;; esac
    [ "$(FERRY_STATE_DIR=$mine; jq -r .phase "$(state_of "$vm")")" = "done" ] ||
        fail "$vm: not migrated by $host"
    [ ! -e "$other/$vm/ferry-state.json" ] || fail "$vm: also touched by the other host"
    FERRY_STATE_DIR=$mine volumes_match_flat "$vm" "playbook"
    uuid=$(FERRY_STATE_DIR=$mine; jq -r .uuid "$(state_of "$vm")")
    disks=$(jq --arg vm "$vm" '[.vms[] | select(.name == $vm) | .disks[]] | length' "$FERRY_LAB_VCENTER_LABJSON")
    [ "$(volumes_of_uuid "$uuid")" = "$disks" ] || fail "$vm: $(volumes_of_uuid "$uuid") volumes for $disks disks"
    expect_in "$TMP/run1" "\"$vm +$host +ok +True +[0-9.]+ "
done

# Rerun: nothing to do anywhere.
play run2
for vm in $VMS; do expect_in "$TMP/run2" "\"$vm +conv-[ab] +ok +False "; done
expect_in "$TMP/run2" "^conv-a +: ok=[0-9]+ +changed=0 .*failed=0"
expect_in "$TMP/run2" "^conv-b +: ok=[0-9]+ +changed=0 .*failed=0"
expect_in "$TMP/run2" "^localhost +: ok=[0-9]+ +changed=0 .*failed=0"
