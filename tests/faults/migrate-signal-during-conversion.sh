#!/bin/sh
# Ctrl-C while virt-v2v converts the guest: ferry stops virt-v2v (its whole
# process group) at once instead of waiting for the conversion, restores the
# volume from the restore point taken before converting (the volume equals
# the copied disk again), creates no instance and no port, exits 130 and
# says what to do; no virt-v2v or appliance process is left running.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
command -v virt-v2v-in-place >/dev/null || { echo "SKIP: virt-v2v not installed"; exit 77; }
VM=lab-linux-1disk
S=$(state_of $VM)
"$FERRY_SRCDIR/lab/lab" guest-install > /dev/null || fail "lab/lab guest-install failed"
clean_vm $VM
end_clean () { clean_vm $VM; }
on_exit end_clean

# shellcheck disable=SC2046
"$FERRY" migrate $(E_LAB) --vm $VM > "$TMP/run.out" 2> "$TMP/run.err" &
pid=$!
for _i in $(seq 1200); do
    [ "$(jq -r .phase "$S" 2>/dev/null)" = converting ] && pgrep -f virt-v2v-in-place >/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.25
done
pgrep -f virt-v2v-in-place >/dev/null || { cat "$TMP/run.err"; fail "virt-v2v never started"; }
sleep 2
# ferry's descendants now (virt-v2v, its appliance's QEMU): all must be
# gone after the signal.  Only these: other tests may run libguestfs at
# the same time (the tests that need no lab run beside the lab's).
descendants () {
    for _c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$_c"; descendants "$_c"; done
}
kids=$(descendants $pid)
echo "ferry's processes when the signal comes: $(echo $kids | wc -w)"
t0=$(date +%s)
kill -INT $pid
rc=0; wait $pid || rc=$?
t1=$(date +%s)
cat "$TMP/run.err" | tail -5
[ $rc = 130 ] || fail "exit $rc after SIGINT during the conversion (expected 130)"
[ $((t1 - t0)) -le 60 ] || fail "ferry took $((t1 - t0)) s to stop after SIGINT (it waited for virt-v2v)"
expect_in "$TMP/run.err" "interrupted during the conversion: virt-v2v was stopped and the volumes were restored from their restore points"
sleep 1
for k in $kids; do
    if kill -0 "$k" 2>/dev/null; then
        ps -o pid=,args= -p "$k" >&2
        fail "a process ferry started (virt-v2v or its appliance) is still running"
    fi
done
[ "$(jq -r '.server.id // empty' "$S")" = "" ] || fail "a server was created"
[ "$(jq -r '.ports // {} | length' "$S")" = 0 ] || fail "ports were created"
volumes_match_flat $VM "after the interrupted conversion"
# ferry deleted its restore point; Cinder finishes a deletion on its own
# time: it must be gone (not merely asked to go) within a minute.
restore_points_gone "$(jq -r '.volumes["2000"].id' "$S")" "after the interrupted conversion"
