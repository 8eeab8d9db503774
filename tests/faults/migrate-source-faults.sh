#!/bin/sh
# A flaky source during a migration: the lab's datastore downloads fail 1 %
# of the time (in turn an HTTP 503 and a body cut halfway with the
# connection closed) and wait a second another 1 % of the time
# (lab/vcsim/harness/faults.go: the lab's counterpart of nbdkit's error and
# delay filters on ferry's default disk source).  ferry migrate lab-multi
# retries what failed and finishes: exit 0, every volume equal to its disk
# byte for byte, the retries said in the log.  The figures (requests
# failed, delayed) are printed; the draws are seeded (FERRY_FAULT_SEED).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
. "$FERRY_SRCDIR/tests/faults/faults-functions.sh"
need_lab
VM=lab-multi
VC="$FERRY_SRCDIR/lab/vcsim/vcsim-lab"
LOG=$FERRY_LAB_DIR/vcsim/faults.log
faults_off () { "$VC" faults off 2>/dev/null || :; }
on_exit faults_off
end_clean () { clean_vm $VM; }
on_exit end_clean
clean_vm $VM

"$VC" faults error=1 delay=1 delay-ms=1000 seed="$FAULT_SEED" 2> /dev/null || fail "vcsim-lab faults"
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e disk_source=https -e skip_conversion=true --vm $VM
faults_off
errors=$(grep -c '^error-' "$LOG" || :)
cut=$(grep -c '^error-cut' "$LOG" || :)
delays=$(grep -c '^delay' "$LOG" || :)
echo "source faults injected: $errors failed requests ($cut cut, $((errors - cut)) HTTP 503), $delays delayed 1 s"
[ "$errors" -ge 1 ] || fail "no request failed: the test proved nothing (seed $FAULT_SEED)"
[ "$delays" -ge 1 ] || fail "no request was delayed: the test proved nothing (seed $FAULT_SEED)"
[ "$(jq -r .phase "$(state_of $VM)")" = done ] || fail "phase $(jq -r .phase "$(state_of $VM)")"
volumes_match_flat $VM "after a migration from a flaky source"
# The retries are visible to the operator.
grep -Eqi 'retr' "$TMP/err" "$(dirname "$(state_of $VM)")/migration.log" ||
    fail "nothing in the log says that reads were retried"
