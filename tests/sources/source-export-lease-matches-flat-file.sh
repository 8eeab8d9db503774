#!/bin/sh
# The export-lease source (ExportVm's HttpNfcLease, its streamOptimized VMDK
# read by qemu-nbd's curl driver with the session cookie by file) serves
# exactly the bytes of lab-windows' disk once the VM is powered off; the
# cookie never appears on a command line; stopping the server completes the
# lease (it is gone afterwards); on a running VM it fails clearly (exit 3).
# lab-windows is powered on again at the end if it was on.  qemu verifies
# TLS against the system CA store only: with the lab's vcenter_cacert the
# export source is refused (exit 2) unless allow_unverified_data_path.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/sources/functions-source.sh"
need_lab

# vm_do state|on|off|lease-gone LEASE: lab-windows through the lab's SOAP client.
vm_do () {
    PYTHONPATH="$FERRY_SRCDIR/lab/vcsim" /usr/bin/python3 - "$@" <<'PY'
import sys, labsoap
lab = labsoap.load()
mo = labsoap.vm(lab, "lab-windows")["moref"]
c = labsoap.Client(lab)
c.login(lab["user"], lab["password"])
state = c.prop("VirtualMachine", mo, "runtime.powerState").text
what = sys.argv[1]
if what == "state":
    print(state)
elif what == "on" and state != "poweredOn":
    c.task("PowerOnVM_Task", "VirtualMachine", mo)
elif what == "off" and state != "poweredOff":
    c.task("PowerOffVM_Task", "VirtualMachine", mo)
elif what == "lease-gone":
    try:
        st = c.prop("HttpNfcLease", sys.argv[2], "state")
        print("lease %s still there: %s" % (sys.argv[2], st.text if st is not None else None))
        sys.exit(1)
    except labsoap.Fault:
        pass
PY
}
initial=$(vm_do state)
restore_power () { [ "$initial" != poweredOn ] || vm_do on; }
on_exit restore_power

# qemu can't be given the lab's CA: refused, naming what to do.
run_ferry 2 disk-server -e @"$FERRY_LAB_SECRETS" --vm lab-windows --disk 0 --source export \
    --workdir "$TMP/w0"
expect_in "$TMP/err" "qemu's curl driver \(export lease\) can't verify the server's certificate with vcenter_cacert"
expect_in "$TMP/err" "allow_unverified_data_path: true"
U="-e allow_unverified_data_path=true"

# A running VM: the clear error, exit 3, nothing left running.
vm_do on
# shellcheck disable=SC2086
run_ferry 3 disk-server -e @"$FERRY_LAB_SECRETS" $U --vm lab-windows --disk 0 --source export \
    --workdir "$TMP/w0"
expect_in "$TMP/err" "VM lab-windows must be powered off for an export lease: shut it down \(shutdown: true\) or use disk_source: https"

vm_do off
# shellcheck disable=SC2086
start_disk_server -e @"$FERRY_LAB_SECRETS" $U --vm lab-windows --disk 0 --source export \
    --workdir "$TMP/w"
expect_in "$TMP/server.err" "NOT verified on the data path \(allow_unverified_data_path\)"
lease=$(sed -n 's/.*export lease \([^ ]*\) ready.*/\1/p' "$TMP/server.err" | head -1)
[ -n "$lease" ] || { cat "$TMP/server.err"; fail "no 'export lease ... ready' in the log"; }
[ "$(stat -c %a "$TMP/w")" = 700 ] || fail "work dir not private"
ps -eo args | grep -v grep | grep -q "vmware_soap_session" && fail "cookie on a command line"
ps -eo args | grep -q "[q]emu-nbd.*secret,id=ck,file=.*driver=vmdk,file.driver=https" \
    || fail "qemu-nbd not started on the lease URL with the cookie secret by file"
[ ! -e "$TMP/w/secret" ] || fail "cookie file left after qemu-nbd read it"
nbdcopy "$URI" "$TMP/disk.raw"
cmp "$TMP/disk.raw" "$(flat_of lab-windows 0)" || fail "exported disk differs from its flat file"
vm_do lease-gone "$lease" && fail "lease $lease gone while the server still runs"
stop_disk_server
vm_do lease-gone "$lease" || fail "lease $lease not completed when the server stopped"
[ ! -e "$TMP/w" ] || fail "work dir left behind"
