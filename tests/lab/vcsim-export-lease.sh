#!/bin/sh
# ExportVm: on powered-off lab-windows (powered off for the test, powered on again after),
# the HttpNfcLease becomes ready, its info has one disk deviceUrl with the server thumbprint,
# the URL refuses requests without the session cookie, serves a streamOptimized VMDK with it,
# qemu-img compare finds it identical to the flat disk, HttpNfcLeaseProgress and
# HttpNfcLeaseComplete work and the lease is gone afterwards. ExportVm on a running VM fails.
set -eu
eval "$(lab/vcsim/vcsim-lab env)"
PYTHONPATH=lab/vcsim /usr/bin/python3 - <<'PY'
import os, shutil, subprocess, sys, tempfile, time, urllib.parse
import labsoap
N = labsoap.N

def fail(msg):
    print("FAIL vcsim-export-lease: " + msg, file=sys.stderr)
    sys.exit(1)

lab = labsoap.load()
vm = labsoap.vm(lab, "lab-windows")
mo = vm["moref"]
c = labsoap.Client(lab)
c.login(lab["user"], lab["password"])

def power():
    return c.prop("VirtualMachine", mo, "runtime.powerState").text

try:
    c.call("ExportVm", "VirtualMachine", mo)
    if power() == "poweredOn":
        fail("ExportVm on a powered-on VM succeeded")
except labsoap.Fault as f:
    if f.kind != "InvalidPowerState":
        fail("ExportVm on a running VM gave %s, expected InvalidPowerState" % f.kind)

was_on = power() == "poweredOn"
tmp = tempfile.mkdtemp(prefix="export-test-", dir=labsoap.state_dir())
try:
    if was_on:
        c.task("PowerOffVM_Task", "VirtualMachine", mo)
    lease = c.call("ExportVm", "VirtualMachine", mo).findtext("v:returnval", namespaces=N)
    end = time.time() + 180
    while True:
        state = c.prop("HttpNfcLease", lease, "state").text
        if state == "ready":
            break
        if state == "error" or time.time() > end:
            fail("lease %s state %s" % (lease, state))
        time.sleep(0.5)
    info = c.prop("HttpNfcLease", lease, "info")
    urls = info.findall("v:deviceUrl", N)
    if len(urls) != len(vm["disks"]):
        fail("%d deviceUrl for %d disks" % (len(urls), len(vm["disks"])))
    total = int(info.findtext("v:totalDiskCapacityInKB", namespaces=N))
    if total != sum(d["capacity"] for d in vm["disks"]) // 1024:
        fail("totalDiskCapacityInKB %d" % total)
    if info.findtext("v:entity", namespaces=N) != mo:
        fail("lease entity is not %s" % mo)
    for du, disk in zip(urls, vm["disks"]):
        url = du.findtext("v:url", namespaces=N)
        if du.findtext("v:disk", namespaces=N) != "true" or du.findtext("v:sslThumbprint", namespaces=N) != os.environ["FERRY_LAB_VCENTER_THUMBPRINT"]:
            fail("deviceUrl %s: disk/sslThumbprint wrong" % url)
        u = urllib.parse.urlsplit(url)
        if u.scheme != "https" or u.netloc != os.environ["FERRY_LAB_VCENTER_HOST"]:
            fail("deviceUrl %s does not point at the lab vCenter" % url)
        conn = c.conn()
        conn.request("GET", u.path)
        r = conn.getresponse(); r.read(); conn.close()
        if r.status not in (401, 403):
            fail("GET %s without session cookie: HTTP %d" % (url, r.status))
        out = os.path.join(tmp, os.path.basename(u.path))
        conn = c.conn()
        conn.request("GET", u.path, headers={"Cookie": c.cookie})
        r = conn.getresponse()
        if r.status != 200:
            fail("GET %s: HTTP %d" % (url, r.status))
        with open(out, "wb") as f:
            shutil.copyfileobj(r, f, 1 << 20)
        conn.close()
        c.call("HttpNfcLeaseProgress", "HttpNfcLease", lease, "<percent>50</percent>")
        info = subprocess.run(["qemu-img", "info", out], capture_output=True, text=True).stdout
        if "streamOptimized" not in info:
            fail("%s is not a streamOptimized VMDK:\n%s" % (url, info))
        r = subprocess.run(["qemu-img", "compare", "-f", "vmdk", "-F", "raw", out, disk["flat"]], capture_output=True, text=True)
        if r.returncode != 0:
            fail("qemu-img compare %s %s: %s%s" % (out, disk["flat"], r.stdout, r.stderr))
    c.call("HttpNfcLeaseComplete", "HttpNfcLease", lease)
    try:
        st = c.prop("HttpNfcLease", lease, "state")
        fail("lease still exists after HttpNfcLeaseComplete (state %s)" % (st.text if st is not None else None))
    except labsoap.Fault:
        pass
finally:
    shutil.rmtree(tmp, ignore_errors=True)
    if was_on and power() != "poweredOn":
        c.task("PowerOnVM_Task", "VirtualMachine", mo)
print("ok vcsim-export-lease: lease %s ready, %d disk(s) downloaded with the session cookie, identical to the flat files" % (lease, len(urls)))
PY
