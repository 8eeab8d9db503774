package main

// The lab inventory, created through the simulator's own API (CreateLocalDatastore,
// CreateVM_Task, PowerOnVM_Task, CreateSnapshot_Task) so that vcsim's property collector
// returns it like any other inventory. Names are an interface: tests and ferry rely on them.

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	dsName     = "LocalDS_0"
	stdNetwork = "VM Network"
	dvPortgrp  = "DC0_DVPG0"
	GiB        = int64(1) << 30
	MiB        = int64(1) << 20
)

type diskDev struct {
	diskSpec
	Key        int32
	Controller string // pvscsi, lsilogic, lsilogic-sas, sata
	Unit       int32
}

type nicDev struct {
	Key     int32
	Type    string // vmxnet3, e1000
	Network string
	MAC     string
	IP      string
}

type vmSpec struct {
	Name, GuestID, Firmware, Version string
	CPUs, CoresPerSocket             int32
	MemoryMB                         int64
	CBT, PowerOn                     bool
	Snapshot                         string
	Disks                            []diskDev
	NICs                             []nicDev
	Pool                             *object.ResourcePool
}

// Results, written to lab.json.
type diskInfo struct {
	Index      int    `json:"index"`
	Key        int32  `json:"key"`
	File       string `json:"file"`
	Descriptor string `json:"descriptor"`
	Flat       string `json:"flat"`
	Capacity   int64  `json:"capacity"`
	Fill       int64  `json:"fill"`
	Controller string `json:"controller"`
	Unit       int32  `json:"unit"`
	Mode       string `json:"mode"`
	UUID       string `json:"uuid"`
}

type nicInfo struct {
	Key          int32  `json:"key"`
	Type         string `json:"type"`
	MAC          string `json:"mac"`
	Portgroup    string `json:"portgroup"`
	PortgroupKey string `json:"portgroup_key,omitempty"`
	IP           string `json:"ip,omitempty"`
}

type vmInfo struct {
	Name       string     `json:"name"`
	Moref      string     `json:"moref"`
	UUID       string     `json:"uuid"`
	GuestID    string     `json:"guest_id"`
	Firmware   string     `json:"firmware"`
	PowerState string     `json:"power_state"`
	CBT        bool       `json:"cbt"`
	Snapshot   string     `json:"snapshot,omitempty"`
	Disks      []diskInfo `json:"disks"`
	NICs       []nicInfo  `json:"nics"`
}

type portgroupInfo struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Moref      string `json:"moref"`
	Key        string `json:"key,omitempty"`
	SwitchUUID string `json:"switch_uuid,omitempty"`
}

type inventory struct {
	DatastoreMoref string
	VMs            []vmInfo
	Portgroups     []portgroupInfo
	dvBacking      *types.VirtualEthernetCardDistributedVirtualPortBackingInfo
	dsRef          types.ManagedObjectReference
	folder         *object.Folder
	clusterPool    *object.ResourcePool
	hostPool       *object.ResourcePool
}

func i32(v int32) *int32 { return &v }

