package main

// What an NFC OPEN_FILE reaches, and the bytes it serves.
//
// Paths. OPEN_FILE carries a datastore path such as "[LocalDS_0] vm/vm.vmdk"
// (nfc_open.md "OPEN_FILE"; "the datastore path is the NFC open argument, not the ticket").
// A ticket covers the disks of its VM: a disk-scoped ticket (NfcRandomAccessOpenReadonly)
// the paths of that device, in the VM's configuration or in a snapshot's; a VM-scoped one
// (NfcGetVmFiles) the paths of all its disks ("leaf or snapshot parent", nfc_auth.md
// "Methods VDDK actually calls"). A path outside the ticket: VIX_E_FILE_ACCESS_ERROR if the
// file exists, VIX_E_FILE_NOT_FOUND if not (the codes are not documented for this case).
//
// Which state. On ESXi a snapshot freezes the disk's file and the VM goes on in a new delta
// file, so the snapshot's path and the VM's current path differ. vcsim 0.24 makes no delta
// disks: after a snapshot the VM's disk and the snapshot's disk show the same file name. The
// lab therefore decides by the ticket:
//   - disk-scoped ticket: the VM's current disk (the leaf);
//   - VM-scoped ticket: if the VM has a current snapshot whose configuration holds the path
//     (and the disk is not independent: independent disks are not part of snapshots), that
//     snapshot's point-in-time state -- on ESXi the shown path would name the frozen file,
//     the leaf having a -00000N name of its own; otherwise the current disk.
//
// Running VMs. docs/host_switch.md ("NFC needs a snapshot to open a running VM's disk"):
// opening a powered-on VM's current disk fails with an NFC error that VDDK reports as
// "Unknown error" (VIX_E_FAIL); the same open of a powered-off VM, or of the parent disk
// after a snapshot, works. The lab does the same (knob running-lock=0 turns it off).
//
// Content. What the guest sees: the descriptor's extents (RW/RDONLY/NOACCESS, FLAT, VMFS,
// ZERO; the lab's disks are one VMFS extent over a sparse flat file, disks.go), holes and
// the part of an extent beyond its file's end read as zeros. vcsim's own VMs have empty
// descriptor files: their "-flat.vmdk" sibling with the configured capacity is served.
// Hosted sparse, delta and SE-sparse extents are not supported (VIX_E_NOT_SUPPORTED).
//
// Snapshot state (copy on write). The lab keeps no point-in-time copy of a disk (cbt.go keeps
// only block hashes), so NFC keeps one the way a delta disk does: when a snapshot is taken,
// an empty overlay <state>/nfc-cow/<file key>/<snapshot>/{map,data} is made for each extent
// file of its disks, and guest-write (the only writer of lab disks once the lab is up)
// copies each 64 KiB block it is about to change into the overlays that do not hold it yet,
// under an exclusive flock of <state>/nfc-cow/lock. Reading a snapshot state takes the lock
// shared and reads preserved blocks from the overlay, the others from the flat file.
// Overlays live as long as their snapshot (removed with it, and all at harness start: vcsim
// snapshots do not survive a restart). Writes by other means (lab/lab guest-install) bypass it.

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// VIX error codes (the public vix.h); an NFC AIO error carries one (nfc_auth.md: flags 0x1a
// on a read-only ticket "returns AIO error 0x0b (VIX_E_FILE_READ_ONLY)").
const (
	vixFail            = 1
	vixInvalidArg      = 3
	vixFileNotFound    = 4
	vixNotSupported    = 6
	vixFileError       = 7
	vixFileReadOnly    = 11
	vixFileAccessError = 13
	vixDiskOutOfRange  = 16007
)

const cowBlock = 64 << 10

type extent struct {
	start, length int64 // virtual bytes
	zero          bool
	f             *os.File
	fileOff       int64
	cow           *cowView
}

// vdisk is one opened disk: its virtual content.
type vdisk struct {
	capacity int64
	extents  []extent
}

func (d *vdisk) close() {
	for _, e := range d.extents {
		if e.f != nil {
			_ = e.f.Close()
		}
		if e.cow != nil {
			e.cow.close()
		}
	}
}

