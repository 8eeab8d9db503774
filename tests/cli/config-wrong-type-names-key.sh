#!/bin/sh
# A value of the wrong type: the error names the file, the key and what was
# expected; exit 2.
. "$FERRY_SRCDIR/tests/functions.sh"
printf 'use_existing_flavor: sometimes\nnetwork_map: [a]\n' > "$TMP/vars.yml"
run_ferry 2 config show -e @"$TMP/vars.yml"
expect_in "$TMP/err" "$TMP/vars.yml: key 'use_existing_flavor': expected a boolean"
expect_in "$TMP/err" "$TMP/vars.yml: key 'network_map': expected a mapping"
run_ferry 2 config show -e vms_list='{a: 1}'
expect_in "$TMP/err" "-e: key 'vms_list': expected a list of strings"
# A secret of the wrong type is not echoed.
run_ferry 2 config show -e 'vcenter_password=[hunter22]'
expect_not_in "$TMP/err" "hunter22"
