#!/bin/sh
# ferry migrate interrupted by SIGINT, SIGTERM, SIGHUP and kill -9 at seeded
# points of lab-multi's migration (half anywhere in the run, half into the
# copy), then run again: the rerun exits 0, every volume equals its disk's
# flat file byte for byte, and nothing is left behind: no ferry snapshot on
# the VM, nothing attached to the conversion host, no orphan volume, no
# duplicate port or server.  After a graceful signal the
# interrupted run itself exits 130 and has already removed its snapshot
# and detached its volumes.  (Before the fix, 2 of 7 SIGTERMs gave a volume
# with 1 MiB areas of zeros after an exit-0 rerun.)
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
FAULT_DEFAULT_POINTS=1     # a whole migration each: one point per signal in CI
. "$FERRY_SRCDIR/tests/faults/faults-functions.sh"
need_lab

VM=lab-multi
S=$(state_of $VM)
CH=$(jq -r .conversion_host.id "$FERRY_LAB_DIR/openstack/lab.json")

ferry_snapshots () {
    # shellcheck disable=SC2046
    "$FERRY" discover $(E_LAB) --vm $VM --no-write --format json > "$TMP/d.json" 2>/dev/null ||
        fail "discover $VM"
    jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/d.json"
}
attachments () {
    "$OSAPI" GET compute "/servers/$CH/os-volume_attachments" | jq '.volumeAttachments | length'
}
# Volumes that differ from their flat files (0 when all match).
volume_mismatches () {
    _V=$FERRY_LAB_DIR/vcsim/lab.json
    _bad=0
    for _key in $(jq -r --arg vm $VM '.vms[] | select(.name == $vm) | .disks[].key' "$_V"); do
        _flat=$(jq -r --arg vm $VM --argjson k "$_key" '.vms[] | select(.name == $vm) | .disks[] | select(.key == $k) | .flat' "$_V")
        _cap=$(jq -r --arg vm $VM --argjson k "$_key" '.vms[] | select(.name == $vm) | .disks[] | select(.key == $k) | .capacity' "$_V")
        _vid=$(jq -r --arg k "$_key" '.volumes[$k].id' "$S")
        if ! cmp -n "$_cap" "$_flat" "$FERRY_LAB_VOLUMES/volume-$_vid" >/dev/null 2>&1; then
            echo "disk $_key: volume $_vid differs from $_flat:" >&2
            cmp -n "$_cap" "$_flat" "$FERRY_LAB_VOLUMES/volume-$_vid" >&2 || :
            _bad=$((_bad + 1))
        fi
    done
    echo $_bad
}

# An undisturbed migration: its length bounds the points that fall
# anywhere in a run (the others fall into the copy, where most time goes).
clean_vm $VM
t0=$(date +%s%N)
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true --vm $VM
span_ms=$(( ($(date +%s%N) - t0) / 1000000 * 7 / 10 ))
echo "an undisturbed migration takes $(( span_ms * 10 / 7 )) ms: half the points fall in its first $span_ms ms, half into the copy"

rows=""
total_bad=0 total_left=0 point=0
for sig in ${FERRY_FAULT_SIGNALS:-INT TERM HUP KILL}; do
    recovered=0 bad=0 left=0 interrupted=0
    for i in $(seq "$FAULT_POINTS"); do
        point=$((point + 1))
        clean_vm $VM
        # shellcheck disable=SC2046
        "$FERRY" migrate $(E_LAB) -e skip_conversion=true --vm $VM \
                 > "$TMP/run1.out" 2> "$TMP/run1.err" &
        pid=$!
        if [ "$(fault_int $point 2)" = 0 ]; then
            # Anywhere: volumes, snapshot, attach, copy, detach, instance.
            where="the run"
            d=$(fault_delay $point 50 "$span_ms")
        else
            # Once a disk's copy has started (its checkpoint exists), a
            # seeded delay into the copy.
            where="the copy"
            for _j in $(seq 600); do
                ls "$FERRY_LAB_DIR/data/$VM/"disk-*.checkpoint >/dev/null 2>&1 && break
                kill -0 $pid 2>/dev/null || break
                sleep 0.05
            done
            d=$(fault_delay $point 50 1500)
        fi
        sleep "$d"
        kill -"$sig" $pid 2>/dev/null || :
        rc=0
        wait $pid || rc=$?
        echo "SIG$sig point $i: $d s into $where (phase reached: $(jq -r .phase "$S" 2>/dev/null)): exit $rc"
        case $sig:$rc in
            KILL:137) interrupted=$((interrupted + 1)) ;;
            *:130)
                interrupted=$((interrupted + 1))
                expect_in "$TMP/run1.err" "interrupted"
                # The interrupted run cleaned up after itself.
                n=$(ferry_snapshots); a=$(attachments)
                if [ "$n" != 0 ] || [ "$a" != 0 ]; then
                    echo "SIG$sig point $i: after exit 130: $n ferry snapshots, $a attachments"
                    left=$((left + 1))
                fi ;;
            *:0) ;;
            *) cat "$TMP/run1.err"; fail "SIG$sig: exit $rc (expected 130)" ;;
        esac
        # shellcheck disable=SC2046
        run_ferry 0 migrate $(E_LAB) -e skip_conversion=true --vm $VM
        [ "$(jq -r .phase "$S")" = done ] || fail "SIG$sig point $i: the rerun did not finish"
        m=$(volume_mismatches)
        if [ "$m" = 0 ]; then recovered=$((recovered + 1)); else bad=$((bad + 1)); fi
        uuid=$(jq -r .uuid "$S")
        n=$(ferry_snapshots); a=$(attachments); v=$(volumes_of_uuid "$uuid")
        p=$("$OSAPI" GET network "/ports?mac_address=00:50:56:aa:01:01" | jq '.ports | length')
        sv=$("$OSAPI" GET compute "/servers?name=^$VM\$" | jq '.servers | length')
        if [ "$n" != 0 ] || [ "$a" != 0 ] || [ "$v" != 3 ] || [ "$p" != 1 ] || [ "$sv" != 1 ]; then
            echo "SIG$sig point $i: after the rerun: $n ferry snapshots, $a attachments, $v volumes (3 disks), $p ports for one MAC, $sv servers"
            left=$((left + 1))
        fi
    done
    rows="$rows SIG$sig|$FAULT_POINTS|$recovered|$bad|$left"
    total_bad=$((total_bad + bad)); total_left=$((total_left + left))
done
clean_vm $VM
# shellcheck disable=SC2046
fault_table $rows
[ "$total_bad" = 0 ] || fail "$total_bad interrupted migrations ended 'migrated' with a wrong volume"
[ "$total_left" = 0 ] || fail "$total_left interruptions left something behind"
