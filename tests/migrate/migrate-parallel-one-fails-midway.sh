#!/bin/sh
# --parallel 4 migrates lab-small-01..05 four at a time: each VM that can
# be migrated gets volumes equal to its flat files and ports with its MACs
# on the mapped networks, while lab-small-02 fails midway -- the source of
# its second disk is gone (the flat file hidden on the datastore) while its
# first disk copies -- without stopping the others.  The JSON events show
# four VMs running at once and every disk's progress; the report lists
# each VM's outcome, exit code, error and disks; the exit status is 1.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VMS="lab-small-01 lab-small-02 lab-small-03 lab-small-04 lab-small-05"
FLAT=$(jq -r '.vms[] | select(.name == "lab-small-02") | .disks[1].flat' "$FERRY_LAB_DIR/vcsim/lab.json")
restore_flat () { [ ! -e "$FLAT.ferry-test-hidden" ] || mv "$FLAT.ferry-test-hidden" "$FLAT"; }
clean_all () { for v in $VMS; do clean_vm "$v"; done; }
restore_flat
clean_all
on_exit clean_all
on_exit restore_flat
SEL=""
for v in $VMS; do SEL="$SEL --vm $v"; done
# shellcheck disable=SC2046,SC2086
"$FERRY" migrate $(E_LAB) -e skip_conversion=true $SEL --parallel 4 --progress json \
    --events "$TMP/events.json" --report "$TMP/report.json" > "$TMP/out" 2> "$TMP/err" &
pid=$!
# Once lab-small-02's snapshot is taken (its CBT areas recorded), before
# its disks are read: the second disk's flat file goes away.
for _ in $(seq 12000); do
    grep -q '"event":"phase","vm":"lab-small-02","phase":"copying"' "$TMP/events.json" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || { cat "$TMP/err"; fail "ferry ended before lab-small-02's snapshot"; }
    sleep 0.005
done
mv "$FLAT" "$FLAT.ferry-test-hidden"
rc=0
wait $pid || rc=$?
[ $rc = 1 ] || { cat "$TMP/err"; fail "ferry migrate --parallel 4 exited $rc, expected 1"; }
restore_flat
EV=$TMP/events.json
R=$TMP/report.json
jq -e . "$EV" > /dev/null || fail "events file: not one JSON object per line"
# The same events on stderr (--progress json).
[ "$(grep -c '^{"event":"vm-done"' "$TMP/err")" = 5 ] || fail "stderr: not 5 vm-done events"
# Four at once: the first four VMs start before any is done.
[ "$(jq -r 'select(.event == "vm-start" or .event == "vm-done") | .event' "$EV" | head -4 | sort -u)" = vm-start ] ||
    fail "the first four VMs did not run at once"
[ "$(jq -r 'select(.event == "vm-start") | .vm' "$EV" | sort | tr '\n' ' ')" = "$VMS " ] ||
    fail "a vm-start event per VM"
for v in lab-small-01 lab-small-03 lab-small-04 lab-small-05; do
    [ "$(jq -r --arg v "$v" '.[] | select(.vm == $v) | .result' "$R")" = ok ] || fail "report: $v not ok"
    [ "$(jq -r --arg v "$v" 'select(.event == "vm-done" and .vm == $v) | "\(.result) \(.exit_code)"' "$EV")" = "ok 0" ] ||
        fail "events: $v not done ok"
    # Every disk's progress reaches its total.
    for k in $(jq -r --arg vm "$v" '.vms[] | select(.name == $vm) | .disks[].key' "$FERRY_LAB_DIR/vcsim/lab.json"); do
        jq -s -e --arg v "$v" --argjson k "$k" 'any(.[]; .event == "disk-progress" and .vm == $v
            and .disk == $k and .bytes == .total and .total > 0)' "$EV" > /dev/null || {
            grep "\"$v\"" "$EV"; fail "events: $v disk $k progress does not reach its total"; }
        [ "$(jq -r --arg v "$v" --argjson k "$k" '.[] | select(.vm == $v) | .disks[] | select(.disk == $k) | .result' "$R")" = ok ] ||
            fail "report: $v disk $k"
    done
    [ "$(jq -r .phase "$(state_of "$v")")" = done ] || fail "$v not migrated"
    volumes_match_flat "$v" "parallel"
    ports_match_lab "$v" "parallel"
done
# lab-small-02: failed, with the data path's exit class and the disk named.
[ "$(jq -r '.[] | select(.vm == "lab-small-02") | "\(.result) \(.exit_code)"' "$R")" = "failed 5" ] ||
    fail "report: lab-small-02 is not 'failed 5': $(jq -c '.[] | select(.vm == "lab-small-02")' "$R")"
jq -r '.[] | select(.vm == "lab-small-02") | .error' "$R" | grep -q "disk 2001" ||
    fail "report: lab-small-02's error does not name disk 2001"
[ "$(jq -r '.[] | select(.vm == "lab-small-02") | .disks[] | select(.disk == 2001) | .result' "$R")" = failed ] ||
    fail "report: lab-small-02 disk 2001 not failed"
expect_in "$TMP/err" "^lab-small-02 +failed +5 "
expect_in "$TMP/err" "^lab-small-01 +ok +0 "
expect_in "$TMP/err" "5 VMs: 4 migrated, 1 failed, 0 not found"
jq -s -e 'any(.[]; .event == "summary" and .ok == 4 and .failed == 1)' "$EV" > /dev/null ||
    fail "no summary event of 4 ok, 1 failed"
# Nothing of the failed VM stays attached to the conversion host.
"$OSAPI" GET compute "/servers/$(jq -r .conversion_host.id "$FERRY_LAB_DIR/openstack/lab.json")/os-volume_attachments" > "$TMP/ch.json"
for vid in $(jq -r '.volumes[].id' "$(state_of lab-small-02)"); do
    [ "$(jq -r --arg b "$vid" '[.volumeAttachments[] | select(.volumeId == $b)] | length' "$TMP/ch.json")" = 0 ] ||
        fail "lab-small-02's volume $vid left attached to the conversion host"
done
