#!/bin/sh
# Disk content of the lab VMs: every disk's flat file exists with the capacity's size, its
# descriptor is a valid VMDK (qemu-img info: vmdk, createType vmfs, extent = the flat file),
# the data follows the documented pattern (checked at stride 3 of the disks of VMs other than
# lab-multi: lab-multi is the CBT VM that warm-migration tests write to; nor of lab-linux-1disk
# when it holds the bootable guest), has holes,
# and the datastore's HTTPS file access (GET /folder/...?dcPath=DC0&dsName=LocalDS_0 with a
# Range header) returns the same bytes as the file.
set -eu
eval "$(lab/vcsim/vcsim-lab env)"
PYTHONPATH=lab/vcsim /usr/bin/python3 - <<'PY'
import hashlib, json, os, struct, subprocess, sys, urllib.parse
import labsoap

def fail(msg):
    print("FAIL vcsim-disk-content: " + msg, file=sys.stderr)
    sys.exit(1)

M64 = (1 << 64) - 1
def fnv64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & M64
    return h

def stream(seed, n):
    out, s = bytearray(), seed
    for _ in range((n + 7) // 8):
        s = (s + 0x9E3779B97F4A7C15) & M64
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        out += struct.pack("<Q", z)
    return bytes(out[:n])

lab = labsoap.load()
ds = lab["datastore"]["path"]
if ds != os.environ["FERRY_LAB_DATASTORE"]:
    fail("lab.json datastore %s != FERRY_LAB_DATASTORE %s" % (ds, os.environ["FERRY_LAB_DATASTORE"]))
c = labsoap.Client(lab)
c.login(lab["user"], lab["password"])
names = ("lab-linux-1disk", "lab-multi", "lab-windows", "lab-blocked")
# lab/lab up installs a bootable guest (lab/guest) as lab-linux-1disk's disk.
guest_installed = os.path.exists(os.path.join(os.environ.get("FERRY_LAB_DIR", "/var/lib/ferry-lab"),
                                              "vcsim", "guest-installed"))
ndisks = 0
for name in names:
    vm = labsoap.vm(lab, name)
    # vSphere's view of the disks matches lab.json.
    devs = c.prop("VirtualMachine", vm["moref"], "config.hardware.device")
    seen = {}
    for d in devs:
        if labsoap.xsi_type(d) == "VirtualDisk":
            key = int(d.findtext("v:key", namespaces=labsoap.N))
            seen[key] = (d.findtext("v:backing/v:fileName", namespaces=labsoap.N),
                         int(d.findtext("v:capacityInBytes", namespaces=labsoap.N)))
    want = {d["key"]: (d["file"], d["capacity"]) for d in vm["disks"]}
    if seen != want:
        fail("%s: vSphere shows disks %r, lab.json says %r" % (name, seen, want))
    for d in vm["disks"]:
        ndisks += 1
        st = os.stat(d["flat"])
        if st.st_size != d["capacity"]:
            fail("%s: size %d != capacity %d" % (d["flat"], st.st_size, d["capacity"]))
        if st.st_blocks * 512 >= d["capacity"]:
            fail("%s is not sparse" % d["flat"])
        rel = d["file"].split("] ", 1)[1]
        if os.path.join(ds, rel) != d["descriptor"]:
            fail("descriptor %s is not at the backing path %s" % (d["descriptor"], d["file"]))
        info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", d["descriptor"]],
                                         check=True, capture_output=True, text=True).stdout)
        spec = info.get("format-specific", {}).get("data", {})
        ext = spec.get("extents", [{}])
        if (info["format"] != "vmdk" or info["virtual-size"] != d["capacity"] or spec.get("create-type") != "vmfs"
                or len(ext) != 1 or os.path.realpath(ext[0].get("filename", "")) != os.path.realpath(d["flat"])):
            fail("qemu-img info %s: %r" % (d["descriptor"], info))
        # Pattern: stride 3 (12 MiB) holds fill bytes of the seeded stream, then a hole.
        if d["capacity"] > 16 << 20 and name != "lab-multi" and not (
                name == "lab-linux-1disk" and guest_installed):
            off = 12 << 20
            with open(d["flat"], "rb") as f:
                f.seek(off)
                got = f.read(d["fill"] + 4096)
            exp = stream(fnv64("%s/%d/%d" % (name, d["index"], 3)), d["fill"]) + bytes(4096)
            if got != exp:
                fail("%s: stride 3 does not hold the documented pattern" % d["flat"])
        # Datastore HTTPS access with Range: a data run and the hole after it.
        for off, ln in ((0, 4096), (d["fill"] - 1000, 5000), (d["capacity"] - 70000, 70000)):
            path = "/folder/%s?dcPath=DC0&dsName=LocalDS_0" % urllib.parse.quote(rel.replace(".vmdk", "-flat.vmdk"))
            conn = c.conn()
            conn.request("GET", path, headers={"Range": "bytes=%d-%d" % (off, off + ln - 1), "Cookie": c.cookie})
            r = conn.getresponse()
            body = r.read()
            conn.close()
            with open(d["flat"], "rb") as f:
                f.seek(off)
                local = f.read(ln)
            if r.status != 206 or body != local:
                fail("GET %s Range %d+%d: HTTP %d, %d bytes, equal=%s" % (path, off, ln, r.status, len(body), body == local))
print("ok vcsim-disk-content: %d disks of %d VMs: sizes, descriptors, pattern, datastore HTTPS ranges" % (ndisks, len(names)))
PY
