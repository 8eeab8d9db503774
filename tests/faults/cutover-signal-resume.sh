#!/bin/sh
# The cutover interrupted anywhere: lab-small-08 (two disks) is synced warm,
# its guest writes, and `ferry cutover` (power-off, last delta, instance) is
# stopped by SIGTERM or kill -9 at a seeded point of its whole run -- before,
# during or after the power-off, the snapshot, the copy or the instance --
# then run again.  The rerun exits 0 with the phase "done", every volume
# equal to its disk byte for byte, one server, one port per MAC, no ferry
# snapshot on the source, nothing attached to the conversion host and no
# extra volume.  The points are spread over the length of an undisturbed
# cutover measured first.  A table of the figures ends the output.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
FAULT_DEFAULT_POINTS=1
. "$FERRY_SRCDIR/tests/faults/faults-functions.sh"
need_lab
VM=lab-small-08
MAC=00:50:56:aa:10:08
E="$(E_LAB) -e skip_conversion=true -e force_power_off=true -e shutdown_timeout=5 --vm $VM"
S=$(state_of $VM)
CH=$(jq -r .conversion_host.id "$FERRY_LAB_DIR/openstack/lab.json")
roll_back () {
    # shellcheck disable=SC2086
    "$FERRY" rollback $E > "$TMP/rollback.out" 2>&1 || { cat "$TMP/rollback.out"; fail "rollback failed"; }
    clean_vm $VM
}
cbt_off () { "$FERRY_SRCDIR/tests/tools/vsphere-props.py" --set-cbt $VM false > /dev/null; }
on_exit cbt_off
on_exit roll_back
roll_back

# A warm start: the full sync, then the guest writes 4 MiB at a seeded place
# on each disk (so that the cutover has a delta to copy).
warm_start () {
    roll_back
    # shellcheck disable=SC2086
    run_ferry 0 migrate $E -e cbt_sync=true -e enable_cbt=true
    [ "$(jq -r .phase "$S")" = synced ] || fail "the full sync ended in phase $(jq -r .phase "$S")"
    "$FERRY_SRCDIR"/lab/lab guest-write $VM 0 $(( $(fault_int "$1" 100) * 4194304 )) 4194304 "$1" > /dev/null
    "$FERRY_SRCDIR"/lab/lab guest-write $VM 1 $(( $(fault_int "$1" 50) * 4194304 )) 4194304 "$1" > /dev/null
}
# What is left after a finished cutover besides what should be there; 0 or
# the count of findings (each printed).
leftovers () {
    _bad=0
    # shellcheck disable=SC2046
    "$FERRY" discover $(E_LAB) --vm $VM --no-write --format json > "$TMP/d.json" 2>/dev/null ||
        fail "discover $VM"
    _n=$(jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/d.json")
    _a=$("$OSAPI" GET compute "/servers/$CH/os-volume_attachments" | jq '.volumeAttachments | length')
    _v=$(volumes_of_uuid "$(jq -r .uuid "$S")")
    _p=$("$OSAPI" GET network "/ports?mac_address=$MAC" | jq '.ports | length')
    _s=$("$OSAPI" GET compute "/servers?name=^$VM\$" | jq '.servers | length')
    [ "$_n" = 0 ] || { echo "$1: $_n ferry snapshots on the source"; _bad=$((_bad + 1)); }
    [ "$_a" = 0 ] || { echo "$1: $_a volumes attached to the conversion host"; _bad=$((_bad + 1)); }
    [ "$_v" = 2 ] || { echo "$1: $_v volumes for 2 disks"; _bad=$((_bad + 1)); }
    [ "$_p" = 1 ] || { echo "$1: $_p ports with the MAC $MAC"; _bad=$((_bad + 1)); }
    [ "$_s" = 1 ] || { echo "$1: $_s servers named $VM"; _bad=$((_bad + 1)); }
    echo $_bad > "$TMP/leftovers"
}
# Volumes that differ from their disks (0 when all match).
mismatches () {
    ( volumes_match_flat $VM "$1" ) > "$TMP/match.out" 2>&1 && echo 0 && return
    cat "$TMP/match.out" >&2; echo 1
}

# An undisturbed cutover: its length bounds the interruption points.
warm_start 0
t0=$(date +%s%N)
# shellcheck disable=SC2086
run_ferry 0 cutover $E
t1=$(date +%s%N)
[ "$(jq -r .phase "$S")" = done ] || fail "the cutover ended in phase $(jq -r .phase "$S")"
[ "$(mismatches undisturbed)" = 0 ] || fail "the undisturbed cutover's volumes differ from the disks"
leftovers undisturbed; [ "$(cat "$TMP/leftovers")" = 0 ] || fail "the undisturbed cutover left something behind"
# The points: within the first 70 % of it (a run takes a little longer or
# shorter each time; a point after the end interrupts nothing).
span_ms=$(( (t1 - t0) / 1000000 * 7 / 10 ))
echo "an undisturbed cutover takes $(( (t1 - t0) / 1000000 )) ms: points are spread over its first $span_ms ms"

rows="" total_bad=0 total_left=0 point=0
for sig in ${FERRY_FAULT_SIGNALS:-TERM KILL}; do
    recovered=0 bad=0 left=0 early=0
    for i in $(seq "$FAULT_POINTS"); do
        point=$((point + 1))
        warm_start $point
        # shellcheck disable=SC2086
        "$FERRY" cutover $E > "$TMP/run1.out" 2> "$TMP/run1.err" &
        pid=$!
        d=$(fault_delay $point 50 "$span_ms")
        sleep "$d"
        kill -"$sig" $pid 2>/dev/null || :
        rc=0; wait $pid || rc=$?
        echo "SIG$sig point $i: $d s into the cutover (phase reached: $(jq -r .phase "$S" 2>/dev/null)): exit $rc"
        case $sig:$rc in
            KILL:137|TERM:130) ;;
            *:0) early=$((early + 1)) ;;    # it had finished before the signal
            *) cat "$TMP/run1.err"; fail "SIG$sig point $i: exit $rc (expected 130, 137 or 0)" ;;
        esac
        [ "$rc" != 130 ] || expect_in "$TMP/run1.err" "interrupted"
        # shellcheck disable=SC2086
        run_ferry 0 cutover $E
        [ "$(jq -r .phase "$S")" = done ] || fail "SIG$sig point $i: the rerun ended in phase $(jq -r .phase "$S")"
        m=$(mismatches "SIG$sig point $i")
        if [ "$m" = 0 ]; then recovered=$((recovered + 1)); else bad=$((bad + 1)); fi
        leftovers "SIG$sig point $i"
        [ "$(cat "$TMP/leftovers")" = 0 ] || left=$((left + 1))
    done
    [ "$early" = 0 ] || echo "SIG$sig: $early of $FAULT_POINTS cutovers had finished before the signal"
    rows="$rows cutover-SIG$sig|$FAULT_POINTS|$recovered|$bad|$left"
    total_bad=$((total_bad + bad)); total_left=$((total_left + left))
done
# shellcheck disable=SC2086
fault_table $rows
[ "$total_bad" = 0 ] || fail "$total_bad interrupted cutovers ended 'done' with a wrong volume"
[ "$total_left" = 0 ] || fail "$total_left interrupted cutovers left something behind"
