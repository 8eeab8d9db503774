#!/bin/sh
# ferry run as the discover module, as Ansible runs a binary module
# (AnsiballZ_discover ARGS_FILE): one JSON object on stdout with the VMs,
# changed false, files written only outside check mode, unknown variables
# as warnings; bad credentials give failed with a clear msg and ferry's exit
# status in rc.  The password never shows: not in the result, not in
# ansible-playbook -vvv, not on any command line while the play runs.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/ansible/functions-ansible.sh"
need_lab
setup_collection

# Module arguments: the lab's vars and secrets, flat, plus Ansible's own.
python3 - "$FERRY_LAB_VARS" "$FERRY_LAB_SECRETS" "$TMP" > "$TMP/args" <<'PY'
import json, sys, yaml
a = yaml.safe_load(open(sys.argv[1]))
a.update(yaml.safe_load(open(sys.argv[2])))
a.update(os_migrate_vmw_data_dir=sys.argv[3] + "/data", vms=["lab-small-01", "lab-small-02"],
         _ansible_check_mode=False, _ansible_no_log=True, _ansible_verbosity=0,
         _ansible_module_name="ferry.vmware.discover")
print(json.dumps(a))
PY
ln -s "$COLL/plugins/modules/discover" "$TMP/AnsiballZ_discover"
run_cmd 0 "$TMP/AnsiballZ_discover" "$TMP/args"
[ ! -s "$TMP/err" ] || { cat "$TMP/err"; fail "the module wrote to stderr"; }
[ "$(jq -s 'length' "$TMP/out")" = 1 ] || fail "not exactly one JSON object on stdout"
jq -e '.changed == false and .failed == false and .rc == 0 and .msg == "2 VMs discovered"
       and ([.vms[].name] == ["lab-small-01", "lab-small-02"]) and (.vms[1].disks | length) == 2' \
    "$TMP/out" > /dev/null || { cat "$TMP/out"; fail "discover result"; }
[ -s "$TMP/data/lab-small-01/vm.json" ] || fail "discover wrote no vm.json"
expect_not_in "$TMP/out" "$FERRY_LAB_VCENTER_PASSWORD"

# Check mode: nothing written.  An unknown variable: a warning naming the key.
jq '._ansible_check_mode = true | .os_migrate_vmw_data_dir += "2" | .vcenter_hostnme = "x"' \
    "$TMP/args" > "$TMP/args2"
run_cmd 0 "$TMP/AnsiballZ_discover" "$TMP/args2"
[ ! -e "$TMP/data2" ] || fail "check mode wrote $TMP/data2"
jq -e '.changed == false and (.warnings | any(test("unknown key .vcenter_hostnme. \\(did you mean .vcenter_hostname.")))' \
    "$TMP/out" > /dev/null || { cat "$TMP/out"; fail "no warning for vcenter_hostnme"; }

# Bad credentials.
jq '.vcenter_password = "Wrong-Password-4242"' "$TMP/args" > "$TMP/bad"
run_cmd 1 "$TMP/AnsiballZ_discover" "$TMP/bad"
jq -e '.failed == true and .changed == false and .rc == 3
       and (.msg | test("was refused.*check vcenter_username and vcenter_password"))' \
    "$TMP/out" > /dev/null || { cat "$TMP/out"; fail "bad credentials result"; }
expect_not_in "$TMP/out" "Wrong-Password-4242"

# The explicit form, for scripts: ferry ansible-module MODULE ARGS_FILE.
run_ferry 0 ansible-module status "$TMP/args"
jq -e '.failed == false and .changed == false and (.vms | length) == 2' "$TMP/out" > /dev/null ||
    { cat "$TMP/out"; fail "ferry ansible-module status"; }

# Through ansible-playbook, secrets in the module's config with no_log:
# watch every command line while it runs.
cat > "$TMP/play.yml" <<'PLAY'
- hosts: localhost
  gather_facts: false
  tasks:
    - ferry.vmware.discover:
        config: "{{ {'vcenter_hostname': vcenter_hostname, 'vcenter_username': vcenter_username,
                     'vcenter_password': vcenter_password, 'vcenter_cacert': vcenter_cacert,
                     'vcenter_datacenter': vcenter_datacenter} }}"
        vms: [lab-small-03]
        write: false
      no_log: true
      register: found
    - ansible.builtin.copy:
        content: "{{ found | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
PLAY
watch_argv 0.02
ansible-playbook -vvv -i localhost, -c local "$TMP/play.yml" -e "@$FERRY_LAB_SECRETS" \
    -e "result_file=$TMP/result.json" > "$TMP/play.out" 2>&1 || { cat "$TMP/play.out"; fail "playbook failed"; }
stop_watch_argv
expect_in "$TMP/play.out" "AnsiballZ_discover"
grep -q "AnsiballZ_discover" "$TMP/ps.all" || echo "note: the module ran between two ps samples"
expect_not_in "$TMP/ps.all" "$FERRY_LAB_VCENTER_PASSWORD"
expect_not_in "$TMP/play.out" "$FERRY_LAB_VCENTER_PASSWORD"
jq -e '.failed == false and .changed == false and .vms[0].name == "lab-small-03"' "$TMP/result.json" \
    > /dev/null || { cat "$TMP/result.json"; fail "registered result"; }
expect_not_in "$TMP/result.json" "$FERRY_LAB_VCENTER_PASSWORD"