func labVMs(extra int) []vmSpec {
	d := func(vm string, idx int, key int32, ctrl string, unit int32, capacity int64, mode string) diskDev {
		adapter := "lsilogic"
		if ctrl == "sata" {
			adapter = "ide"
		}
		fill := int64(fillLab)
		if strings.HasPrefix(vm, "lab-scale-") {
			fill = fillScale
		}
		return diskDev{diskSpec: diskSpec{VM: vm, Index: idx, Capacity: capacity, Fill: fill, Adapter: adapter, Mode: mode},
			Key: key, Controller: ctrl, Unit: unit}
	}
	specs := []vmSpec{
		{Name: "lab-linux-1disk", GuestID: "debian11_64Guest", Firmware: "bios", Version: "vmx-14",
			CPUs: 1, CoresPerSocket: 1, MemoryMB: 1024, PowerOn: true,
			Disks: []diskDev{d("lab-linux-1disk", 0, 2000, "pvscsi", 0, 2*GiB, "persistent")},
			NICs:  []nicDev{{Key: 4000, Type: "vmxnet3", Network: stdNetwork, MAC: "00:50:56:aa:00:01", IP: "192.168.100.10"}}},
		{Name: "lab-multi", GuestID: "rhel8_64Guest", Firmware: "efi", Version: "vmx-14",
			CPUs: 4, CoresPerSocket: 2, MemoryMB: 8192, CBT: true, PowerOn: true,
			Disks: []diskDev{
				d("lab-multi", 0, 2000, "pvscsi", 0, 1*GiB, "persistent"),
				d("lab-multi", 1, 2001, "pvscsi", 1, 512*MiB, "persistent"),
				d("lab-multi", 2, 16000, "sata", 0, 256*MiB, "persistent"),
			},
			NICs: []nicDev{
				{Key: 4000, Type: "e1000", Network: stdNetwork, MAC: "00:50:56:aa:01:01", IP: "192.168.100.11"},
				{Key: 4001, Type: "vmxnet3", Network: dvPortgrp, MAC: "00:50:56:aa:01:02", IP: "192.168.200.11"},
			}},
		{Name: "lab-windows", GuestID: "windows2019srv_64Guest", Firmware: "efi", Version: "vmx-14",
			CPUs: 2, CoresPerSocket: 2, MemoryMB: 4096, PowerOn: true,
			Disks: []diskDev{d("lab-windows", 0, 2000, "lsilogic-sas", 0, 1*GiB, "persistent")},
			NICs:  []nicDev{{Key: 4000, Type: "vmxnet3", Network: stdNetwork, MAC: "00:50:56:aa:02:01", IP: "192.168.100.12"}}},
		{Name: "lab-blocked", GuestID: "debian11_64Guest", Firmware: "bios", Version: "vmx-14",
			CPUs: 1, CoresPerSocket: 1, MemoryMB: 1024, PowerOn: true, Snapshot: "pre-upgrade",
			Disks: []diskDev{
				d("lab-blocked", 0, 2000, "lsilogic", 0, 256*MiB, "persistent"),
				d("lab-blocked", 1, 2001, "lsilogic", 1, 128*MiB, "independent_persistent"),
			},
			NICs: []nicDev{{Key: 4000, Type: "e1000", Network: stdNetwork, MAC: "00:50:56:aa:03:01"}}},
		// lab-big: one 8 GiB disk (2 GiB of data in the usual pattern), CBT on: bench/sync.
		{Name: "lab-big", GuestID: "debian11_64Guest", Firmware: "bios", Version: "vmx-14",
			CPUs: 1, CoresPerSocket: 1, MemoryMB: 1024, CBT: true, PowerOn: true,
			Disks: []diskDev{d("lab-big", 0, 2000, "pvscsi", 0, 8*GiB, "persistent")},
			NICs:  []nicDev{{Key: 4000, Type: "vmxnet3", Network: stdNetwork, MAC: "00:50:56:aa:04:01", IP: "192.168.100.14"}}},
	}
	// lab-small-01 … lab-small-10: small VMs with real data (512 MiB disk with 128 MiB of data;
	// even-numbered ones also a 256 MiB second disk), CBT on, NICs alternating between the
	// standard and the distributed port group: parallel migrations and bench/parallel.
	for i := 1; i <= 10; i++ {
		name := fmt.Sprintf("lab-small-%02d", i)
		disks := []diskDev{d(name, 0, 2000, "pvscsi", 0, 512*MiB, "persistent")}
		if i%2 == 0 {
			disks = append(disks, d(name, 1, 2001, "pvscsi", 1, 256*MiB, "persistent"))
		}
		net, ip := stdNetwork, fmt.Sprintf("192.168.100.%d", 100+i)
		if i%2 == 0 {
			net, ip = dvPortgrp, fmt.Sprintf("192.168.200.%d", 100+i)
		}
		specs = append(specs, vmSpec{Name: name, GuestID: "debian11_64Guest", Firmware: "bios", Version: "vmx-14",
			CPUs: 1, CoresPerSocket: 1, MemoryMB: 1024, CBT: true, PowerOn: true, Disks: disks,
			NICs: []nicDev{{Key: 4000, Type: "vmxnet3", Network: net, MAC: fmt.Sprintf("00:50:56:aa:10:%02x", i), IP: ip}}})
	}
	for i := 1; i <= extra; i++ {
		name := fmt.Sprintf("lab-scale-%04d", i)
		specs = append(specs, vmSpec{Name: name, GuestID: "debian11_64Guest", Firmware: "bios", Version: "vmx-14",
			CPUs: 1, CoresPerSocket: 1, MemoryMB: 512, PowerOn: true,
			Disks: []diskDev{d(name, 0, 2000, "pvscsi", 0, 4*MiB, "persistent")},
			NICs:  []nicDev{{Key: 4000, Type: "vmxnet3", Network: stdNetwork, MAC: fmt.Sprintf("00:50:56:ab:%02x:%02x", i>>8, i&0xff)}}})
	}
	return specs
}

