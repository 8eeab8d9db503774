#!/bin/sh
# A checkpoint never describes a volume it was not written for.  kill -9
# in the middle of lab-multi's copy (the rerun reuses the snapshot, so the
# checkpoints would be honoured), then the first disk's volume is deleted
# in Cinder: the rerun makes a new volume, drops that disk's checkpoint and
# copies it whole -- the new volume equals the flat file.  Before the fix
# the checkpoint was applied to the new, empty volume: "migrated" with the
# recorded areas missing.  And a checkpoint bound to another volume (the
# state's record pointing elsewhere) is not applied either.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab

VM=lab-multi
S=$(state_of $VM)
CH=$(jq -r .conversion_host.id "$FERRY_LAB_DIR/openstack/lab.json")
ckpt=$FERRY_LAB_DIR/data/$VM/disk-2000.checkpoint
clean_vm $VM

# shellcheck disable=SC2046
"$FERRY" migrate $(E_LAB) -e skip_conversion=true --vm $VM > "$TMP/run1.out" 2> "$TMP/run1.err" &
pid=$!
# Kill once the first disk's checkpoint records finished units.
for _i in $(seq 600); do
    [ "$(grep -c '^D ' "$ckpt" 2>/dev/null || echo 0)" -ge 1 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
kill -9 $pid; wait $pid 2>/dev/null || :
[ "$(grep -c '^D ' "$ckpt" 2>/dev/null || echo 0)" -ge 1 ] ||
    { cat "$TMP/run1.err"; fail "no unit recorded before the kill"; }
head -n 1 "$ckpt" | grep -q " dst=cinder-volume:$(jq -r '.volumes["2000"].id' "$S")\$" ||
    fail "the checkpoint does not name its volume: $(head -n 1 "$ckpt")"

# The first disk's volume goes away (detached, deleted).
vid=$(jq -r '.volumes["2000"].id' "$S")
"$OSAPI" DELETE compute "/servers/$CH/os-volume_attachments/$vid" >/dev/null 2>&1 || :
for _i in $(seq 120); do
    st=$("$OSAPI" GET volumev3 "/volumes/$vid" | jq -r .volume.status)
    [ "$st" = available ] && break
    sleep 0.5
done
[ "$st" = available ] || fail "volume $vid did not come back to available ($st)"
"$OSAPI" DELETE volumev3 "/volumes/$vid" >/dev/null || fail "deleting volume $vid"
for _i in $(seq 120); do
    "$OSAPI" GET volumev3 "/volumes/$vid" >/dev/null 2>&1 || break
    sleep 0.5
done

# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e skip_conversion=true --vm $VM
expect_in "$TMP/err" "volume $vid of disk 2000 is gone; making a new one"
expect_in "$TMP/err" "disk 2000: the checkpoint of the earlier volume was dropped"
expect_not_in "$TMP/err" "disk 2000: checkpoint .* already copied"
[ "$(jq -r '.volumes["2000"].id' "$S")" != "$vid" ] || fail "the state still names the deleted volume"
volumes_match_flat $VM "after the volume was replaced"
[ "$(volumes_of_uuid "$(jq -r .uuid "$S")")" = 3 ] || fail "orphan volumes"
clean_vm $VM
