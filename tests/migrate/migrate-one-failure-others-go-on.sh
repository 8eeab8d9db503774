#!/bin/sh
# Several VMs: one that fails (lab-blocked: an independent disk is a
# blocker) does not stop the others (lab-multi is migrated); the summary
# lists each VM's outcome and the exit status is 1.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
clean_vm lab-multi
# shellcheck disable=SC2046
run_ferry 1 migrate $(E_LAB) -e skip_conversion=true --vm lab-blocked --vm lab-multi
expect_in "$TMP/err" "VM lab-blocked: refused: resolve the blockers"
expect_in "$TMP/err" "^lab-blocked +failed"
expect_in "$TMP/err" "^lab-multi +ok"
expect_in "$TMP/err" "2 VMs: 1 migrated, 1 failed, 0 not found"
[ "$(jq -r .phase "$(state_of lab-multi)")" = done ] || fail "lab-multi not migrated"
volumes_match_flat lab-multi "after a sibling's failure"
clean_vm lab-multi
