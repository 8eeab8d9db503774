#!/bin/sh
# The nbdkit nfc plugin against the lab's ESXi host (lab/vcsim/harness/nfc*.go):
# nbdcopy equals the disk byte for byte over nbd and nbdssl, a snapshot reads its
# point in time, a wrong host thumbprint is refused before the ticket is presented,
# a connection cut by the host is recovered with a fresh ticket, an AIO error names
# the disk, the offset and the code, and the password is in no argv.
#
# Needs a lab with NFC: lab/vcsim/vcsim-lab up (FERRY_LAB_DIR, FERRY_LAB_VCENTER_PORT
# and FERRY_LAB_NFC_PORT choose a private one); skipped (77) without.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/nfc/nfc-functions.sh"

VCSIM_LAB=$FERRY_SRCDIR/lab/vcsim/vcsim-lab
if ! "$VCSIM_LAB" status >/dev/null 2>&1; then
    echo "nfc-lab: the lab is not up (lab/vcsim/vcsim-lab up): skipped"; exit 77
fi
eval "$("$VCSIM_LAB" env)"
if [ -z "${FERRY_LAB_NFC_PORT:-}" ]; then
    echo "nfc-lab: this lab has no NFC port: skipped"; exit 77
fi
STATE=$(dirname "$FERRY_LAB_VCENTER_LABJSON")
export PYTHONPATH="$FERRY_SRCDIR/lab/vcsim:$FERRY_SRCDIR/tests/lab"
(umask 077 && printf '%s\n' "$FERRY_LAB_VCENTER_PASSWORD" >"$TMP/pw")

VM=lab-multi
eval "$(python3 - "$VM" <<'PY'
import sys, labsoap
lab = labsoap.load()
vm = labsoap.vm(lab, sys.argv[1])
d = vm["disks"][0]
print("VM_MOREF=%s KEY=%d CAP=%d FLAT='%s' FILE='%s'" % (vm["moref"], d["key"], d["capacity"], d["flat"], d["file"]))
PY
)"

snapshot () {   # snapshot create NAME | remove MOREF
    python3 - "$@" <<'PY'
import sys, labsoap
lab = labsoap.load()
c = labsoap.Client(lab)
c.login(lab["user"], lab["password"])
vm = labsoap.vm(lab, "lab-multi")
if sys.argv[1] == "create":
    print(c.create_snapshot(vm["moref"], sys.argv[2]))
else:
    c.remove_snapshot(sys.argv[2])
PY
}
knob () { "$VCSIM_LAB" nfc "$@" >/dev/null 2>&1; }
cleanup_lab () {
    knob off
    [ -n "${SNAP:-}" ] && snapshot remove "$SNAP" >/dev/null 2>&1
    :
}
on_exit cleanup_lab

plugin_args="server=$FERRY_LAB_VCENTER_HOST user=$FERRY_LAB_VCENTER_USER password=+$TMP/pw
  thumbprint=$FERRY_LAB_VCENTER_THUMBPRINT vm=moref=$VM_MOREF"
# shellcheck disable=SC2086
nfc () { nfc_nbdkit $plugin_args "$@"; }
# The disk as the guest sees it: the flat file, zeros to the capacity.
disk_sha () {
    { cat "$FLAT"; head -c $((CAP - $(stat -c %s "$FLAT"))) /dev/zero; } | sha256sum | cut -d' ' -f1
}
now () { date +%s.%N; }
mibs () { echo "$CAP $1 $2" | awk '{ printf "%.0f", $1 / 1048576 / ($3 - $2) }'; }

# 1. A running VM's current disk does not open (as on ESXi): a clear error.
knob off
run_cmd 1 nfc disk="$KEY" --run true
expect_in "$TMP/err" "AIO error code 0x1 \(VIX_E_FAIL\)"

# 2. Its snapshot reads byte for byte, over nbdssl and nbd.
SNAP=$(snapshot create nfc-plugin-test)
WANT=$(disk_sha)
for t in nbdssl nbd; do
    t0=$(now)
    run_cmd 0 nfc disk="$KEY" snapshot="$SNAP" transport=$t --run "nbdcopy \$uri - | sha256sum"
    t1=$(now)
    [ "$(cut -d' ' -f1 "$TMP/out")" = "$WANT" ] || fail "$t: the copy differs from the disk"
    echo "nfc-lab: $t: $((CAP >> 20)) MiB in $(echo "$t0 $t1" | awk '{printf "%.2f", $2-$1}') s, $(mibs "$t0" "$t1") MiB/s"
done
expect_in "$STATE/nfc-access.log" "ssl=true .*file=\"$(echo "$FILE" | sed 's/[][]/\\&/g')\""

