package main

// ExportVm. The lease is a managed object in vcsim's registry (a wrapper embedding
// mo.HttpNfcLease), so RetrievePropertiesEx / WaitForUpdatesEx on it work like on any object,
// and vcsim dispatches HttpNfcLeaseProgress/Complete/Abort/GetManifest to it. At creation the
// lease is "initializing" while each disk is converted to a streamOptimized VMDK (what vSphere
// serves) with qemu-img under <state>/export/<lease>/; then "ready" with info.deviceUrl[]
// pointing at https://localhost:PORT/nfc/<lease>/disk-N.vmdk, served with the session cookie
// required. Complete/Abort remove the lease and its files.

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var leaseCounter int64

type lease struct {
	mo.HttpNfcLease
	lab   *lab
	dir   string
	files map[string]string // URL name -> file
}

func (l *lab) exportRoot() string { return filepath.Join(l.state, "export") }

func (l *lab) removeExports() { _ = os.RemoveAll(l.exportRoot()) }

func controllerName(devices []types.BaseVirtualDevice, key int32) (string, int32) {
	for _, d := range devices {
		if d.GetVirtualDevice().Key != key {
			continue
		}
		bus := int32(0)
		if c, ok := d.(types.BaseVirtualController); ok {
			bus = c.GetVirtualController().BusNumber
		}
		name := fmt.Sprintf("%T", d)
		name = name[strings.LastIndex(name, ".")+1:]
		return name, bus
	}
	return "VirtualController", 0
}

// ExportVm is the vSphere method, dispatched by vcsim to the VM's LabVmExt.
func (e *vmExt) ExportVm(ctx *simulator.Context, req *types.ExportVm) soap.HasFault {
	l := e.lab
	vm, ok := simulator.Map.Get(e.vmRef()).(*simulator.VirtualMachine)
	if !ok {
		return &methods.ExportVmBody{Fault_: simulator.Fault("", &types.ManagedObjectNotFound{Obj: e.vmRef()})}
	}
	var power types.VirtualMachinePowerState
	var devices []types.BaseVirtualDevice
	simulator.Map.WithLock(vm, func() {
		power = vm.Runtime.PowerState
		devices = vm.Config.Hardware.Device
	})
	if power != types.VirtualMachinePowerStatePoweredOff {
		return &methods.ExportVmBody{Fault_: simulator.Fault("The attempted operation cannot be performed in the current state ("+string(power)+").",
			&types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOff, ExistingState: power})}
	}
	id := fmt.Sprintf("lease-%d", atomic.AddInt64(&leaseCounter, 1))
	ls := &lease{lab: l, dir: filepath.Join(l.exportRoot(), id), files: map[string]string{}}
	ls.Self = types.ManagedObjectReference{Type: "HttpNfcLease", Value: id}
	ls.State = types.HttpNfcLeaseStateInitializing
	ls.Mode = "pull"
	ls.Capabilities = types.HttpNfcLeaseCapabilities{PullModeSupported: true, CorsSupported: false}
	simulator.Map.Put(ls)

	type job struct {
		src, dst string
		url      types.HttpNfcLeaseDeviceUrl
	}
	var jobs []job
	var total int64
	host := "localhost"
	if l.port != 443 {
		host = fmt.Sprintf("localhost:%d", l.port)
	}
	for i, disk := range vmDisks(devices) {
		flat, ok := l.flatOf(disk)
		if !ok {
			continue
		}
		name := fmt.Sprintf("disk-%d.vmdk", i)
		ctrl, bus := controllerName(devices, disk.ControllerKey)
		unit := int32(0)
		if disk.UnitNumber != nil {
			unit = *disk.UnitNumber
		}
		key := fmt.Sprintf("/%s/%s%d:%d", e.Self.Value, ctrl, bus, unit)
		jobs = append(jobs, job{src: flat, dst: filepath.Join(ls.dir, name), url: types.HttpNfcLeaseDeviceUrl{
			Key: key, ImportKey: key, Url: fmt.Sprintf("https://%s/nfc/%s/%s", host, id, name),
			SslThumbprint: l.thumbprint, Disk: types.NewBool(true), TargetId: name}})
		total += disk.CapacityInKB
	}
	go func() {
		fail := func(err error) {
			log.Printf("export %s: %v", id, err)
			simulator.Map.WithLock(ls, func() {
				simulator.Map.Update(ls, []types.PropertyChange{
					{Name: "error", Val: &types.LocalizedMethodFault{Fault: &types.SystemError{Reason: err.Error()}, LocalizedMessage: err.Error()}},
					{Name: "state", Val: types.HttpNfcLeaseStateError}})
			})
		}
		if err := os.MkdirAll(ls.dir, 0o755); err != nil {
			fail(err)
			return
		}
		info := &types.HttpNfcLeaseInfo{Lease: ls.Self, Entity: e.vmRef(), LeaseTimeout: 300, TotalDiskCapacityInKB: total}
		for n, j := range jobs {
			// The flat extent is raw data; converting it (not the descriptor) keeps this
			// independent of qemu's descriptor parsing.
			out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", j.src, j.dst).CombinedOutput()
			if err != nil {
				fail(fmt.Errorf("qemu-img convert %s: %v: %s", j.src, err, out))
				return
			}
			if st, err := os.Stat(j.dst); err == nil {
				j.url.FileSize = st.Size()
			}
			ls.files[filepath.Base(j.dst)] = j.dst
			info.DeviceUrl = append(info.DeviceUrl, j.url)
			p := int32(100 * (n + 1) / len(jobs))
			simulator.Map.WithLock(ls, func() {
				simulator.Map.Update(ls, []types.PropertyChange{{Name: "initializeProgress", Val: p}})
			})
		}
		simulator.Map.WithLock(ls, func() {
			simulator.Map.Update(ls, []types.PropertyChange{
				{Name: "info", Val: info}, {Name: "initializeProgress", Val: int32(100)},
				{Name: "state", Val: types.HttpNfcLeaseStateReady}})
		})
		log.Printf("export %s of %s ready: %d disk(s)", id, e.Self.Value, len(jobs))
	}()
	return &methods.ExportVmBody{Res: &types.ExportVmResponse{Returnval: ls.Self}}
}

