#!/bin/sh
# The reference's way to run a migration outside Ansible: an args.json of
# its Go migrate module (user, password, server, vmname, cbtsync,
# skipconversion, osmdatadir, ...) with the cloud in OS_* variables;
# `ferry migrate --args args.json` copies the VM's disks to volumes (no
# ports, no instance, as that module), warns about unknown keys with the
# closest one, and refuses what it does not offer.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VM=lab-small-10
export FERRY_STATE_DIR=$TMP/data
cleanup () { clean_vm "$VM" -e "os_migrate_vmw_data_dir=$FERRY_STATE_DIR"; }
on_exit cleanup

# The cloud from OS_* variables, as the seeds' script exports them.
eval "$(python3 - "$FERRY_LAB_SECRETS" <<'PY'
import sys, yaml, shlex
c = yaml.safe_load(open(sys.argv[1]))["dst_cloud"]
a = c["auth"]
for env, v in [("OS_AUTH_URL", a["auth_url"]), ("OS_USERNAME", a["username"]),
               ("OS_PASSWORD", a["password"]), ("OS_PROJECT_NAME", a["project_name"]),
               ("OS_PROJECT_ID", a["project_id"]), ("OS_DOMAIN_NAME", a["user_domain_name"]),
               ("OS_USER_DOMAIN_NAME", a["user_domain_name"]),
               ("OS_PROJECT_DOMAIN_NAME", a.get("project_domain_name", "Default")),
               ("OS_REGION_NAME", c["region_name"])]:
    print("export %s=%s" % (env, shlex.quote(v)))
PY
)"
unset OS_CLOUD OS_CLIENT_CONFIG_FILE
cat > "$TMP/args.json" <<JSON
{
  "user": "$FERRY_LAB_VCENTER_USER",
  "password": "$FERRY_LAB_VCENTER_PASSWORD",
  "server": "$FERRY_LAB_VCENTER_HOST",
  "vmname": "$VM",
  "vddkpath": "/$FERRY_LAB_VCENTER_DATACENTER/vm/",
  "cbtsync": false,
  "skipconversion": true,
  "osmdatadir": "$FERRY_STATE_DIR",
  "instanceuuid": "$FERRY_LAB_CONVERSION_HOST_ID",
  "compression": "fastlz",
  "usesock": true,
  "vcenter_cacert": "$FERRY_LAB_VCENTER_CA"
}
JSON
cd "$TMP"
run_ferry 0 migrate --args args.json
expect_in "$TMP/err" "args.json: unknown key 'usesock' \(did you mean 'usesocks'\?\); it is ignored"
expect_in "$TMP/err" "'compression' has no effect"
expect_not_in "$TMP/err" "$FERRY_LAB_VCENTER_PASSWORD"
[ "$(jq -r .phase "$(state_of $VM)")" = done ] || fail "$VM not migrated"
[ "$(jq -r '.server.id // "none"' "$(state_of $VM)")" = none ] || fail "an instance was created"
[ "$(jq -r '.ports // [] | length' "$(state_of $VM)")" = 0 ] || fail "ports were created"
volumes_match_flat "$VM" "args.json"

# What ferry does not offer is refused before anything is done.
jq '.externalvolume = true' args.json > ext.json
run_ferry 2 migrate --args ext.json
expect_in "$TMP/err" "'externalvolume' is not supported by ferry"
