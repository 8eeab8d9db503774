#!/bin/sh
# The table has totals, csv one row per VM, yaml the same data as json.
. "$FERRY_SRCDIR/tests/functions.sh"
need_lab
E="-e @$FERRY_LAB_SECRETS -e @$FERRY_LAB_VARS"
run_ferry 0 discover $E --no-write --format json
cp "$TMP/out" "$TMP/j"
[ "$(jq -r '[.[].name] | join(",")' "$TMP/j")" = "lab-linux-1disk,lab-multi" ] ||
    fail "vms_list order not kept"
run_ferry 0 discover $E --no-write --format yaml
/usr/bin/python3 -c 'import json,sys,yaml; a=yaml.safe_load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(a != b)' \
    "$TMP/out" "$TMP/j" || fail "yaml differs from json"
run_ferry 0 discover $E --no-write --format csv
[ "$(wc -l < "$TMP/out")" = 3 ] || fail "csv: header + 2 rows expected"
expect_in "$TMP/out" "^name,moref,power_state,num_cpu,memory_mb"
expect_in "$TMP/out" "^lab-multi,vm-[0-9]+,poweredOn,4,8192,efi,"
run_ferry 0 discover $E --no-write
expect_in "$TMP/out" "^Total: 2 VMs, 5 vCPUs, 9216 MiB memory, 3.8 GiB provisioned"
run_ferry 2 discover $E --no-write --format xml
expect_in "$TMP/err" "--format must be table, json, yaml or csv"
