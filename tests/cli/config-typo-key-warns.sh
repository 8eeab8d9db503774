#!/bin/sh
# A typo'd key is a warning naming the closest known key (not an error).
. "$FERRY_SRCDIR/tests/functions.sh"
printf 'vms_lst:\n  - a\nimport_workloads_cbt_snyc: true\n' > "$TMP/vars.yml"
run_ferry 0 config show -e @"$TMP/vars.yml"
expect_in "$TMP/err" "unknown key 'vms_lst' \(did you mean 'vms_list'\?\)"
expect_in "$TMP/err" "unknown key 'import_workloads_cbt_snyc' \(did you mean 'import_workloads_cbt_sync'\?\)"