# 3. The snapshot is a point in time: the guest writes, the snapshot reads as before.
"$VCSIM_LAB" guest-write "$VM" 0 $((8 << 20)) 300000 91 >/dev/null
[ "$(disk_sha)" != "$WANT" ] || fail "guest-write changed nothing"
run_cmd 0 nfc file="$FILE" snapshot="$SNAP" --run "nbdcopy \$uri - | sha256sum"
[ "$(cut -d' ' -f1 "$TMP/out")" = "$WANT" ] || fail "the snapshot shows the guest's later write"

# 4. Block status from CBT: the allocated areas are data, the rest reads as zeros.
run_cmd 0 nfc disk="$KEY" snapshot="$SNAP" changeid='*' --run "nbdinfo --map \$uri"
expect_in "$TMP/out" "[0-9]+ +[0-9]+ +0 +data"
expect_in "$TMP/out" "[0-9]+ +[0-9]+ +3 +hole,zero"
run_cmd 0 nfc disk="$KEY" snapshot="$SNAP" changeid='*' \
    --run "nbdcopy \$uri - | sha256sum"
[ "$(cut -d' ' -f1 "$TMP/out")" = "$WANT" ] || fail "the copy with block status differs"

# 5. A host certificate that is not the pinned one (here vCenter's): refused before
#    the ticket is presented -- the ticket is still good afterwards.
grep -c "ticket " "$STATE/harness.log" >"$TMP/before" || :
run_cmd 1 nfc disk="$KEY" snapshot="$SNAP" host-thumbprint="$FERRY_LAB_VCENTER_THUMBPRINT" --run true
expect_in "$TMP/err" "is not the pinned thumbprint $FERRY_LAB_VCENTER_THUMBPRINT: refusing to present"
TICKET=$(grep -o "ticket [0-9a-f-]* for" "$STATE/harness.log" | tail -n 1 | cut -d' ' -f2)
[ -n "$TICKET" ] || fail "no ticket in the harness log"
if [ -f "$FERRY_SRCDIR/tests/lab/nfc_client.py" ]; then
    python3 - "$TICKET" "$FERRY_LAB_NFC_PORT" "$FERRY_LAB_NFC_THUMBPRINT" <<'PY' ||
import sys, nfc_client as nc
n = nc.connect({"host": "127.0.0.1", "port": int(sys.argv[2]), "sslThumbprint": sys.argv[3],
                "service": "vpxa-nfc", "sessionId": sys.argv[1]})
n.authd.close()
PY
    fail "the refused ticket was presented after all (authd no longer takes it)"
fi
! grep -q "$TICKET" "$STATE/nfc.log" 2>/dev/null || fail "authd saw the refused ticket before our check"

# 6. A host that cuts every connection after 64 MiB: each reconnection asks a fresh
#    ticket and the reads in flight again; the copy is whole.
knob drop-after=$((64 << 20))
run_cmd 0 nfc disk="$KEY" snapshot="$SNAP" connections=2 requests=8 --run "nbdcopy \$uri - | sha256sum"
[ "$(cut -d' ' -f1 "$TMP/out")" = "$WANT" ] || fail "the copy across dropped connections differs"
drops=$(grep -c "drop-after: connection cut" "$STATE/nfc.log" || :)
[ "$drops" -ge 4 ] || fail "only $drops connections were cut"
echo "nfc-lab: $drops connections cut, recovered with fresh tickets"
knob off

# 7. Tickets refused by authd (expired): a fresh one is asked, then a clear error.
knob expire-tickets=1
run_cmd 1 nfc disk="$KEY" snapshot="$SNAP" retries=2 --run true
expect_in "$TMP/err" "authd at 127.0.0.1:$FERRY_LAB_NFC_PORT refused .*'530 "
[ "$(grep -c "refused: ticket expired" "$STATE/nfc.log")" = 3 ] || fail "not 3 fresh tickets"
knob off

# 8. An AIO error on a read names the disk, the offset and the code.
knob io-error=5
run_cmd 1 nfc disk="$KEY" snapshot="$SNAP" --run "nbdcopy --connections=1 --requests=1 \$uri null:"
expect_in "$TMP/err" "NFC read of VM $VM disk $KEY .* at offset [0-9]+ \([0-9]+ bytes\) from 127.0.0.1 failed: AIO error code 0x7"
knob off

# 9. The password is in no process's argv.
run_cmd 0 nfc disk="$KEY" snapshot="$SNAP" \
    --run "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' >$TMP/argv; nbdinfo --size \$uri"
grep -q nbdkit "$TMP/argv" || fail "no process list seen"
! grep -qF -- "$FERRY_LAB_VCENTER_PASSWORD" "$TMP/argv" || fail "the password is in an argv"

snapshot remove "$SNAP" >/dev/null
SNAP=
echo "nfc-lab: all passed"
