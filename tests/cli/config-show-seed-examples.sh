#!/bin/sh
# The seeds' example files work unchanged with `ferry config show`, and every
# password is masked in both output formats.
. "$FERRY_SRCDIR/tests/functions.sh"
S=$FERRY_SRCDIR/tests/data/seeds
for fmt in yaml json; do
    run_ferry 0 config show --format $fmt -e @$S/guide-secrets.yaml -e @$S/guide-vars.yaml
    expect_not_in "$TMP/out" "SecurePassword|openstack_password"
    expect_in "$TMP/out" "vcenter_password.*\*\*\*"
    expect_in "$TMP/out" "ubuntu-20.04-web"
    expect_not_in "$TMP/err" "unknown key"

    run_ferry 0 config show --format $fmt -e @$S/kit-secrets.yml -e @$S/kit-myvars.yml
    expect_not_in "$TMP/out" "password[^a-z].*(root|openstack)\"?$"
    expect_in "$TMP/out" "rhel-9.4-1"
    expect_not_in "$TMP/err" "unknown key"

    # The kit README's vars.yaml has "********" placeholders, which YAML reads
    # as a broken alias (Ansible refuses it too): a clear error with the place.
    run_ferry 2 config show --format $fmt -e @$S/kit-vars.yaml
    expect_in "$TMP/err" "kit-vars.yaml:1:[0-9]+: .*alias"
    sed 's/\*\*\*\**/placeholder-value/' $S/kit-vars.yaml > "$TMP/kit-vars.yaml"
    run_ferry 0 config show --format $fmt -e @"$TMP/kit-vars.yaml"
    expect_not_in "$TMP/out" ": \"?password\"?$"
    expect_in "$TMP/out" "VM Network"
done
# JSON output: passwords are exactly ***.
run_ferry 0 config show --format json -e @$S/guide-secrets.yaml -e @$S/guide-vars.yaml
[ "$(jq -r .vcenter_password "$TMP/out")" = "***" ] || fail "vcenter_password not masked"
[ "$(jq -r .dst_cloud.auth.password "$TMP/out")" = "***" ] || fail "dst_cloud password not masked"
[ "$(jq -r .dst_cloud.auth.username "$TMP/out")" = "admin" ] || fail "username lost"
[ "$(jq -r '.vms_list|length' "$TMP/out")" = "2" ] || fail "vms_list lost"
# The guide's prefixed CBT names are understood.
run_ferry 0 config show --format json -e @$S/cbt-vars.yaml
[ "$(jq -r .cbt_sync "$TMP/out")" = "true" ] || fail "import_workloads_cbt_sync not read"
[ "$(jq -r .local_disk_path "$TMP/out")" = "/srv/nfs" ] || fail "import_workloads_local_disk_path not read"
# -e key=value is a YAML scalar: a boolean here.
run_ferry 0 config show --format json -e skip_conversion=true
[ "$(jq -r '.skip_conversion|type' "$TMP/out")" = "boolean" ] || fail "skip_conversion=true not a boolean"