// readAt fills p with the disk's bytes at off (the caller keeps the range inside).
func (d *vdisk) readAt(p []byte, off int64) error {
	for len(p) > 0 {
		var e *extent
		for i := range d.extents {
			if x := &d.extents[i]; off >= x.start && off < x.start+x.length {
				e = x
				break
			}
		}
		n := int64(len(p))
		if e == nil || e.zero {
			// Past the extents (cannot happen inside capacity) or a ZERO extent.
			if e != nil && e.start+e.length-off < n {
				n = e.start + e.length - off
			}
			for i := int64(0); i < n; i++ {
				p[i] = 0
			}
		} else {
			if e.start+e.length-off < n {
				n = e.start + e.length - off
			}
			fo := e.fileOff + off - e.start
			var err error
			if e.cow != nil {
				err = e.cow.readAt(e.f, p[:n], fo)
			} else {
				err = preadZero(e.f, p[:n], fo)
			}
			if err != nil {
				return err
			}
		}
		p, off = p[n:], off+n
	}
	return nil
}

// preadZero reads p at off; what lies beyond the file's end reads as zeros.
func preadZero(f *os.File, p []byte, off int64) error {
	m, err := f.ReadAt(p, off)
	if err != nil && err != io.EOF {
		return err
	}
	for i := m; i < len(p); i++ {
		p[i] = 0
	}
	return nil
}

var extentLine = regexp.MustCompile(`^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Z]+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$`)

// openDescriptor opens the disk whose descriptor is at desc (local path). fallbackCap is
// vSphere's capacity, used for an empty descriptor. snap: a snapshot moref whose overlays
// apply, or "".
func (s *nfcServer) openDescriptor(desc string, fallbackCap int64, snap string) (*vdisk, int, error) {
	f, err := os.Open(desc)
	if err != nil {
		return nil, vixFileNotFound, err
	}
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	if len(head) >= 4 && string(head[:4]) == "KDMV" {
		return nil, vixNotSupported, errors.New("hosted sparse VMDK: not supported by the lab")
	}
	d := &vdisk{}
	dir := filepath.Dir(desc)
	type ext struct {
		sectors int64
		kind    string
		file    string
		off     int64
	}
	var exts []ext
	sc := bufio.NewScanner(strings.NewReader(string(head)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "parentFileNameHint") {
			return nil, vixNotSupported, errors.New("delta disk: not supported by the lab")
		}
		m := extentLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		sectors, _ := strconv.ParseInt(m[2], 10, 64)
		off, _ := strconv.ParseInt(m[5], 10, 64)
		kind := m[3]
		if m[1] == "NOACCESS" {
			kind = "ZERO"
		}
		exts = append(exts, ext{sectors: sectors, kind: kind, file: m[4], off: off})
	}
	if len(exts) == 0 {
		// vcsim's own VMs: an empty descriptor next to an empty "-flat.vmdk".
		exts = []ext{{sectors: fallbackCap / 512, kind: "FLAT",
			file: strings.TrimSuffix(filepath.Base(desc), ".vmdk") + "-flat.vmdk"}}
	}
	var pos int64
	for _, e := range exts {
		x := extent{start: pos, length: e.sectors * 512}
		switch e.kind {
		case "ZERO":
			x.zero = true
		case "FLAT", "VMFS", "VMFSRAW", "VMFSRDM":
			p := filepath.Join(dir, e.file)
			if filepath.IsAbs(e.file) {
				p = e.file
			}
			if x.f, err = os.Open(p); err != nil {
				d.close()
				return nil, vixFileNotFound, err
			}
			x.fileOff = e.off * 512
			if snap != "" {
				x.cow = s.cowOpen(p, snap)
			}
		default:
			d.close()
			return nil, vixNotSupported, fmt.Errorf("%s extent: not supported by the lab", e.kind)
		}
		d.extents = append(d.extents, x)
		pos += x.length
	}
	d.capacity = pos
	return d, 0, nil
}

// dsLocal maps "[LocalDS_0] dir/x.vmdk" to the local file.
func (l *lab) dsLocal(p string) (string, bool) {
	p = strings.TrimSpace(p)
	prefix := "[" + dsName + "]"
	if !strings.HasPrefix(p, prefix) {
		return "", false
	}
	rel := strings.TrimSpace(p[len(prefix):])
	if rel == "" || strings.Contains(rel, "..") {
		return "", false
	}
	return filepath.Join(l.dsDir, filepath.Clean("/"+rel)), true
}

func diskFile(d *types.VirtualDisk) string {
	if b, ok := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
		return b.FileName
	}
	return ""
}