func (ls *lease) close(state types.HttpNfcLeaseState) {
	ls.State = state
	simulator.Map.Remove(ls.Self)
	_ = os.RemoveAll(ls.dir)
}

func (ls *lease) HttpNfcLeaseComplete(ctx *simulator.Context, req *types.HttpNfcLeaseComplete) soap.HasFault {
	if ls.State != types.HttpNfcLeaseStateReady {
		return &methods.HttpNfcLeaseCompleteBody{Fault_: simulator.Fault("lease is not ready", &types.InvalidState{})}
	}
	ls.close(types.HttpNfcLeaseStateDone)
	return &methods.HttpNfcLeaseCompleteBody{Res: new(types.HttpNfcLeaseCompleteResponse)}
}

func (ls *lease) HttpNfcLeaseAbort(ctx *simulator.Context, req *types.HttpNfcLeaseAbort) soap.HasFault {
	ls.close(types.HttpNfcLeaseStateError)
	return &methods.HttpNfcLeaseAbortBody{Res: new(types.HttpNfcLeaseAbortResponse)}
}

func (ls *lease) HttpNfcLeaseProgress(ctx *simulator.Context, req *types.HttpNfcLeaseProgress) soap.HasFault {
	if ls.State != types.HttpNfcLeaseStateReady {
		return &methods.HttpNfcLeaseProgressBody{Fault_: simulator.Fault("lease is not ready", &types.InvalidState{})}
	}
	ls.TransferProgress = req.Percent
	return &methods.HttpNfcLeaseProgressBody{Res: new(types.HttpNfcLeaseProgressResponse)}
}

func (ls *lease) HttpNfcLeaseGetManifest(ctx *simulator.Context, req *types.HttpNfcLeaseGetManifest) soap.HasFault {
	return &methods.HttpNfcLeaseGetManifestBody{Res: new(types.HttpNfcLeaseGetManifestResponse)}
}

// serveNFC serves /nfc/<lease>/<file> to holders of a live session.
func (l *lab) serveNFC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if !l.sessionValid(r) {
		http.Error(w, "session cookie required", http.StatusUnauthorized)
		return
	}
	p := strings.Split(strings.TrimPrefix(r.URL.Path, "/nfc/"), "/")
	if len(p) != 2 {
		http.NotFound(w, r)
		return
	}
	ls, ok := simulator.Map.Get(types.ManagedObjectReference{Type: "HttpNfcLease", Value: p[0]}).(*lease)
	if !ok {
		http.NotFound(w, r)
		return
	}
	var file string
	simulator.Map.WithLock(ls, func() {
		if ls.State == types.HttpNfcLeaseStateReady {
			file = ls.files[p[1]]
		}
	})
	if file == "" {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, _ := f.Stat()
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, p[1], st.ModTime(), f)
}
