#!/bin/sh
# --max-disks-per-host caps the disk copies read from one ESXi host at once,
# while the VMs still run side by side.  ferry migrate --parallel 4
# --max-disks-per-host 1 of lab-small-06..09 (6 disks: 06 and 08 have two,
# which a VM copies at once when the limit lets it): replaying the JSON
# events' disk-start/disk-done in file order, never more than one copy per
# ESXi host ran at once, while more than one VM was in progress at once;
# every VM ends ok with volumes equal to its flat files.  Then the same
# with --max-disks-per-host 3: two copies from one host do overlap, so the
# first run's 1 is the limit's doing, not the lab's timing.
#
# The lab's VMs sit on the three hosts of cluster DC0_C0 (DC0_C0_H0..H2),
# each placed by vcsim when the lab starts (math/rand: with the Go 1.19 of
# Debian 12 the same placement every time, e.g. 06 on H2, 07 and 09 on H1,
# 08 on H0).  The host of each VM is read from ferry discover, so the test
# holds for any placement: a two-disk VM alone has two copies on one host.
# Events are written under the board's lock, disk-start after the copy's
# slot is taken and disk-done before it is given back, so the events file's
# order never shows more copies at once than the slots allowed.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VMS="lab-small-06 lab-small-07 lab-small-08 lab-small-09"
clean_all () { for v in $VMS; do clean_vm "$v"; done; }
clean_all
on_exit clean_all
SEL=""
for v in $VMS; do SEL="$SEL --vm $v"; done

# Each VM's ESXi host, as ferry sees it: {"lab-small-06": "DC0_C0_H2", ...}.
# shellcheck disable=SC2046,SC2086
run_ferry 0 discover $(E_LAB) $SEL --no-write --format json
HOSTS=$(jq -c 'map({key: .name, value: .host.name}) | from_entries' "$TMP/out")
[ "$(echo "$HOSTS" | jq '[.[] | select(type == "string" and . != "")] | length')" = 4 ] ||
    fail "discover gives no ESXi host for some VM: $HOSTS"
echo "hosts: $HOSTS"

# max_overlap EVENTS: the most disk copies running at once per host, as
# {"host": N}, replaying disk-start (+1) and disk-done (-1) in file order.
max_overlap () {
    jq -s -c --argjson h "$HOSTS" '
        reduce (.[] | select(.event == "disk-start" or .event == "disk-done")) as $e
            ({cur: {}, max: {}};
             $h[$e.vm] as $host
             | .cur[$host] += (if $e.event == "disk-start" then 1 else -1 end)
             | .max[$host] = ([.max[$host] // 0, .cur[$host]] | max))
        | .max' "$1"
}
# max_vms EVENTS: the most VMs between vm-start and vm-done at once.
max_vms () {
    jq -s 'reduce (.[] | select(.event == "vm-start" or .event == "vm-done")) as $e
               ({cur: 0, max: 0};
                .cur += (if $e.event == "vm-start" then 1 else -1 end)
                | .max = ([.max, .cur] | max))
           | .max' "$1"
}
# migrate LIMIT: ferry migrate --parallel 4 --max-disks-per-host LIMIT;
# every VM ok, all 6 disks copied, the events in $TMP/events-LIMIT.json.
# The disks are what this is about: no ports, no instances (the reference's
# os_migrate_create_network_port and os_migrate_create_os_instance).
migrate () {
    # shellcheck disable=SC2046,SC2086
    run_ferry 0 migrate $(E_LAB) -e skip_conversion=true $SEL --parallel 4 \
        -e os_migrate_create_network_port=false -e os_migrate_create_os_instance=false \
        --max-disks-per-host "$1" --events "$TMP/events-$1.json" --report "$TMP/report-$1.json"
    expect_in "$TMP/err" "at most 8 disks copied at once \\($1 per ESXi host, 2 per VM\\)"
    _ev=$TMP/events-$1.json
    jq -e . "$_ev" > /dev/null || fail "limit $1: events file: not one JSON object per line"
    [ "$(jq -r 'select(.event == "disk-start") | "\(.vm) \(.disk)"' "$_ev" | sort -u | wc -l)" = 6 ] ||
        fail "limit $1: not 6 disks started: $(grep disk-start "$_ev")"
    [ "$(jq -r 'select(.event == "disk-done" and .result == "ok") | "\(.vm) \(.disk)"' "$_ev" | sort -u | wc -l)" = 6 ] ||
        fail "limit $1: not 6 disks done ok"
    for v in $VMS; do
        [ "$(jq -r --arg v "$v" '.[] | select(.vm == $v) | .result' "$TMP/report-$1.json")" = ok ] ||
            fail "limit $1: report: $v not ok"
        [ "$(jq -r --arg v "$v" 'select(.event == "vm-done" and .vm == $v) | "\(.result) \(.exit_code)"' "$_ev")" = "ok 0" ] ||
            fail "limit $1: events: $v not done ok"
        [ "$(jq -r .phase "$(state_of "$v")")" = "done" ] || fail "limit $1: $v not migrated"
        volumes_match_flat "$v" "limit $1"
    done
}

migrate 1
over1=$(max_overlap "$TMP/events-1.json")
vms1=$(max_vms "$TMP/events-1.json")
echo "limit 1: most copies at once per host $over1, most VMs at once $vms1"
echo "$over1" | jq -e 'length > 0 and all(.[]; . == 1)' > /dev/null || {
    jq -c 'select(.event == "disk-start" or .event == "disk-done")' "$TMP/events-1.json"
    fail "--max-disks-per-host 1: more than one copy from one host at once: $over1"; }
[ "$vms1" -ge 2 ] || fail "--parallel 4: the VMs ran one at a time (most at once: $vms1)"

# The limit is what kept it at 1: at 3, copies from one host overlap.
clean_all
migrate 3
over3=$(max_overlap "$TMP/events-3.json")
echo "limit 3: most copies at once per host $over3, most VMs at once $(max_vms "$TMP/events-3.json")"
echo "$over3" | jq -e 'any(.[]; . > 1) and all(.[]; . <= 3)' > /dev/null || {
    jq -c 'select(.event == "disk-start" or .event == "disk-done")' "$TMP/events-3.json"
    fail "--max-disks-per-host 3: no two copies from one host at once (or more than 3): $over3"; }
