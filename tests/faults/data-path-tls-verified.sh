#!/bin/sh
# TLS is verified on the data path as on ferry's own vCenter connection.
# - ferry migrate reads datastore HTTPS itself: with only a pinned
#   thumbprint (no CA), lab-multi migrates with identical volumes, no
#   child reads the disks with verification off (no nbdkit at all), and a
#   wrong pin stops everything before any request.
# - ferry disk-server serves it through nbdkit's curl plugin, which can't
#   take a pin: refused (exit 2, what to do) unless
#   allow_unverified_data_path, which warns.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
. "$FERRY_SRCDIR/tests/sources/functions-source.sh"
need_lab
VM=lab-multi
TP=$FERRY_LAB_VCENTER_THUMBPRINT
PIN="-e vcenter_cacert= -e vddk_thumbprint=$TP -e disk_source=https"
clean_vm $VM

# Watch for children while the migration runs.
: > "$TMP/children"
( while :; do ps -eo args | grep -E "^(nbdkit|qemu-nbd)" >> "$TMP/children"; sleep 0.1; done ) &
watcher=$!
stop_watcher () { kill $watcher 2>/dev/null || :; }
on_exit stop_watcher
# shellcheck disable=SC2046,SC2086
run_ferry 0 migrate $(E_LAB) $PIN -e skip_conversion=true --vm $VM
stop_watcher
volumes_match_flat $VM "read with a pinned thumbprint"
expect_not_in "$TMP/children" "sslverify=false|nbdkit .*curl"
clean_vm $VM

# A wrong pin: refused before any request (the SOAP connection and the data
# path share the check).
# shellcheck disable=SC2046
run_ferry 3 migrate $(E_LAB) -e vcenter_cacert= -e skip_conversion=true --vm $VM \
    -e vddk_thumbprint=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33
expect_in "$TMP/err" "not the pinned 00:11:22"

# disk-server (nbdkit curl) with only a pin: refused, then allowed unverified.
# shellcheck disable=SC2086
run_ferry 2 disk-server -e @"$FERRY_LAB_SECRETS" $PIN --vm $VM --disk 0 --workdir "$TMP/w0"
expect_in "$TMP/err" "nbdkit's curl plugin can't verify the server with a pinned thumbprint"
expect_in "$TMP/err" "allow_unverified_data_path: true"
# shellcheck disable=SC2086
start_disk_server -e @"$FERRY_LAB_SECRETS" $PIN -e allow_unverified_data_path=true \
    --vm $VM --disk 0 --workdir "$TMP/w"
expect_in "$TMP/server.err" "NOT verified on the data path"
nbdcopy "$URI" "$TMP/d0.raw"
stop_disk_server
cmp -n "$(stat -c %s "$(flat_of $VM 0)")" "$TMP/d0.raw" "$(flat_of $VM 0)" ||
    fail "the served disk differs"