func (l *lab) buildInventory(ctx context.Context, extra int) error {
	start := time.Now()
	inv := &inventory{}
	l.inv = inv
	if err := os.Chdir(l.state); err != nil {
		return err
	}
	finder := find.NewFinder(l.client, false)
	dc, err := finder.Datacenter(ctx, "DC0")
	if err != nil {
		return err
	}
	finder.SetDatacenter(dc)
	folders, err := dc.Folders(ctx)
	if err != nil {
		return err
	}
	inv.folder = folders.VmFolder
	if inv.clusterPool, err = finder.ResourcePool(ctx, "/DC0/host/DC0_C0/Resources"); err != nil {
		return err
	}
	if inv.hostPool, err = finder.ResourcePool(ctx, "/DC0/host/DC0_H0/Resources"); err != nil {
		return err
	}

	// LocalDS_0 on every host of DC0, backed by <state>/datastore, as vcsim's model does with a
	// temporary directory. The path is given relative (cwd is the state dir) so that the moref,
	// which vcsim derives from it, is stable ("datastore@<folder>"); then made absolute.
	hosts, err := finder.HostSystemList(ctx, "*/*")
	if err != nil {
		return err
	}
	for _, h := range hosts {
		dss, err := h.ConfigManager().DatastoreSystem(ctx)
		if err != nil {
			return err
		}
		ds, err := dss.CreateLocalDatastore(ctx, dsName, "datastore")
		if err != nil {
			return fmt.Errorf("CreateLocalDatastore on %s: %w", h.Name(), err)
		}
		inv.dsRef = ds.Reference()
	}
	if sds, ok := simulator.Map.Get(inv.dsRef).(*simulator.Datastore); ok {
		simulator.Map.WithLock(sds, func() {
			if info, ok := sds.Info.(*types.LocalDatastoreInfo); ok {
				info.Url = l.dsDir
				info.Path = l.dsDir
			}
			sds.Summary.Url = l.dsDir
		})
	}
	inv.DatastoreMoref = inv.dsRef.Value

	// Port groups.
	netRef, err := finder.Network(ctx, stdNetwork)
	if err != nil {
		return err
	}
	inv.Portgroups = append(inv.Portgroups, portgroupInfo{Name: stdNetwork, Type: netRef.Reference().Type, Moref: netRef.Reference().Value})
	pgRef, err := finder.Network(ctx, dvPortgrp)
	if err != nil {
		return err
	}
	backing, err := pgRef.EthernetCardBackingInfo(ctx)
	if err != nil {
		return err
	}
	inv.dvBacking = backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo)
	inv.Portgroups = append(inv.Portgroups, portgroupInfo{Name: dvPortgrp, Type: pgRef.Reference().Type, Moref: pgRef.Reference().Value,
		Key: inv.dvBacking.Port.PortgroupKey, SwitchUUID: inv.dvBacking.Port.SwitchUuid})

	// vcsim's default VMs (what simulator.VPX() with Machine=2 makes), re-created on LocalDS_0.
	if err := l.defaultVMs(ctx); err != nil {
		return err
	}

	specs := labVMs(extra)
	for i := range specs {
		if err := l.createVM(ctx, &specs[i]); err != nil {
			return fmt.Errorf("%s: %w", specs[i].Name, err)
		}
	}
	log.Printf("inventory: %d lab VMs in %s", len(specs), time.Since(start).Round(time.Millisecond))
	return nil
}

func (l *lab) defaultVMs(ctx context.Context) error {
	inv := l.inv
	for _, p := range []struct {
		prefix string
		pool   *object.ResourcePool
	}{{"DC0_H0", inv.hostPool}, {"DC0_C0_RP0", inv.clusterPool}} {
		for i := 0; i < 2; i++ {
			name := fmt.Sprintf("%s_VM%d", p.prefix, i)
			_ = os.RemoveAll(filepath.Join(l.dsDir, name))
			var devices object.VirtualDeviceList
			scsi, _ := devices.CreateSCSIController("pvscsi")
			ide, _ := devices.CreateIDEController()
			cdrom, _ := devices.CreateCdrom(ide.(*types.VirtualIDEController))
			disk := devices.CreateDisk(scsi.(types.BaseVirtualController), inv.dsRef, "[LocalDS_0] "+name+"/disk1.vmdk")
			disk.CapacityInKB = 1024
			b := *inv.dvBacking
			nic := &types.VirtualE1000{VirtualEthernetCard: types.VirtualEthernetCard{VirtualDevice: types.VirtualDevice{Backing: &b}}}
			devices = append(devices, scsi, cdrom, disk, nic)
			spec := types.VirtualMachineConfigSpec{Name: name, GuestId: string(types.VirtualMachineGuestOsIdentifierOtherGuest),
				Files: &types.VirtualMachineFileInfo{VmPathName: "[LocalDS_0]"}}
			spec.DeviceChange, _ = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
			task, err := inv.folder.CreateVM(ctx, spec, p.pool, nil)
			if err != nil {
				return err
			}
			info, err := task.WaitForResult(ctx, nil)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			vm := object.NewVirtualMachine(l.client, info.Result.(types.ManagedObjectReference))
			if t, err := vm.PowerOn(ctx); err == nil {
				_ = t.Wait(ctx)
			}
		}
	}
	return nil
}

