#!/bin/sh
# A warm migration of three VMs at once: ferry migrate -e cbt_sync=true
# --parallel 3 (os-migrate's way to start one: a full sync of the allocated
# areas, no server), the guests write, ferry sync --parallel 3, the guests
# write again, ferry cutover --parallel 3.  The three VMs run at once in
# every pass; after each pass every volume equals its flat file; the sync
# and the cutover copy exactly the 64 KiB CBT blocks the guests wrote --
# per VM in the state's syncs and per disk in the report -- and nothing on
# a VM whose guest wrote nothing; after the cutover each VM has a server
# ACTIVE, its source is powered off with no snapshot of ferry's left.
# Rollback at the end (and at the start) deletes the destination and
# powers the VMs on again.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VMS="lab-small-01 lab-small-02 lab-small-03"
SEL=""
for v in $VMS; do SEL="$SEL --vm $v"; done
E="$(E_LAB) -e skip_conversion=true $SEL"
B=65536
roll_back () {
    # shellcheck disable=SC2086
    "$FERRY" rollback $E > "$TMP/rollback.out" 2>&1 || { cat "$TMP/rollback.out"; fail "rollback failed"; }
}
roll_back
on_exit roll_back
for v in $VMS; do
    [ "$(volumes_of_uuid "$(jq -r --arg v "$v" '.vms[] | select(.name == $v) | .uuid' "$FERRY_LAB_DIR/vcsim/lab.json")")" = 0 ] ||
        fail "$v: volumes left before the test"
done

# pass LABEL KIND: after a pass (its events in $TMP/events-LABEL.json,
# report $TMP/report-LABEL.json): the three VMs ran at once and ended ok,
# each phase is KIND's, each volume equals its flat file.
pass_ok () {
    _ev=$TMP/events-$1.json
    jq -e . "$_ev" > /dev/null || fail "$1: events file: not one JSON object per line"
    [ "$(jq -r 'select(.event == "vm-start" or .event == "vm-done") | .event' "$_ev" | head -3 | sort -u)" = vm-start ] ||
        fail "$1: the three VMs did not run at once: $(grep -E 'vm-(start|done)' "$_ev")"
    for v in $VMS; do
        [ "$(jq -r --arg v "$v" '.[] | select(.vm == $v) | .result' "$TMP/report-$1.json")" = ok ] ||
            fail "$1: report: $v not ok"
        [ "$(jq -r .phase "$(state_of "$v")")" = "$2" ] ||
            fail "$1: $v phase $(jq -r .phase "$(state_of "$v")"), expected $2"
        volumes_match_flat "$v" "$1"
    done
}
# copied VM PASS BYTES: pass PASS (0-based) of VM copied BYTES, all changed.
copied () {
    _s=$(state_of "$1")
    [ "$(jq -r --argjson p "$2" '.syncs[$p].bytes_copied' "$_s")" = "$3" ] ||
        fail "$1: pass $2 copied $(jq -r --argjson p "$2" '.syncs[$p].bytes_copied' "$_s") bytes, expected $3"
    [ "$(jq -r --argjson p "$2" '.syncs[$p].bytes_changed' "$_s")" = "$3" ] ||
        fail "$1: pass $2: bytes_changed $(jq -r --argjson p "$2" '.syncs[$p].bytes_changed' "$_s"), expected $3"
}
# report_bytes LABEL VM DISK: the bytes the report gives for a disk (0 if
# the disk had nothing to copy and so no entry).
report_bytes () {
    jq -r --arg v "$2" --argjson k "$3" \
        '[.[] | select(.vm == $v) | .disks[] | select(.disk == $k) | .bytes] | add // 0' "$TMP/report-$1.json"
}

# Pass 1: the full sync, three at once.
# shellcheck disable=SC2086
run_ferry 0 migrate $E -e cbt_sync=true --parallel 3 --events "$TMP/events-full.json" \
    --report "$TMP/report-full.json"
pass_ok full synced
for v in $VMS; do
    [ "$(jq -r '.server.id // empty' "$(state_of "$v")")" = "" ] || fail "$v: a sync made a server"
    [ "$(jq -r '.syncs | length' "$(state_of "$v")")" = 1 ] || fail "$v: not one sync recorded"
done

