#!/bin/sh
# CBT round trip on lab-multi: snapshot, QueryChangedDiskAreas("*") equals the allocated
# areas of each flat file, guest-write on disk 0, snapshot again, QueryChangedDiskAreas since
# the first changeId returns exactly the written ranges (rounded to 64 KiB), the other disks
# report nothing; unknown changeId and CBT-disabled VM give faults; snapshots are removed.
set -eu
eval "$(lab/vcsim/vcsim-lab env)"
PYTHONPATH=lab/vcsim /usr/bin/python3 - <<'PY'
import subprocess, sys
import labsoap

def fail(msg):
    print("FAIL vcsim-cbt-roundtrip: " + msg, file=sys.stderr)
    sys.exit(1)

B = 64 << 10
lab = labsoap.load()
vm = labsoap.vm(lab, "lab-multi")
c = labsoap.Client(lab)
c.login(lab["user"], lab["password"])
mo = vm["moref"]
snaps = []
try:
    s1 = c.create_snapshot(mo, "cbt-test-1")
    snaps.append(s1)
    ids1 = c.disk_change_ids("VirtualMachineSnapshot", s1)
    vm_ids = c.disk_change_ids("VirtualMachine", mo)
    keys = [d["key"] for d in vm["disks"]]
    if sorted(ids1) != sorted(keys) or not all(ids1.values()):
        fail("snapshot disks have no changeId: %r" % ids1)
    if ids1 != vm_ids:
        fail("VM disks' changeIds %r != snapshot's %r" % (vm_ids, ids1))
    for d in vm["disks"]:
        start, length, areas = c.changed_areas(mo, s1, d["key"], 0, "*")
        want = labsoap.allocated_areas(d["flat"], d["capacity"])
        if (start, length) != (0, d["capacity"]):
            fail("disk %d: DiskChangeInfo covers %d+%d, expected 0+%d" % (d["key"], start, length, d["capacity"]))
        if areas != want:
            fail("disk %d: changeId * gave %d areas %r..., allocated areas are %d %r..."
                 % (d["key"], len(areas), areas[:3], len(want), want[:3]))

    # The guest writes: disk 0, one unaligned range across data and a hole, one aligned.
    writes = [(8 * 2**20 + 512 * 1024 + 100, 200000, 7), (700 * 2**20, 3 * B, 8)]
    for off, ln, seed in writes:
        subprocess.run(["lab/vcsim/vcsim-lab", "guest-write", "lab-multi", "0", str(off), str(ln), str(seed)],
                       check=True, stdout=subprocess.DEVNULL)
    expect = [(off // B * B, (off + ln + B - 1) // B * B - off // B * B) for off, ln, _ in writes]

    s2 = c.create_snapshot(mo, "cbt-test-2")
    snaps.append(s2)
    ids2 = c.disk_change_ids("VirtualMachineSnapshot", s2)
    if any(ids2[k] == ids1[k] for k in keys):
        fail("second snapshot kept a changeId: %r vs %r" % (ids1, ids2))
    d0 = vm["disks"][0]
    _, _, areas = c.changed_areas(mo, s2, d0["key"], 0, ids1[d0["key"]])
    if areas != expect:
        fail("changes since %s: %r, expected %r" % (ids1[d0["key"]], areas, expect))
    # startOffset past the first write: only the second one.
    start, length, areas = c.changed_areas(mo, s2, d0["key"], 100 * 2**20, ids1[d0["key"]])
    if areas != expect[1:] or start != 100 * 2**20 or length != d0["capacity"] - start:
        fail("startOffset 100 MiB: %d+%d %r, expected %r" % (start, length, areas, expect[1:]))
    for d in vm["disks"][1:]:
        _, _, areas = c.changed_areas(mo, s2, d["key"], 0, ids1[d["key"]])
        if areas:
            fail("disk %d was not written but reports %r" % (d["key"], areas))
    # Nothing changed between the second snapshot and now.
    _, _, areas = c.changed_areas(mo, None, d0["key"], 0, ids2[d0["key"]])
    if areas:
        fail("no write since the second snapshot, yet %r" % areas)

    # Faults: unknown changeId; another disk's changeId; CBT disabled.
    for bad in ("52 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00/1", ids1[vm["disks"][1]["key"]]):
        try:
            c.changed_areas(mo, s2, d0["key"], 0, bad)
            fail("changeId %r was accepted" % bad)
        except labsoap.Fault as f:
            if f.kind not in ("FileFault", "InvalidArgument"):
                fail("changeId %r gave %s" % (bad, f.kind))
    lin = labsoap.vm(lab, "lab-linux-1disk")
    try:
        c.changed_areas(lin["moref"], None, lin["disks"][0]["key"], 0, "*")
        fail("QueryChangedDiskAreas on a VM without CBT succeeded")
    except labsoap.Fault as f:
        if f.kind not in ("FileFault", "InvalidArgument", "NotSupported"):
            fail("CBT disabled gave %s" % f.kind)
finally:
    for s in reversed(snaps):
        c.remove_snapshot(s)
snap = c.prop("VirtualMachine", mo, "snapshot")
if snap is not None and len(snap):
    fail("snapshots left on lab-multi")
print("ok vcsim-cbt-roundtrip: changeId * = allocated areas; changes since %s = %r" % (ids1[d0["key"]], expect))
PY