func controllerDevice(kind string, key int32) (types.BaseVirtualDevice, error) {
	vc := types.VirtualController{VirtualDevice: types.VirtualDevice{Key: key, ControllerKey: 100}, BusNumber: 0}
	scsi := types.VirtualSCSIController{VirtualController: vc, SharedBus: types.VirtualSCSISharingNoSharing, ScsiCtlrUnitNumber: 7}
	switch kind {
	case "pvscsi":
		return &types.ParaVirtualSCSIController{VirtualSCSIController: scsi}, nil
	case "lsilogic":
		return &types.VirtualLsiLogicController{VirtualSCSIController: scsi}, nil
	case "lsilogic-sas":
		return &types.VirtualLsiLogicSASController{VirtualSCSIController: scsi}, nil
	case "sata":
		return &types.VirtualAHCIController{VirtualSATAController: types.VirtualSATAController{VirtualController: vc}}, nil
	}
	return nil, fmt.Errorf("unknown controller %q", kind)
}

// cleanVMDir removes what a previous run left in the VM's directory except disk files, so
// that CreateVM_Task (which refuses to overwrite a .vmx) succeeds and disk data is kept.
func (l *lab) cleanVMDir(name string) {
	dir := filepath.Join(l.dsDir, name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".vmdk") {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

func (l *lab) createVM(ctx context.Context, s *vmSpec) error {
	inv := l.inv
	l.cleanVMDir(s.Name)
	var devices []types.BaseVirtualDevice
	ctrlKeys := map[string]int32{}
	for _, d := range s.Disks {
		if err := ensureDisk(l.dsDir, d.diskSpec); err != nil {
			return err
		}
		if _, ok := ctrlKeys[d.Controller]; !ok {
			key := int32(1000 + len(ctrlKeys))
			if d.Controller == "sata" {
				key = 15000
			}
			c, err := controllerDevice(d.Controller, key)
			if err != nil {
				return err
			}
			ctrlKeys[d.Controller] = key
			devices = append(devices, c)
		}
	}
	var diskDevs []types.BaseVirtualDevice
	for _, d := range s.Disks {
		ds := inv.dsRef
		diskDevs = append(diskDevs, &types.VirtualDisk{
			VirtualDevice: types.VirtualDevice{Key: d.Key, ControllerKey: ctrlKeys[d.Controller], UnitNumber: i32(d.Unit),
				Backing: &types.VirtualDiskFlatVer2BackingInfo{
					VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: d.DatastorePath(), Datastore: &ds},
					DiskMode:                     d.Mode,
					ThinProvisioned:              types.NewBool(true),
					Uuid:                         d.BackingUUID(),
				}},
			CapacityInKB:    d.Capacity / 1024,
			CapacityInBytes: d.Capacity,
		})
	}
	devices = append(devices, diskDevs...)
	for i, n := range s.NICs {
		card := types.VirtualEthernetCard{
			VirtualDevice: types.VirtualDevice{Key: n.Key, ControllerKey: 100, UnitNumber: i32(int32(7 + i)),
				Connectable: &types.VirtualDeviceConnectInfo{StartConnected: true, Connected: true, AllowGuestControl: true}},
			AddressType: string(types.VirtualEthernetCardMacTypeManual),
			MacAddress:  n.MAC,
		}
		if n.Network == dvPortgrp {
			b := *inv.dvBacking
			card.Backing = &b
		} else {
			card.Backing = &types.VirtualEthernetCardNetworkBackingInfo{
				VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: n.Network}}
		}
		switch n.Type {
		case "vmxnet3":
			devices = append(devices, &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: card}})
		case "e1000":
			devices = append(devices, &types.VirtualE1000{VirtualEthernetCard: card})
		default:
			return fmt.Errorf("unknown NIC type %q", n.Type)
		}
	}
	spec := types.VirtualMachineConfigSpec{
		Name: s.Name, GuestId: s.GuestID, Firmware: s.Firmware, Version: s.Version,
		NumCPUs: s.CPUs, NumCoresPerSocket: s.CoresPerSocket, MemoryMB: s.MemoryMB,
		ChangeTrackingEnabled: types.NewBool(s.CBT),
		Uuid:                  uuidFor("bios/" + s.Name),
		InstanceUuid:          uuidFor("instance/" + s.Name),
		Files:                 &types.VirtualMachineFileInfo{VmPathName: fmt.Sprintf("[LocalDS_0] %s/%s.vmx", s.Name, s.Name)},
	}
	for _, dev := range devices {
		// FileOperation "" attaches the existing disk files written above.
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: dev})
	}
	pool := inv.clusterPool
	task, err := inv.folder.CreateVM(ctx, spec, pool, nil)
	if err != nil {
		return err
	}
	res, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return err
	}
	ref := res.Result.(types.ManagedObjectReference)
	vm := object.NewVirtualMachine(l.client, ref)
	power := "poweredOff"
	if s.PowerOn {
		t, err := vm.PowerOn(ctx)
		if err != nil {
			return err
		}
		if err := t.Wait(ctx); err != nil {
			return err
		}
		power = "poweredOn"
		l.setGuest(ref, s)
	}
	if s.Snapshot != "" {
		t, err := vm.CreateSnapshot(ctx, s.Snapshot, "snapshot left by an earlier backup job", false, false)
		if err != nil {
			return err
		}
		if err := t.Wait(ctx); err != nil {
			return err
		}
	}
	info := vmInfo{Name: s.Name, Moref: ref.Value, UUID: spec.Uuid, GuestID: s.GuestID, Firmware: s.Firmware,
		PowerState: power, CBT: s.CBT, Snapshot: s.Snapshot}
	for _, d := range s.Disks {
		info.Disks = append(info.Disks, diskInfo{Index: d.Index, Key: d.Key, File: d.DatastorePath(),
			Descriptor: d.descriptorPath(l.dsDir), Flat: d.flatPath(l.dsDir), Capacity: d.Capacity, Fill: d.Fill,
			Controller: d.Controller, Unit: d.Unit, Mode: d.Mode, UUID: d.BackingUUID()})
	}
	for _, n := range s.NICs {
		ni := nicInfo{Key: n.Key, Type: n.Type, MAC: n.MAC, Portgroup: n.Network, IP: n.IP}
		if n.Network == dvPortgrp {
			ni.PortgroupKey = inv.dvBacking.Port.PortgroupKey
		}
		info.NICs = append(info.NICs, ni)
	}
	inv.VMs = append(inv.VMs, info)
	if s.CBT {
		l.cbtRestore(ref, s.Name)
	}
	return nil
}

