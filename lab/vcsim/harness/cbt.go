package main

// Changed Block Tracking, emulated. vcsim 0.24 keeps changeTrackingEnabled but never sets
// backing.changeId, makes no delta disks and lacks QueryChangedDiskAreas.
//
// On every CreateSnapshot_Task of a VM with changeTrackingEnabled, each disk gets a new
// changeId "<52 xx .. xx-xx .. xx>/<seq>" (the uuid part is per disk, as on ESXi), set as
// backing.changeId on the VM's current disk and on the snapshot's disk, and a record of the
// disk's flat file is kept: one crc64 per 64 KiB block, 0 for all-zero blocks. Records are
// persisted under <state>/cbt/<vm>/<disk index>/ so a harness restart keeps change ids valid.
//
// QueryChangedDiskAreas(snapshot, deviceKey, startOffset, changeId):
//   "to" state  = the record of the snapshot's changeId (the current flat file if no snapshot)
//   changeId "*" -> blocks of "to" that are not all-zero (the allocated areas)
//   known id     -> blocks whose record differs between that id and "to"
//   unknown id   -> FileFault; CBT disabled -> FileFault
// The answer covers [startOffset, capacity): areas are merged runs of 64 KiB blocks.

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type cbtDisk struct {
	dir  string // <state>/cbt/<vm>/<index>
	uuid string // "52 xx ... xx-xx ... xx"
	seq  int
}

type cbtStore struct {
	mu    sync.Mutex
	root  string
	disks map[string]*cbtDisk // by "<vm>/<index>"
	byID  map[string]*cbtDisk // by uuid part
	cache map[string][]uint64 // changeId -> record
}

var crcTable = crc64.MakeTable(crc64.ECMA)

func openCBT(root string) (*cbtStore, error) {
	s := &cbtStore{root: root, disks: map[string]*cbtDisk{}, byID: map[string]*cbtDisk{}, cache: map[string][]uint64{}}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	vms, _ := os.ReadDir(root)
	for _, vm := range vms {
		idxs, _ := os.ReadDir(filepath.Join(root, vm.Name()))
		for _, idx := range idxs {
			dir := filepath.Join(root, vm.Name(), idx.Name())
			u, err := readTrim(filepath.Join(dir, "uuid"))
			if err != nil {
				continue
			}
			d := &cbtDisk{dir: dir, uuid: u}
			recs, _ := os.ReadDir(dir)
			for _, r := range recs {
				if n, err := strconv.Atoi(strings.TrimSuffix(r.Name(), ".rec")); err == nil && strings.HasSuffix(r.Name(), ".rec") && n > d.seq {
					d.seq = n
				}
			}
			s.disks[vm.Name()+"/"+idx.Name()] = d
			s.byID[u] = d
		}
	}
	return s, nil
}

func (s *cbtStore) disk(vm string, index int) (*cbtDisk, error) {
	key := fmt.Sprintf("%s/%d", vm, index)
	if d, ok := s.disks[key]; ok {
		return d, nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	b[0] = 0x52
	h := make([]string, 16)
	for i, x := range b {
		h[i] = fmt.Sprintf("%02x", x)
	}
	d := &cbtDisk{dir: filepath.Join(s.root, vm, strconv.Itoa(index)), uuid: strings.Join(h[:8], " ") + "-" + strings.Join(h[8:], " ")}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(d.dir, "uuid"), []byte(d.uuid+"\n"), 0o644); err != nil {
		return nil, err
	}
	s.disks[key] = d
	s.byID[d.uuid] = d
	return d, nil
}

// record returns the record of a changeId, or nil if it is unknown.
func (s *cbtStore) record(changeID string) []uint64 {
	if r, ok := s.cache[changeID]; ok {
		return r
	}
	i := strings.LastIndex(changeID, "/")
	if i < 0 {
		return nil
	}
	d, ok := s.byID[changeID[:i]]
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(changeID[i+1:])
	if err != nil || n <= 0 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(d.dir, fmt.Sprintf("%d.rec", n)))
	if err != nil {
		return nil
	}
	r := make([]uint64, len(b)/8)
	for j := range r {
		r[j] = binary.LittleEndian.Uint64(b[j*8:])
	}
	s.cache[changeID] = r
	return r
}

// add stores a new record for the disk and returns its changeId.
func (s *cbtStore) add(d *cbtDisk, rec []uint64) (string, error) {
	d.seq++
	b := make([]byte, 8*len(rec))
	for j, v := range rec {
		binary.LittleEndian.PutUint64(b[j*8:], v)
	}
	p := filepath.Join(d.dir, fmt.Sprintf("%d.rec", d.seq))
	if err := os.WriteFile(p+".tmp", b, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return "", err
	}
	id := fmt.Sprintf("%s/%d", d.uuid, d.seq)
	s.cache[id] = rec
	return id, nil
}

