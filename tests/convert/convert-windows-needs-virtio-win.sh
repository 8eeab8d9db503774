#!/bin/sh
# A Windows guest needs virtio-win on the conversion host (the lab's has
# none): `ferry check` fails that row, and `ferry migrate` refuses before
# anything is made or copied (exit 6, conversion), saying what to install
# or that skip_conversion migrates it unconverted; the source VM keeps no
# snapshot of ferry's.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
[ ! -e /usr/share/virtio-win ] || { echo "SKIP: this machine has virtio-win"; exit 77; }
clean_vm lab-windows
on_exit clean_windows
clean_windows () { clean_vm lab-windows; }
# shellcheck disable=SC2046
run_ferry 1 check $(E_LAB) --vm lab-windows --format json
jq -e '[.[] | select(.check == "virtio-win" and .target == "lab-windows" and .status == "fail")] | length == 1' \
    "$TMP/out" > /dev/null || { cat "$TMP/out"; fail "no failing virtio-win row for lab-windows"; }
SNAPLOG=$FERRY_LAB_DIR/vcsim/snapshots.log
snaps_before=$(grep -c " lab-windows " "$SNAPLOG" 2>/dev/null || true)
# shellcheck disable=SC2046
run_ferry 6 migrate $(E_LAB) --vm lab-windows
expect_in "$TMP/err" "lab-windows: a Windows guest needs virtio-win"
expect_in "$TMP/err" "skip_conversion"
expect_in "$TMP/err" "nothing was copied"
uuid=$(jq -r '.vms[] | select(.name == "lab-windows") | .uuid' "$FERRY_LAB_DIR/vcsim/lab.json")
[ "$(volumes_of_uuid "$uuid")" = 0 ] || fail "volumes were created for lab-windows"
[ "$(grep -c " lab-windows " "$SNAPLOG" 2>/dev/null || true)" = "$snaps_before" ] ||
    fail "a snapshot of lab-windows was taken"
