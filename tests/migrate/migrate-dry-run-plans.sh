#!/bin/sh
# ferry migrate --dry-run prints each VM's plan as JSON on stdout (the
# flavor, one volume per disk with its size, the ports, the conversion)
# and changes nothing: no volume, no snapshot, no state phase.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
clean_vm lab-multi
clean_vm lab-small-06
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) --dry-run --vm lab-multi --vm lab-small-06
jq -s -e 'length == 2' "$TMP/out" > /dev/null || { cat "$TMP/out"; fail "not one JSON plan per VM on stdout"; }
[ "$(jq -s -r '.[0].vm' "$TMP/out")" = lab-multi ] || fail "the first plan is not lab-multi's"
[ "$(jq -s -r '.[0].volumes | length' "$TMP/out")" = 3 ] || fail "lab-multi's plan has not 3 volumes"
jq -s -e '.[0].volumes | all(.size_gb >= 1 and .existing_volume == null)' "$TMP/out" > /dev/null ||
    fail "lab-multi's volumes: $(jq -s -c '.[0].volumes' "$TMP/out")"
jq -s -e '.[0].flavor.name and (.[0].ports | length == 2)' "$TMP/out" > /dev/null ||
    fail "lab-multi's flavor or ports: $(jq -s -c '.[0] | {flavor, ports}' "$TMP/out")"
[ "$(jq -s -r '.[1].vm' "$TMP/out")" = lab-small-06 ] || fail "the second plan is not lab-small-06's"
uuid=$(jq -r '.vms[] | select(.name == "lab-multi") | .uuid' "$FERRY_LAB_DIR/vcsim/lab.json")
[ "$(volumes_of_uuid "$uuid")" = 0 ] || fail "--dry-run created volumes"
[ "$(jq -r '.phase // "none"' "$(state_of lab-multi)" 2>/dev/null || echo none)" != volumes ] ||
    fail "--dry-run moved the state on"