// blockHashes reads a flat file (skipping holes) and returns one crc64 per 64 KiB block of
// the disk's capacity; 0 marks an all-zero block (a hole, or zeros written).
func blockHashes(path string, capacity int64) ([]uint64, error) {
	n := (capacity + cbtBlock - 1) / cbtBlock
	rec := make([]uint64, n)
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return rec, nil
		}
		return nil, err
	}
	defer f.Close()
	fd := int(f.Fd())
	buf := make([]byte, cbtBlock)
	zero := make([]byte, cbtBlock)
	off := int64(0)
	for off < capacity {
		data, err := syscall.Seek(fd, off, 3) // SEEK_DATA
		if err != nil {
			if errors.Is(err, syscall.ENXIO) {
				break
			}
			data = off // no SEEK_DATA support: read everything
		}
		hole, err := syscall.Seek(fd, data, 4) // SEEK_HOLE
		if err != nil {
			hole = capacity
		}
		if hole > capacity {
			hole = capacity
		}
		for blk := data / cbtBlock; blk*cbtBlock < hole; blk++ {
			m, err := f.ReadAt(buf, blk*cbtBlock)
			if err != nil && err != io.EOF {
				return nil, err
			}
			b := buf[:m]
			if m == 0 || bytes.Equal(b, zero[:m]) {
				rec[blk] = 0
				continue
			}
			h := crc64.Checksum(b, crcTable)
			if h == 0 {
				h = 1
			}
			rec[blk] = h
		}
		off = (hole + cbtBlock - 1) / cbtBlock * cbtBlock
		if off <= data {
			off = data + cbtBlock
		}
	}
	return rec, nil
}

// vmDisks lists (index, disk) of a config's device list in device order.
func vmDisks(devices []types.BaseVirtualDevice) []*types.VirtualDisk {
	var out []*types.VirtualDisk
	for _, dev := range devices {
		if d, ok := dev.(*types.VirtualDisk); ok {
			out = append(out, d)
		}
	}
	return out
}

// flatOf resolves a disk backing's "[LocalDS_0] dir/x.vmdk" to the flat file on disk.
func (l *lab) flatOf(disk *types.VirtualDisk) (string, bool) {
	b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	if !ok {
		return "", false
	}
	var p string
	if i := strings.Index(b.FileName, "] "); i >= 0 && strings.HasPrefix(b.FileName, "["+dsName+"]") {
		p = b.FileName[i+2:]
	} else {
		return "", false
	}
	return filepath.Join(l.dsDir, strings.TrimSuffix(p, ".vmdk")+"-flat.vmdk"), true
}

// cbtSnapshot is called after vcsim created snapshot snap of vm.
func (l *lab) cbtSnapshot(vmRef, snapRef types.ManagedObjectReference) error {
	vm, ok := simulator.Map.Get(vmRef).(*simulator.VirtualMachine)
	if !ok {
		return nil
	}
	snap, ok := simulator.Map.Get(snapRef).(*simulator.VirtualMachineSnapshot)
	if !ok {
		return nil
	}
	var name string
	var enabled bool
	var disks []*types.VirtualDisk
	simulator.Map.WithLock(vm, func() {
		name = vm.Name
		enabled = vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
		disks = vmDisks(vm.Config.Hardware.Device)
	})
	if !enabled {
		return nil
	}
	l.cbt.mu.Lock()
	defer l.cbt.mu.Unlock()
	ids := map[int32]string{}
	for i, disk := range disks {
		flat, ok := l.flatOf(disk)
		if !ok {
			continue
		}
		rec, err := blockHashes(flat, disk.CapacityInBytes)
		if err != nil {
			return err
		}
		d, err := l.cbt.disk(name, i)
		if err != nil {
			return err
		}
		id, err := l.cbt.add(d, rec)
		if err != nil {
			return err
		}
		ids[disk.Key] = id
	}
	// The VM's disks get the new ids. vcsim copied the config into the snapshot shallowly
	// (the device list is shared with the VM), so give the snapshot its own disk devices.
	simulator.Map.WithLock(vm, func() {
		setChangeIDs(vm.Config.Hardware.Device, ids)
	})
	simulator.Map.WithLock(snap, func() {
		devs := make([]types.BaseVirtualDevice, len(snap.Config.Hardware.Device))
		for i, dev := range snap.Config.Hardware.Device {
			if d, ok := dev.(*types.VirtualDisk); ok {
				c := *d
				if b, ok := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
					bc := *b
					c.Backing = &bc
				}
				dev = &c
			}
			devs[i] = dev
		}
		snap.Config.Hardware.Device = devs
		setChangeIDs(devs, ids)
	})
	log.Printf("cbt: %s snapshot %s: %v", name, snapRef.Value, ids)
	return nil
}

func setChangeIDs(devices []types.BaseVirtualDevice, ids map[int32]string) {
	for _, d := range vmDisks(devices) {
		if id, ok := ids[d.Key]; ok {
			if b, ok := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
				b.ChangeId = id
			}
		}
	}
}

