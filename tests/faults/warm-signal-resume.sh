#!/bin/sh
# Warm migration interrupted: a delta sync and then a cutover of
# lab-linux-1disk, each interrupted with SIGTERM and kill -9 at seeded points
# (half anywhere in the pass, half into its copy; the guest writes 64 MiB
# before each pass), then run again: the rerun exits 0, the volume equals
# the disk byte for byte, and nothing is left behind (no ferry snapshot,
# nothing attached to the conversion host, one volume).  A table of the
# figures ends the output.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
FAULT_DEFAULT_POINTS=1
. "$FERRY_SRCDIR/tests/faults/faults-functions.sh"
need_lab
VM=lab-linux-1disk
E="$(E_LAB) -e skip_conversion=true --vm $VM"
S=$(state_of $VM)
D=$FERRY_LAB_DIR/data/$VM
CH=$(jq -r .conversion_host.id "$FERRY_LAB_DIR/openstack/lab.json")
cbt_off () { "$FERRY_SRCDIR/tests/tools/vsphere-props.py" --set-cbt $VM false > /dev/null; }
# shellcheck disable=SC2086
end_clean () { "$FERRY" rollback $E > "$TMP/rollback.out" 2>&1 || cat "$TMP/rollback.out"; clean_vm $VM; }
on_exit cbt_off
on_exit end_clean
# shellcheck disable=SC2086
"$FERRY" rollback $E > /dev/null 2>&1 || :
clean_vm $VM

leftovers () {
    # shellcheck disable=SC2046
    "$FERRY" discover $(E_LAB) --vm $VM --no-write --format json > "$TMP/d.json" 2>/dev/null
    _n=$(jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/d.json")
    _a=$("$OSAPI" GET compute "/servers/$CH/os-volume_attachments" | jq '.volumeAttachments | length')
    _v=$(volumes_of_uuid "$(jq -r .uuid "$S")")
    if [ "$_n" != 0 ] || [ "$_a" != 0 ] || [ "$_v" != 1 ]; then
        echo "$1: $_n ferry snapshots, $_a attachments, $_v volumes (1 disk)"
        return 1
    fi
}
matches () {
    _flat=$(jq -r --arg vm $VM '.vms[] | select(.name == $vm) | .disks[0].flat' "$FERRY_LAB_DIR/vcsim/lab.json")
    _cap=$(jq -r --arg vm $VM '.vms[] | select(.name == $vm) | .disks[0].capacity' "$FERRY_LAB_DIR/vcsim/lab.json")
    cmp -n "$_cap" "$_flat" "$FERRY_LAB_VOLUMES/volume-$(jq -r '.volumes["2000"].id' "$S")"
}

# The first sync (full), undisturbed; then an undisturbed delta sync, whose
# length bounds the points that fall anywhere in a pass.
# shellcheck disable=SC2086
run_ferry 0 sync $E --enable-cbt
"$FERRY_SRCDIR"/lab/lab guest-write $VM 0 0 $((64 * 1048576)) 999 > /dev/null
t0=$(date +%s%N)
# shellcheck disable=SC2086
run_ferry 0 sync $E
span_ms=$(( ($(date +%s%N) - t0) / 1000000 * 7 / 10 ))
echo "an undisturbed delta sync takes $(( span_ms * 10 / 7 )) ms: half the points fall in its first $span_ms ms"
rows="" total_bad=0 total_left=0 point=0
# interrupt COMMAND SIG: one seeded interruption of `ferry COMMAND` and its rerun.
interrupt () {
    point=$((point + 1))
    off=$(( $(fault_int $point 12) * 64 ))
    "$FERRY_SRCDIR"/lab/lab guest-write $VM 0 $((off * 1048576)) $((64 * 1048576)) $point > /dev/null
    rm -f "$D"/disk-*.checkpoint
    # shellcheck disable=SC2086
    "$FERRY" "$1" $E > "$TMP/run1.out" 2> "$TMP/run1.err" &
    pid=$!
    if [ "$(fault_int $point 2)" = 0 ]; then
        # Anywhere in the pass: snapshot, attach, copy, detach.
        where="the pass"
        d=$(fault_delay $point 20 "$span_ms")
    else
        where="the copy"
        for _j in $(seq 600); do
            ls "$D"/disk-*.checkpoint >/dev/null 2>&1 && break
            kill -0 $pid 2>/dev/null || break
            sleep 0.05
        done
        d=$(fault_delay $point 20 600)
    fi
    sleep "$d"
    kill -"$2" $pid 2>/dev/null || :
    rc=0; wait $pid || rc=$?
    echo "$1 SIG$2: $d s into $where (phase reached: $(jq -r .phase "$S" 2>/dev/null)): exit $rc"
    case $2:$rc in KILL:137|*:130|*:0) ;; *) cat "$TMP/run1.err"; fail "$1 SIG$2: exit $rc" ;; esac
    # shellcheck disable=SC2086
    run_ferry 0 "$1" $E
    bad=0 left=0
    matches || bad=1
    leftovers "$1 SIG$2" || left=1
    rows="$rows $1-SIG$2|1|$((1 - bad))|$bad|$left"
    total_bad=$((total_bad + bad)); total_left=$((total_left + left))
}
for i in $(seq "$FAULT_POINTS"); do
    for sig in ${FERRY_FAULT_SIGNALS:-TERM KILL}; do
        interrupt sync "$sig"
    done
done
interrupt cutover TERM
[ "$(jq -r .phase "$S")" = done ] || fail "the cutover's rerun did not finish: $(jq -r .phase "$S")"
# shellcheck disable=SC2086
fault_table $rows
[ "$total_bad" = 0 ] || fail "$total_bad interrupted passes ended with a wrong volume"
[ "$total_left" = 0 ] || fail "$total_left interrupted passes left something behind"
