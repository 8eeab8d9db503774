package main

// Real disk content. Each lab VM disk is, as on ESXi, a VMDK descriptor
// (createType "vmfs", one VMFS extent) plus a sparse "-flat.vmdk" extent at the disk's
// backing path in the datastore directory.
//
// Data pattern (reproducible from the VM name and the disk index, documented in lab.json):
//   the disk is cut into 4 MiB strides; stride c (offset c*4 MiB) starts with FILL bytes
//   (1 MiB for the named lab VMs, 64 KiB for lab-scale-* VMs, clipped to the capacity) of the
//   splitmix64 stream seeded with fnv1a64("<vm>/<disk index>/<c>"); the rest is a hole.
//   splitmix64: s += 0x9E3779B97F4A7C15; z = s; z = (z^(z>>30))*0xBF58476D1CE4E5B9;
//   z = (z^(z>>27))*0x94D049BB133111EB; z ^= z>>31; each z gives 8 bytes little-endian.
// guest-write data: the splitmix64 stream seeded with fnv1a64("guest-write/<seed>/<offset>");
//   any 64 KiB-aligned piece that would leave the disk unchanged is written inverted, so the
//   write always changes every block it touches.
// Files are generated once (into a temporary name, then renamed) and kept across restarts:
// guest writes made since survive, as on a real datastore.

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
)

const (
	stride    = 4 << 20
	cbtBlock  = 64 << 10
	fillLab   = 1 << 20
	fillScale = 64 << 10
)

type diskSpec struct {
	VM       string
	Index    int
	Capacity int64
	Fill     int64
	Adapter  string // ddb.adapterType
	Mode     string // persistent, independent_persistent, ...
}

// baseName is the descriptor's file name in the VM directory, named as vSphere names them.
func (d diskSpec) baseName() string {
	if d.Index == 0 {
		return d.VM + ".vmdk"
	}
	return fmt.Sprintf("%s_%d.vmdk", d.VM, d.Index)
}

func (d diskSpec) flatName() string { return strings.TrimSuffix(d.baseName(), ".vmdk") + "-flat.vmdk" }

// DatastorePath is the backing file name as vSphere shows it.
func (d diskSpec) DatastorePath() string { return fmt.Sprintf("[LocalDS_0] %s/%s", d.VM, d.baseName()) }

func (d diskSpec) descriptorPath(dsDir string) string {
	return filepath.Join(dsDir, d.VM, d.baseName())
}

func (d diskSpec) flatPath(dsDir string) string { return filepath.Join(dsDir, d.VM, d.flatName()) }

func fnv64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// fillStream fills buf with the splitmix64 stream for seed.
func fillStream(buf []byte, seed uint64) {
	s := seed
	var tmp [8]byte
	for i := 0; i < len(buf); i += 8 {
		s += 0x9E3779B97F4A7C15
		z := s
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		z ^= z >> 31
		if i+8 <= len(buf) {
			binary.LittleEndian.PutUint64(buf[i:], z)
		} else {
			binary.LittleEndian.PutUint64(tmp[:], z)
			copy(buf[i:], tmp[:])
		}
	}
}

// diskUUID is a stable ddb.uuid / backing uuid for the disk.
func (d diskSpec) uuidBytes() [16]byte {
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], fnv64("uuid-a/"+d.VM+fmt.Sprint("/", d.Index)))
	binary.BigEndian.PutUint64(u[8:], fnv64("uuid-b/"+d.VM+fmt.Sprint("/", d.Index)))
	u[0] = 0x60
	u[1] = 0x00
	u[2] = 0xC2
	return u
}

// BackingUUID in vSphere's backing.uuid notation.
func (d diskSpec) BackingUUID() string {
	u := d.uuidBytes()
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func (d diskSpec) descriptor() string {
	u := d.uuidBytes()
	hexs := make([]string, 16)
	for i, b := range u {
		hexs[i] = fmt.Sprintf("%02x", b)
	}
	sectors := d.Capacity / 512
	cyl := sectors / (255 * 63)
	cid := uint32(fnv64("cid/" + d.VM + fmt.Sprint("/", d.Index)))
	return fmt.Sprintf(`# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=%08x
parentCID=ffffffff
createType="vmfs"

# Extent description
RW %d VMFS "%s"

# The Disk Data Base
#DDB

ddb.adapterType = "%s"
ddb.geometry.cylinders = "%d"
ddb.geometry.heads = "255"
ddb.geometry.sectors = "63"
ddb.longContentID = "%016x%08x"
ddb.thinProvisioned = "1"
ddb.uuid = "%s"
ddb.virtualHWVersion = "14"
`, cid, sectors, d.flatName(), d.Adapter, cyl, fnv64("lcid/"+d.VM+fmt.Sprint("/", d.Index)), cid,
		strings.Join(hexs[:8], " ")+"-"+strings.Join(hexs[8:], " "))
}

// ensureDisk writes the descriptor (if its content differs) and generates the flat extent
// unless one of the right size exists.
func ensureDisk(dsDir string, d diskSpec) error {
	dir := filepath.Join(dsDir, d.VM)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	desc := d.descriptor()
	if old, err := os.ReadFile(d.descriptorPath(dsDir)); err != nil || string(old) != desc {
		if err := os.WriteFile(d.descriptorPath(dsDir), []byte(desc), 0o644); err != nil {
			return err
		}
	}
	flat := d.flatPath(dsDir)
	if st, err := os.Stat(flat); err == nil && st.Size() == d.Capacity {
		return nil
	}
	tmp := flat + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := f.Truncate(d.Capacity); err != nil {
		f.Close()
		return err
	}
	buf := make([]byte, d.Fill)
	for c := int64(0); c*stride < d.Capacity; c++ {
		n := d.Fill
		if c*stride+n > d.Capacity {
			n = d.Capacity - c*stride
		}
		fillStream(buf[:n], fnv64(fmt.Sprintf("%s/%d/%d", d.VM, d.Index, c)))
		if _, err := f.WriteAt(buf[:n], c*stride); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, flat)
}

// guestWrite writes LENGTH bytes of seeded data at OFFSET into a flat file, playing a guest.
func guestWrite(flat string, capacity, offset, length int64, seed uint64) error {
	if offset < 0 || length <= 0 || offset+length > capacity {
		return fmt.Errorf("range %d+%d outside the disk (capacity %d)", offset, length, capacity)
	}
	f, err := os.OpenFile(flat, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	data := make([]byte, length)
	fillStream(data, fnv64(fmt.Sprintf("guest-write/%d/%d", seed, offset)))
	old := make([]byte, cbtBlock)
	for pos := offset; pos < offset+length; {
		end := (pos/cbtBlock + 1) * cbtBlock
		if end > offset+length {
			end = offset + length
		}
		piece := data[pos-offset : end-offset]
		n, _ := f.ReadAt(old[:len(piece)], pos)
		if n == len(piece) && string(old[:n]) == string(piece) {
			for i := range piece {
				piece[i] ^= 0xFF
			}
		}
		pos = end
	}
	if _, err := f.WriteAt(data, offset); err != nil {
		return err
	}
	return f.Sync()
}