// cbtRestore puts the latest persisted changeIds back on a CBT-enabled VM's disks at start.
func (l *lab) cbtRestore(vmRef types.ManagedObjectReference, name string) {
	vm, ok := simulator.Map.Get(vmRef).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	l.cbt.mu.Lock()
	defer l.cbt.mu.Unlock()
	simulator.Map.WithLock(vm, func() {
		ids := map[int32]string{}
		for i, disk := range vmDisks(vm.Config.Hardware.Device) {
			if d, ok := l.cbt.disks[fmt.Sprintf("%s/%d", name, i)]; ok && d.seq > 0 {
				ids[disk.Key] = fmt.Sprintf("%s/%d", d.uuid, d.seq)
			}
		}
		setChangeIDs(vm.Config.Hardware.Device, ids)
	})
}

func fileFault(file, msg string) soap.HasFault {
	return &methods.QueryChangedDiskAreasBody{Fault_: simulator.Fault(msg, &types.FileFault{File: file})}
}

// QueryChangedDiskAreas is the vSphere method, dispatched by vcsim to the VM's LabVmExt.
func (e *vmExt) QueryChangedDiskAreas(ctx *simulator.Context, req *types.QueryChangedDiskAreas) soap.HasFault {
	l := e.lab
	vm, ok := simulator.Map.Get(e.vmRef()).(*simulator.VirtualMachine)
	if !ok {
		return &methods.QueryChangedDiskAreasBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: e.vmRef()})}
	}
	var enabled bool
	var devices []types.BaseVirtualDevice
	simulator.Map.WithLock(vm, func() {
		enabled = vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
		devices = vm.Config.Hardware.Device
	})
	if req.Snapshot != nil {
		snap, ok := simulator.Map.Get(*req.Snapshot).(*simulator.VirtualMachineSnapshot)
		if !ok || snap.Vm != e.vmRef() {
			return &methods.QueryChangedDiskAreasBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: *req.Snapshot})}
		}
		simulator.Map.WithLock(snap, func() { devices = snap.Config.Hardware.Device })
	}
	var disk *types.VirtualDisk
	for _, d := range vmDisks(devices) {
		if d.Key == req.DeviceKey {
			disk = d
		}
	}
	if disk == nil {
		return &methods.QueryChangedDiskAreasBody{Fault_: simulator.Fault("no virtual disk with this device key",
			&types.InvalidArgument{InvalidProperty: "deviceKey"})}
	}
	b, _ := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	fileName := ""
	if b != nil {
		fileName = b.FileName
	}
	if !enabled {
		return fileFault(fileName, "Error caused by file "+fileName+": changed block tracking is not enabled")
	}
	capacity := disk.CapacityInBytes
	if capacity == 0 {
		capacity = disk.CapacityInKB * 1024
	}
	if req.StartOffset < 0 || req.StartOffset > capacity {
		return &methods.QueryChangedDiskAreasBody{Fault_: simulator.Fault("startOffset beyond the end of the disk",
			&types.InvalidArgument{InvalidProperty: "startOffset"})}
	}

	l.cbt.mu.Lock()
	defer l.cbt.mu.Unlock()
	var to []uint64
	if req.Snapshot != nil {
		if b == nil || b.ChangeId == "" {
			return fileFault(fileName, "Error caused by file "+fileName+": the snapshot has no change id")
		}
		if to = l.cbt.record(b.ChangeId); to == nil {
			return fileFault(fileName, "Error caused by file "+fileName+": change tracking data lost")
		}
	} else {
		flat, ok := l.flatOf(disk)
		if !ok {
			return fileFault(fileName, "Error caused by file "+fileName)
		}
		var err error
		if to, err = blockHashes(flat, capacity); err != nil {
			return fileFault(fileName, "Error caused by file "+fileName+": "+err.Error())
		}
	}
	var from []uint64
	if req.ChangeId != "*" {
		from = l.cbt.record(req.ChangeId)
		// A changeId belongs to one disk: its uuid part must match the disk's.
		own := b != nil && b.ChangeId != "" && strings.SplitN(b.ChangeId, "/", 2)[0] == strings.SplitN(req.ChangeId, "/", 2)[0]
		if from == nil || !own || len(from) != len(to) {
			return fileFault(fileName, "Error caused by file "+fileName+": unknown changeId "+req.ChangeId)
		}
	}
	var areas []types.DiskChangeExtent
	startBlk := req.StartOffset / cbtBlock
	for blk := startBlk; blk < int64(len(to)); blk++ {
		changed := to[blk] != 0
		if from != nil {
			changed = to[blk] != from[blk]
		}
		if !changed {
			continue
		}
		s, n := blk*cbtBlock, int64(cbtBlock)
		if s < req.StartOffset {
			n -= req.StartOffset - s
			s = req.StartOffset
		}
		if s+n > capacity {
			n = capacity - s
		}
		if k := len(areas) - 1; k >= 0 && areas[k].Start+areas[k].Length == s {
			areas[k].Length += n
		} else {
			areas = append(areas, types.DiskChangeExtent{Start: s, Length: n})
		}
	}
	sort.Slice(areas, func(i, j int) bool { return areas[i].Start < areas[j].Start })
	return &methods.QueryChangedDiskAreasBody{Res: &types.QueryChangedDiskAreasResponse{Returnval: types.DiskChangeInfo{
		StartOffset: req.StartOffset, Length: capacity - req.StartOffset, ChangedArea: areas}}}
}
