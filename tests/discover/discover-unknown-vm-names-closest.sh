#!/bin/sh
# A VM that doesn't exist: an error listing the closest names, exit 1; the
# VMs that do exist are still reported (nothing skipped silently).
. "$FERRY_SRCDIR/tests/functions.sh"
need_lab
run_ferry 1 discover -e @"$FERRY_LAB_SECRETS" --vm lab-mutli --vm lab-windows --no-write --format json
expect_in "$TMP/err" "VM 'lab-mutli' not found in vCenter; closest: lab-multi"
[ "$(jq -r '.[].name' "$TMP/out")" = lab-windows ] || fail "lab-windows missing from output"
run_ferry 2 discover -e @"$FERRY_LAB_SECRETS" --no-write
expect_in "$TMP/err" "no VMs selected"
