#!/bin/sh
# The VDDK source's nbdkit command line: the password by file
# (password=+FILE), never its value; vm=moref, the thumbprint ferry saw,
# libdir, transports.  Without nbdkit's vddk plugin (Debian has none) or the
# VDDK library: a clear error saying what to install and the alternative.
. "$FERRY_SRCDIR/tests/functions.sh"
need_lab
set +e
"$FERRY" disk-server -e @"$FERRY_LAB_SECRETS" --vm lab-multi --disk 2000 --source vddk \
    --print-argv --workdir "$TMP/w" > "$TMP/argv" 2> "$TMP/err"
rc=$?
set -e
expect_in "$TMP/argv" "^vddk$"
expect_in "$TMP/argv" "^password=\+$TMP/w/secret$"
expect_in "$TMP/argv" "^user=$FERRY_LAB_VCENTER_USER$"
expect_in "$TMP/argv" "^vm=moref=vm-[0-9]+$"
expect_in "$TMP/argv" "^thumbprint=$FERRY_LAB_VCENTER_THUMBPRINT$"
expect_in "$TMP/argv" "^libdir=/usr/lib/vmware-vix-disklib$"
expect_in "$TMP/argv" "^transports=file:nbdssl:nbd$"
expect_in "$TMP/argv" "^file=\[LocalDS_0\] lab-multi/lab-multi.vmdk$"
expect_not_in "$TMP/argv" "$FERRY_LAB_VCENTER_PASSWORD"
if [ -e "$(nbdkit --dump-config | sed -n 's/^plugindir=//p')/nbdkit-vddk-plugin.so" ]; then
    echo "vddk plugin present: checking the library error instead"
    "$FERRY" disk-server -e @"$FERRY_LAB_SECRETS" -e libdir="$TMP/none" --vm lab-multi --disk 0 \
        --source vddk > /dev/null 2> "$TMP/err" && fail "started without VDDK"
    expect_in "$TMP/err" "VDDK library is not in libdir"
else
    [ $rc = 5 ] || fail "missing plugin: exit $rc, expected 5"
    expect_in "$TMP/err" "vddk plugin is not installed.*disk_source: https"
    # Starting it for real fails the same way, before anything runs.
    run_ferry 5 disk-server -e @"$FERRY_LAB_SECRETS" --vm lab-multi --disk 0 --source vddk
    expect_in "$TMP/err" "vddk plugin is not installed"
fi