# The guests write, inside the disks' data (1 MiB at every 4 MiB): 71000
# bytes at 8 MiB + 1000 on 01 (two blocks); 4 KiB at 20 MiB on 02's first
# disk (one block), 1000 bytes across a block boundary on its second (two);
# 192 KiB at 100 MiB on 03 (three blocks).
"$FERRY_SRCDIR"/lab/lab guest-write lab-small-01 0 $((8 * 1048576 + 1000)) 71000 21 > /dev/null
"$FERRY_SRCDIR"/lab/lab guest-write lab-small-02 0 $((20 * 1048576)) 4096 22 > /dev/null
"$FERRY_SRCDIR"/lab/lab guest-write lab-small-02 1 $((12 * 1048576 + 65000)) 1000 23 > /dev/null
"$FERRY_SRCDIR"/lab/lab guest-write lab-small-03 0 $((100 * 1048576)) $((3 * B)) 24 > /dev/null
# shellcheck disable=SC2086
run_ferry 0 sync $E --parallel 3 --events "$TMP/events-sync.json" --report "$TMP/report-sync.json"
pass_ok sync synced
copied lab-small-01 1 $((2 * B))
copied lab-small-02 1 $((3 * B))
copied lab-small-03 1 $((3 * B))
[ "$(report_bytes sync lab-small-01 2000)" = $((2 * B)) ] || fail "sync report: lab-small-01 disk 2000"
[ "$(report_bytes sync lab-small-02 2000)" = "$B" ] || fail "sync report: lab-small-02 disk 2000"
[ "$(report_bytes sync lab-small-02 2001)" = $((2 * B)) ] || fail "sync report: lab-small-02 disk 2001"
[ "$(report_bytes sync lab-small-03 2000)" = $((3 * B)) ] || fail "sync report: lab-small-03 disk 2000"

# Again, on 01 and on 02's second disk; 03's guest writes nothing.
"$FERRY_SRCDIR"/lab/lab guest-write lab-small-01 0 $((40 * 1048576)) "$B" 25 > /dev/null
"$FERRY_SRCDIR"/lab/lab guest-write lab-small-02 1 $((16 * 1048576 + 4096)) 8192 26 > /dev/null
# shellcheck disable=SC2086
run_ferry 0 cutover $E --parallel 3 -e force_power_off=true -e shutdown_timeout=5 \
    --events "$TMP/events-cutover.json" --report "$TMP/report-cutover.json"
pass_ok cutover "done"
copied lab-small-01 2 "$B"
copied lab-small-02 2 "$B"
copied lab-small-03 2 0
[ "$(report_bytes cutover lab-small-01 2000)" = "$B" ] || fail "cutover report: lab-small-01 disk 2000"
[ "$(report_bytes cutover lab-small-02 2000)" = 0 ] || fail "cutover report: lab-small-02 disk 2000"
[ "$(report_bytes cutover lab-small-02 2001)" = "$B" ] || fail "cutover report: lab-small-02 disk 2001"
[ "$(report_bytes cutover lab-small-03 2000)" = 0 ] || fail "cutover report: lab-small-03 disk 2000"
# shellcheck disable=SC2046,SC2086
run_ferry 0 discover $(E_LAB) $SEL --no-write --format json
cp "$TMP/out" "$TMP/discover.json"
for v in $VMS; do
    S=$(state_of "$v")
    echo "$v: $(jq -r '[.syncs[] | "\(.kind) \(.bytes_copied) B in \(.duration_s | floor) s"] | join(", ")' "$S")"
    [ "$(jq -r '[.syncs[].kind] | join(" ")' "$S")" = "sync sync cutover" ] ||
        fail "$v: passes $(jq -r '[.syncs[].kind] | join(" ")' "$S")"
    "$OSAPI" GET compute "/servers/$(jq -r .server.id "$S")" | jq -e '.server.status == "ACTIVE"' > /dev/null ||
        fail "$v: server not ACTIVE after the cutover"
    ports_match_lab "$v" cutover
    [ "$(jq -r --arg v "$v" '.[] | select(.name == $v) | .power_state' "$TMP/discover.json")" = poweredOff ] ||
        fail "$v: source not left powered off"
    [ "$(jq -r --arg v "$v" '[.[] | select(.name == $v) | .snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/discover.json")" = 0 ] ||
        fail "$v: ferry's snapshot left behind"
done