func diskIndependent(d *types.VirtualDisk) bool {
	if b, ok := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
		return strings.HasPrefix(b.DiskMode, "independent")
	}
	return false
}

// snapshotRefs lists a snapshot tree's morefs.
func snapshotRefs(tree []types.VirtualMachineSnapshotTree, out []types.ManagedObjectReference) []types.ManagedObjectReference {
	for _, t := range tree {
		out = append(out, t.Snapshot)
		out = snapshotRefs(t.ChildSnapshotList, out)
	}
	return out
}

func snapshotDisks(ref types.ManagedObjectReference) []*types.VirtualDisk {
	snap, ok := simulator.Map.Get(ref).(*simulator.VirtualMachineSnapshot)
	if !ok {
		return nil
	}
	var out []*types.VirtualDisk
	simulator.Map.WithLock(snap, func() { out = vmDisks(snap.Config.Hardware.Device) })
	return out
}

// nfcOpened is a resolved OPEN_FILE.
type nfcOpened struct {
	disk  *vdisk
	state string // "current" or "snapshot <moref>"
}

// resolve decides what an OPEN_FILE of path under ticket t opens; a VIX code on refusal.
func (s *nfcServer) resolve(t *nfcTicket, path string, k nfcKnobs) (*nfcOpened, int, string) {
	vm, ok := simulator.Map.Get(t.vm).(*simulator.VirtualMachine)
	if !ok {
		return nil, vixFileNotFound, "the ticket's VM no longer exists"
	}
	var power types.VirtualMachinePowerState
	var cur []*types.VirtualDisk
	var curSnap *types.ManagedObjectReference
	var all []types.ManagedObjectReference
	simulator.Map.WithLock(vm, func() {
		power = vm.Runtime.PowerState
		cur = vmDisks(vm.Config.Hardware.Device)
		if vm.Snapshot != nil {
			if vm.Snapshot.CurrentSnapshot != nil {
				c := *vm.Snapshot.CurrentSnapshot
				curSnap = &c
			}
			all = snapshotRefs(vm.Snapshot.RootSnapshotList, nil)
		}
	})
	local, inDS := s.l.dsLocal(path)
	denied := func() (*nfcOpened, int, string) {
		if inDS {
			if _, err := os.Stat(local); err == nil {
				return nil, vixFileAccessError, "the ticket does not cover " + path
			}
		}
		return nil, vixFileNotFound, "no such disk file " + path
	}
	if !inDS {
		return denied()
	}
	// The device the path belongs to, in the VM's configuration or a snapshot's.
	var disk *types.VirtualDisk
	for _, d := range cur {
		if diskFile(d) == strings.TrimSpace(path) && (t.diskKey == 0 || d.Key == t.diskKey) {
			disk = d
		}
	}
	if disk == nil {
		for _, sr := range all {
			for _, d := range snapshotDisks(sr) {
				if diskFile(d) == strings.TrimSpace(path) && (t.diskKey == 0 || d.Key == t.diskKey) {
					disk = d
				}
			}
		}
	}
	if disk == nil {
		return denied()
	}
	state, snap := "current", ""
	if t.diskKey == 0 && curSnap != nil && !diskIndependent(disk) {
		for _, d := range snapshotDisks(*curSnap) {
			if diskFile(d) == strings.TrimSpace(path) {
				state, snap = "snapshot "+curSnap.Value, curSnap.Value
			}
		}
	}
	if snap == "" && power == types.VirtualMachinePowerStatePoweredOn && k.runningLock {
		// host_switch.md: a running VM's current disk does not open over NFC.
		return nil, vixFail, "the disk is in use by the running VM " + t.vmName + " (take a snapshot, or power it off)"
	}
	capacity := disk.CapacityInBytes
	if capacity == 0 {
		capacity = disk.CapacityInKB * 1024
	}
	d, code, err := s.openDescriptor(local, capacity, snap)
	if err != nil {
		return nil, code, err.Error()
	}
	return &nfcOpened{disk: d, state: state}, 0, ""
}

// --- copy on write for snapshot states ---

func (l *lab) cowRoot() string { return filepath.Join(l.state, "nfc-cow") }

func cowKey(file string) string {
	h := sha1.Sum([]byte(filepath.Clean(file)))
	return hex.EncodeToString(h[:8])
}

type cowView struct {
	lock, m, data *os.File
}

func (c *cowView) close() {
	for _, f := range []*os.File{c.lock, c.m, c.data} {
		if f != nil {
			_ = f.Close()
		}
	}
}

