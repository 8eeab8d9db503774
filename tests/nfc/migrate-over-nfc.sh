#!/bin/sh
# ferry migrate with disk_source: nfc: lab-multi (running, three disks)
# migrated cold, its disks read from the snapshot over NFC by ferry's own
# nbdkit nfc plugin (vCenter ticket, authd on the lab's NFC port, nbdssl):
# every volume equals its flat file, the log and the state say NFC, the
# lab's NFC server saw the three disks opened through tickets, and the
# vCenter password is in no process's argv, no log and no state file.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VM=lab-multi
S=$(state_of $VM)
PW=$FERRY_LAB_VCENTER_PASSWORD
[ -n "$PW" ] || fail "the lab exports no vCenter password"
ACCESS=$FERRY_LAB_DIR/vcsim/nfc-access.log
clean_vm $VM
watcher=
clean_up () { [ -z "$watcher" ] || kill $watcher 2>/dev/null; clean_vm $VM; }
on_exit clean_up
opened_before=$(grep -c " open conn=" "$ACCESS" 2>/dev/null || echo 0)

# Every process's argv while ferry runs (the password must be in none).
( while :; do ps -eo args= >> "$TMP/argv.txt" 2>/dev/null; sleep 0.2; done ) &
watcher=$!
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true -e disk_source=nfc --vm $VM
kill $watcher 2>/dev/null; wait $watcher 2>/dev/null || :
watcher=

volumes_match_flat $VM "over NFC"
[ "$(grep -c "copying .* from NFC to" "$TMP/err")" = 3 ] || { cat "$TMP/err"; fail "not 3 disks copied from NFC"; }
[ "$(jq -r '[.volumes[] | .source] | unique | join(",")' "$S")" = nfc ] ||
    fail "the state does not record nfc as the disks' source: $(jq -c '[.volumes[] | .source]' "$S")"
grep -q "nbdkit.*nfc.*vm=moref=.*snapshot=" "$TMP/argv.txt" ||
    fail "no nbdkit nfc reading a snapshot was seen in the process list"
opened=$(( $(grep -c " open conn=" "$ACCESS" 2>/dev/null || echo 0) - opened_before ))
[ "$opened" -ge 3 ] || fail "the lab's NFC server saw $opened opens (3 disks)"
if grep -qF -- "$PW" "$TMP/argv.txt"; then fail "the vCenter password was in a process's argv"; fi
if grep -rqF -- "$PW" "$TMP/err" "$TMP/out" "$FERRY_LAB_DIR/data/$VM/"; then
    fail "the vCenter password was written to a log or a state file"
fi
