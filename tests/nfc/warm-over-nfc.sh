#!/bin/sh
# A warm migration with disk_source: nfc: ferry sync of lab-multi (running),
# the guest writes to two disks, ferry sync again, the guest writes, ferry
# cutover.  Each pass reads its snapshot's point-in-time disks over NFC
# (the lab keeps what the guest overwrote after a snapshot): after each
# pass every volume equals its flat file, and the deltas are exactly the
# written 64 KiB blocks.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
E="$(E_LAB) -e skip_conversion=true -e disk_source=nfc --vm lab-multi"
# shellcheck disable=SC2086
run_ferry 0 rollback $E
S=$(state_of lab-multi)
# shellcheck disable=SC2086
roll_back () { "$FERRY" rollback $E > /dev/null 2>&1; }
on_exit roll_back

# shellcheck disable=SC2086
run_ferry 0 sync $E
expect_in "$TMP/err" "from NFC to"
volumes_match_flat lab-multi "sync 1 over NFC"
"$FERRY_SRCDIR"/lab/lab guest-write lab-multi 0 $((5 * 1048576 + 1000)) 71000 17 > /dev/null
"$FERRY_SRCDIR"/lab/lab guest-write lab-multi 1 $((100 * 1048576)) 4096 18 > /dev/null
# shellcheck disable=SC2086
run_ferry 0 sync $E
volumes_match_flat lab-multi "sync 2 over NFC"
[ "$(jq -r '.syncs[1].bytes_copied' "$S")" = $((3 * 65536)) ] ||
    fail "sync 2 copied $(jq -r '.syncs[1].bytes_copied' "$S") bytes, expected 3 blocks of 64 KiB"
"$FERRY_SRCDIR"/lab/lab guest-write lab-multi 2 0 65536 19 > /dev/null
# shellcheck disable=SC2086
run_ferry 0 cutover $E -e force_power_off=true -e shutdown_timeout=5
volumes_match_flat lab-multi "cutover over NFC"
[ "$(jq -r '.syncs[2].bytes_copied' "$S")" = 65536 ] ||
    fail "cutover copied $(jq -r '.syncs[2].bytes_copied' "$S") bytes, expected one 64 KiB block"
[ "$(jq -r .phase "$S")" = done ] || fail "phase after cutover: $(jq -r .phase "$S")"
[ "$(jq -r '[.volumes[] | .source] | unique | join(",")' "$S")" = nfc ] ||
    fail "the state does not record nfc: $(jq -c '[.volumes[] | .source]' "$S")"
