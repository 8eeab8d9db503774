#!/bin/sh
# The state file can't be written midway (made immutable with chattr +i
# during the copy, as a full or read-only file system would do): the migration does not go on to create an instance from a state the
# file does not hold -- exit 1 naming the state file and what to do, no
# server created, the snapshot removed, nothing left attached.  Once the
# directory is writable again, a rerun finishes with identical volumes.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
command -v chattr >/dev/null || { echo "SKIP: chattr not installed"; exit 77; }
VM=lab-multi
export FERRY_STATE_DIR=$TMP/data
mkdir -p "$FERRY_STATE_DIR"
chattr -i "$FERRY_STATE_DIR" 2>/dev/null || { echo "SKIP: no chattr on $TMP's file system"; exit 77; }
D=$FERRY_STATE_DIR/$VM
unfreeze () { chattr -i "$D/ferry-state.json" 2>/dev/null || :; }
cleanup () { unfreeze; clean_vm $VM -e "os_migrate_vmw_data_dir=$FERRY_STATE_DIR"; }
on_exit cleanup
CH=$(jq -r .conversion_host.id "$FERRY_LAB_DIR/openstack/lab.json")
E="$(E_LAB) -e os_migrate_vmw_data_dir=$FERRY_STATE_DIR -e skip_conversion=true --vm $VM"
clean_vm $VM -e "os_migrate_vmw_data_dir=$FERRY_STATE_DIR"

# shellcheck disable=SC2086
"$FERRY" migrate $E > "$TMP/run1.out" 2> "$TMP/run1.err" &
pid=$!
for _i in $(seq 600); do
    ls "$D"/disk-*.checkpoint >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
chattr +i "$D/ferry-state.json" || fail "chattr +i $D/ferry-state.json"
rc=0
wait $pid || rc=$?
unfreeze
[ $rc = 1 ] || { cat "$TMP/run1.err"; fail "exit $rc with an unwritable state file (expected 1)"; }
expect_in "$TMP/run1.err" "cannot replace $D/ferry-state.json: .*run ferry again"
expect_in "$TMP/run1.err" "VM $VM: its state file .* could not be written .*: stopping before"
expect_not_in "$TMP/run1.err" "VM $VM: migrated"
uuid=$(jq -r .uuid "$D/ferry-state.json")
"$OSAPI" GET compute "/servers/detail" | jq -e --arg n "$VM" '[.servers[] | select(.name == $n)] | length == 0' >/dev/null ||
    fail "a server was created although the state could not be written"
"$OSAPI" GET compute "/servers/$CH/os-volume_attachments" | jq -e '.volumeAttachments | length == 0' >/dev/null ||
    fail "volumes left attached to the conversion host"
# shellcheck disable=SC2046
run_ferry 0 discover $(E_LAB) --vm $VM --no-write --format json
[ "$(jq -r '[.[0].snapshots[] | select(.name | startswith("ferry-"))] | length' "$TMP/out")" = 0 ] ||
    fail "ferry's snapshot left on $VM"

# Writable again: the rerun finishes.
# shellcheck disable=SC2086
run_ferry 0 migrate $E
[ "$(jq -r .phase "$D/ferry-state.json")" = done ] || fail "the rerun did not finish"
volumes_match_flat $VM "after the rerun"
[ "$(volumes_of_uuid "$uuid")" = 3 ] || fail "orphan volumes: $(volumes_of_uuid "$uuid") for 3 disks"