func (s *nfcServer) cowOpen(file, snap string) *cowView {
	dir := filepath.Join(s.l.cowRoot(), cowKey(file), snap)
	c := &cowView{}
	var err error
	if c.lock, err = os.OpenFile(filepath.Join(s.l.cowRoot(), "lock"), os.O_RDONLY|os.O_CREATE, 0o644); err == nil {
		if c.m, err = os.Open(filepath.Join(dir, "map")); err == nil {
			c.data, err = os.Open(filepath.Join(dir, "data"))
		}
	}
	if err != nil {
		log.Printf("nfc: no point-in-time overlay for %s at %s (%v): serving the file as it is now", file, snap, err)
		c.close()
		return nil
	}
	return c
}

// readAt reads the snapshot's state of flat file f at off.
func (c *cowView) readAt(f *os.File, p []byte, off int64) error {
	if err := syscall.Flock(int(c.lock.Fd()), syscall.LOCK_SH); err != nil {
		return err
	}
	defer syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
	first, last := off/cowBlock, (off+int64(len(p))-1)/cowBlock
	bm := make([]byte, last-first+1)
	if err := preadZero(c.m, bm, first); err != nil {
		return err
	}
	for len(p) > 0 {
		b := off / cowBlock
		n := (b+1)*cowBlock - off
		if n > int64(len(p)) {
			n = int64(len(p))
		}
		src := f
		if bm[b-first] != 0 {
			src = c.data
		}
		if err := preadZero(src, p[:n], off); err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

// cowReset drops all overlays (harness start: no snapshot exists yet).
func (s *nfcServer) cowReset() {
	_ = os.RemoveAll(s.l.cowRoot())
	_ = os.MkdirAll(s.l.cowRoot(), 0o755)
}

// cowCreate makes the empty overlays of a new snapshot of vm.
func (l *lab) cowCreate(vmRef, snap types.ManagedObjectReference) {
	if l.nfc == nil {
		return
	}
	for _, d := range snapshotDisks(snap) {
		if diskIndependent(d) {
			continue
		}
		local, ok := l.dsLocal(diskFile(d))
		if !ok {
			continue
		}
		capacity := d.CapacityInBytes
		if capacity == 0 {
			capacity = d.CapacityInKB * 1024
		}
		vd, _, err := l.nfc.openDescriptor(local, capacity, "")
		if err != nil {
			continue
		}
		for _, e := range vd.extents {
			if e.f == nil {
				continue
			}
			st, err := e.f.Stat()
			if err != nil {
				continue
			}
			size := st.Size()
			if end := e.fileOff + e.length; end > size {
				size = end
			}
			dir := filepath.Join(l.cowRoot(), cowKey(e.f.Name()), snap.Value)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				continue
			}
			_ = os.WriteFile(filepath.Join(filepath.Dir(dir), "file"), []byte(e.f.Name()+"\n"), 0o644)
			for name, n := range map[string]int64{"map": (size + cowBlock - 1) / cowBlock, "data": size} {
				if f, err := os.Create(filepath.Join(dir, name)); err == nil {
					_ = f.Truncate(n)
					f.Close()
				}
			}
		}
		vd.close()
	}
	log.Printf("nfc: point-in-time overlays for %s of %s", snap.Value, vmRef.Value)
}

// nfcAfterSnapshot runs after vcsim completed CreateSnapshot_Task (handler.go).
func (l *lab) nfcAfterSnapshot(vmRef, task types.ManagedObjectReference) {
	t, ok := simulator.Map.Get(task).(*simulator.Task)
	if !ok {
		return
	}
	var snap types.ManagedObjectReference
	simulator.Map.WithLock(t, func() {
		if ref, ok := t.Info.Result.(types.ManagedObjectReference); ok && t.Info.State == types.TaskInfoStateSuccess {
			snap = ref
		}
	})
	if snap.Value != "" {
		l.cowCreate(vmRef, snap)
	}
}

// nfcInventoryReady makes overlays for the snapshots the inventory made at start.
func (l *lab) nfcInventoryReady() {
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm, ok := e.(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		var refs []types.ManagedObjectReference
		simulator.Map.WithLock(vm, func() {
			if vm.Snapshot != nil {
				refs = snapshotRefs(vm.Snapshot.RootSnapshotList, nil)
			}
		})
		for _, r := range refs {
			l.cowCreate(vm.Reference(), r)
		}
	}
}

// nfcSnapshotsRemoved drops the overlays of snapshots that no longer exist (handler.go,
// after RemoveSnapshot_Task / RemoveAllSnapshots_Task).
func (l *lab) nfcSnapshotsRemoved() {
	keys, _ := os.ReadDir(l.cowRoot())
	for _, k := range keys {
		if !k.IsDir() {
			continue
		}
		snaps, _ := os.ReadDir(filepath.Join(l.cowRoot(), k.Name()))
		for _, sn := range snaps {
			if !sn.IsDir() {
				continue
			}
			ref := types.ManagedObjectReference{Type: "VirtualMachineSnapshot", Value: sn.Name()}
			if simulator.Map.Get(ref) == nil {
				_ = os.RemoveAll(filepath.Join(l.cowRoot(), k.Name(), sn.Name()))
			}
		}
		if left, _ := os.ReadDir(filepath.Join(l.cowRoot(), k.Name())); len(left) <= 1 {
			_ = os.RemoveAll(filepath.Join(l.cowRoot(), k.Name())) // only "file" is left
		}
	}
}

// nfcGuestWriteCmd is `ferry-vcsim guest-write`: before the write (guestWriteCmd, unchanged)
// the blocks it changes are copied into the overlays of the disk's live snapshots.
func nfcGuestWriteCmd(args []string) int {
	fs := flag.NewFlagSet("guest-write", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	state := fs.String("state", "", "")
	if fs.Parse(args) != nil || *state == "" || len(fs.Args()) < 4 {
		return guestWriteCmd(args)
	}
	a := fs.Args()
	disk, err1 := strconv.ParseInt(a[1], 0, 64)
	off, err2 := strconv.ParseInt(a[2], 0, 64)
	n, err3 := strconv.ParseInt(a[3], 0, 64)
	b, err := os.ReadFile(filepath.Join(*state, "lab.json"))
	if err != nil || err1 != nil || err2 != nil || err3 != nil {
		return guestWriteCmd(args)
	}
	var j labJSON
	if json.Unmarshal(b, &j) != nil {
		return guestWriteCmd(args)
	}
	var flat string
	var capacity int64
	for _, vm := range j.VMs {
		if vm.Name == a[0] && disk >= 0 && disk < int64(len(vm.Disks)) {
			flat, capacity = vm.Disks[disk].Flat, vm.Disks[disk].Capacity
		}
	}
	root := filepath.Join(*state, "nfc-cow")
	snaps, _ := os.ReadDir(filepath.Join(root, cowKey(flat)))
	if flat == "" || len(snaps) == 0 || off < 0 || n <= 0 || off+n > capacity {
		return guestWriteCmd(args)
	}
	lock, err := os.OpenFile(filepath.Join(root, "lock"), os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return guestWriteCmd(args)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return guestWriteCmd(args)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if err := cowPreserve(flat, filepath.Join(root, cowKey(flat)), snaps, off, n); err != nil {
		fmt.Fprintf(os.Stderr, "guest-write: keeping the snapshots' point-in-time data: %v\n", err)
		return 1
	}
	return guestWriteCmd(args)
}

// cowPreserve copies the blocks of [off, off+n) of flat into each snapshot overlay under
// dir that does not hold them yet.
func cowPreserve(flat, dir string, snaps []os.DirEntry, off, n int64) error {
	src, err := os.Open(flat)
	if err != nil {
		return err
	}
	defer src.Close()
	buf := make([]byte, cowBlock)
	for _, sn := range snaps {
		if !sn.IsDir() {
			continue
		}
		m, err := os.OpenFile(filepath.Join(dir, sn.Name(), "map"), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		data, err := os.OpenFile(filepath.Join(dir, sn.Name(), "data"), os.O_RDWR, 0)
		if err != nil {
			m.Close()
			return err
		}
		for blk := off / cowBlock; blk*cowBlock < off+n; blk++ {
			var have [1]byte
			_, _ = m.ReadAt(have[:], blk)
			if have[0] != 0 {
				continue
			}
			if err := preadZero(src, buf, blk*cowBlock); err != nil {
				break
			}
			if _, err = data.WriteAt(buf, blk*cowBlock); err == nil {
				_, err = m.WriteAt([]byte{1}, blk)
			}
			if err != nil {
				m.Close()
				data.Close()
				return err
			}
		}
		m.Close()
		data.Close()
	}
	return nil
}