func uuidFor(s string) string {
	a, b := fnv64("u1/"+s), fnv64("u2/"+s)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0x0fff|0x4000,
		uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

// setGuest plays VMware Tools reporting from a running guest.
func (l *lab) setGuest(ref types.ManagedObjectReference, s *vmSpec) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	var nets []types.GuestNicInfo
	first := ""
	for _, n := range s.NICs {
		gn := types.GuestNicInfo{Network: n.Network, MacAddress: n.MAC, Connected: true, DeviceConfigId: n.Key}
		if n.IP != "" {
			gn.IpAddress = []string{n.IP}
			gn.IpConfig = &types.NetIpConfigInfo{IpAddress: []types.NetIpConfigInfoIpAddress{{
				IpAddress: n.IP, PrefixLength: 24, State: string(types.NetIpConfigInfoIpAddressStatusPreferred)}}}
			if first == "" {
				first = n.IP
			}
		}
		nets = append(nets, gn)
	}
	simulator.Map.WithLock(vm, func() {
		changes := []types.PropertyChange{
			{Name: "guest.net", Val: nets},
			{Name: "guest.toolsRunningStatus", Val: string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)},
			{Name: "guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsOk},
			{Name: "guest.toolsVersionStatus2", Val: string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)},
			{Name: "guest.guestState", Val: "running"},
			{Name: "guest.guestId", Val: s.GuestID},
			{Name: "guest.hostName", Val: s.Name},
			{Name: "summary.guest.toolsRunningStatus", Val: string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)},
			{Name: "summary.guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsOk},
			{Name: "summary.guest.hostName", Val: s.Name},
		}
		if first != "" {
			changes = append(changes, types.PropertyChange{Name: "guest.ipAddress", Val: first},
				types.PropertyChange{Name: "summary.guest.ipAddress", Val: first})
		}
		simulator.Map.Update(vm, changes)
	})
}
