package main

// The HTTP wrapper around vcsim. vcsim 0.24 answers MethodNotFound for QueryChangedDiskAreas
// and ExportVm, and replacing its VirtualMachine objects breaks its own code, so:
//   - /sdk requests are decoded with simulator.UnmarshalBody; for the added methods the
//     `_this` reference type is rewritten from VirtualMachine to LabVmExt, an object the harness
//     registers in vcsim's registry under the same moref value. vcsim then dispatches to it
//     as to any managed object: session checks, fault and response encoding stay vcsim's own.
//   - CreateSnapshot_Task is passed to vcsim, then the CBT bookkeeping runs (cbt.go).
//   - /nfc/ is served by the harness (ExportVm lease downloads, export.go).
//   - /folder needs a live session or the lab user's basic credentials (folder.go).
//   - disk downloads (/folder/, /nfc/) are paced by <state>/throttle (throttle.go)
//     and fail or wait now and then as <state>/faults says (faults.go).
// Everything else goes to vcsim untouched.

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

const extType = "LabVmExt"

// vmExt carries the methods the harness adds to a VirtualMachine.
type vmExt struct {
	Self types.ManagedObjectReference
	lab  *lab
}

func (e *vmExt) Reference() types.ManagedObjectReference { return e.Self }

func (e *vmExt) vmRef() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "VirtualMachine", Value: e.Self.Value}
}

var thisType = regexp.MustCompile(`(<(?:[A-Za-z0-9_]+:)?_this\b[^>]*?\btype=["'])VirtualMachine(["'])`)
var taskRef = regexp.MustCompile(`<returnval[^>]*>(task-[0-9]+)</returnval>`)

func (l *lab) wrap(inner http.Handler) http.Handler {
	l.inner = inner
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isFolderPath(r.URL.Path) && !l.checkFolder(w, r) {
			return
		}
		if r.Method == http.MethodGet && (strings.HasPrefix(r.URL.Path, "/folder/") ||
			strings.HasPrefix(r.URL.Path, "/nfc/")) {
			var goOn bool
			if w, goOn = l.faults.wrap(w, r); !goOn {
				return
			}
			w = l.throttle.wrap(w, r.URL.Path)
		}
		if strings.HasPrefix(r.URL.Path, "/nfc/") {
			l.serveNFC(w, r)
			return
		}
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/sdk") {
			inner.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
		snapshot := false
		if err == nil {
			switch method.Name {
			case "QueryChangedDiskAreas", "ExportVm":
				if method.This.Type == "VirtualMachine" && l.ensureExt(method.This) {
					if loc := thisType.FindSubmatchIndex(body); loc != nil {
						var b bytes.Buffer
						b.Write(body[:loc[3]])
						b.WriteString(extType)
						b.Write(body[loc[4]:])
						body = b.Bytes()
					}
				}
			case "CreateSnapshot_Task":
				snapshot = method.This.Type == "VirtualMachine"
			case "RemoveSnapshot_Task", "RemoveAllSnapshots_Task":
				l.fixSnapshotLayout(method.This)
				defer l.nfcSnapshotsRemoved()
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		defer l.expireAfterCall(r)
		if !snapshot {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			if m := taskRef.FindSubmatch(rec.Body.Bytes()); m != nil {
				l.afterSnapshot(method.This, types.ManagedObjectReference{Type: "Task", Value: string(m[1])})
				l.nfcAfterSnapshot(method.This, types.ManagedObjectReference{Type: "Task", Value: string(m[1])})
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// ensureExt registers the LabVmExt object for an existing VM; false if the VM does not exist.
func (l *lab) ensureExt(vm types.ManagedObjectReference) bool {
	if _, ok := simulator.Map.Get(vm).(*simulator.VirtualMachine); !ok {
		return false
	}
	ref := types.ManagedObjectReference{Type: extType, Value: vm.Value}
	if simulator.Map.Get(ref) == nil {
		simulator.Map.Put(&vmExt{Self: ref, lab: l})
	}
	return true
}

// afterSnapshot runs after vcsim completed CreateSnapshot_Task.
func (l *lab) afterSnapshot(vmRef, task types.ManagedObjectReference) {
	t, ok := simulator.Map.Get(task).(*simulator.Task)
	if !ok {
		return
	}
	var snap types.ManagedObjectReference
	simulator.Map.WithLock(t, func() {
		if t.Info.State == types.TaskInfoStateSuccess {
			if ref, ok := t.Info.Result.(types.ManagedObjectReference); ok {
				snap = ref
			}
		}
	})
	if snap.Value == "" {
		return
	}
	l.logSnapshot(vmRef, snap)
	if err := l.cbtSnapshot(vmRef, snap); err != nil {
		log.Printf("cbt: snapshot %s of %s: %v", snap.Value, vmRef.Value, err)
	}
}

// fixSnapshotLayout works around a vcsim 0.24 bug before a snapshot removal: removing a
// snapshot deletes the file whose layout key equals the snapshot's recorded DataKey, but
// RefreshStorageInfo (run by every removal) renumbers the file keys, so removing a second
// snapshot deletes an unrelated file, such as a disk descriptor or flat extent. Re-point each
// snapshot's DataKey at the current key of its own .vmsn file (or at no file).
func (l *lab) fixSnapshotLayout(ref types.ManagedObjectReference) {
	if ref.Type == "VirtualMachineSnapshot" {
		snap, ok := simulator.Map.Get(ref).(*simulator.VirtualMachineSnapshot)
		if !ok {
			return
		}
		ref = snap.Vm
	}
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	simulator.Map.WithLock(vm, func() {
		if vm.LayoutEx == nil || vm.Layout == nil {
			return
		}
		keyOf := map[string]int32{}
		for _, f := range vm.LayoutEx.File {
			keyOf[f.Name] = f.Key
		}
		for i := range vm.LayoutEx.Snapshot {
			s := &vm.LayoutEx.Snapshot[i]
			data := int32(-1000)
			for _, sl := range vm.Layout.Snapshot {
				if sl.Key != s.Key {
					continue
				}
				for _, n := range sl.SnapshotFile {
					if k, ok := keyOf[n]; ok && strings.HasSuffix(n, ".vmsn") {
						data = k
					}
				}
			}
			s.DataKey = data
			if s.MemoryKey >= 0 {
				s.MemoryKey = -1000
			}
		}
	})
}

// logSnapshot appends "<time> <vm> <snapshot> <power state>" to
// <state>/snapshots.log: what the VM's power state was when each snapshot was
// taken, for tests of a cutover's order (the VM must be off before its final
// snapshot).
func (l *lab) logSnapshot(vmRef, snap types.ManagedObjectReference) {
	vm, ok := simulator.Map.Get(vmRef).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	var name string
	var state types.VirtualMachinePowerState
	simulator.Map.WithLock(vm, func() {
		name = vm.Name
		state = vm.Runtime.PowerState
	})
	f, err := os.OpenFile(filepath.Join(l.state, "snapshots.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), name, snap.Value, state)
}

var _ mo.Reference = (*vmExt)(nil)
