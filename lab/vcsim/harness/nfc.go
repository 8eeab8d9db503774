package main

// NFC, the ESXi disk transport of VDDK's "nbd"/"nbdssl" modes, as the lab's ESXi host
// speaks it. Three parts:
//
//   - nfc.go (this file): vCenter's NfcService (moref "nfcService") on /sdk, which hands out
//     HostServiceTicket objects, the ticket store, the knobs (<state>/nfc) and the logs.
//   - nfc_authd.go: the authentication daemon on the NFC port (ESXi's TCP 902): TLS,
//     SESSION/BANNER/THUMBPRINT_SHA2/PROXY, optional second TLS for vpxa-nfcssl.
//   - nfc_proto.go: NFC itself: the classic 264-byte handshake, then AIO frames
//     (OPEN_FILE, IO, CLOSE_*), several reads in flight, fragmented replies.
//   - nfc_disk.go: what a ticket may open and the virtual disk content served (VMDK
//     descriptor extents over the lab's flat files, snapshot point-in-time state).
//   - nfc_read.go: `ferry-vcsim nfc-read`, a raw NFC reader for benchmarks and checks.
//
// Facts come from the captures published in github.com/cloudbase/OpenVixDiskLib,
// docs/nfc_auth.md, docs/nfc_open.md, docs/nfc_read.md, docs/nfc_write.md and
// docs/host_switch.md (cited below as nfc_auth.md "section" etc.). Where those documents are
// silent the comment says so and names the choice made.
//
// The SOAP side (nfc_auth.md "Stage 2: NFC ticket"): NfcService is absent from the public
// WSDL and from vcsim; vCenter's object is "nfcService" (ESXi's "ha-nfc" is not an object
// on vCenter: ManagedObjectNotFound). Methods:
//
//	NfcRandomAccessOpenReadonly(vm, diskDeviceKey, hostForAccess)  disk-scoped read ticket
//	NfcGetVmFiles(vm)                                               VM-scoped read ticket
//	NfcRandomAccessOpenDisk(vm, diskDeviceKey, hostForAccess)       writable: NotSupported here
//
// They are answered through vcsim's own dispatch (types registered below, object put in
// vcsim's registry), so the session check is vcsim's: without a live session the caller gets
// NotAuthenticated (a NoPermission fault), as for any other method. The lab has a single
// user, so there is no per-privilege model to apply beyond that.
//
// The ticket (nfc_auth.md "Return value: vim.HostServiceTicket"): host 127.0.0.1, port =
// the NFC port, sslThumbprint = SHA-1 of the authd certificate in colon hex, service
// "vpxa-nfc", serviceVersion "1.1", sessionId = a fresh random id. Tickets are single use
// ("Tickets are single-use ... only the one presented to authd is consumed"). How long an
// unused ticket lives is not documented; the lab gives it nfcTicketTTL.

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// nfcTicketTTL: how long an issued, unpresented ticket stays valid (not documented; the lab
// uses the 300 s its ExportVm leases announce as leaseTimeout).
const nfcTicketTTL = 300 * time.Second

const nfcServiceMoref = "nfcService"

// --- SOAP types (vmodl NfcService; WSDL names prefixed "Nfc", nfc_auth.md "Other NfcService
// methods seen in VDDK"). The Go type names are the element names on the wire. ---

type NfcRandomAccessOpenReadonly struct {
	This          types.ManagedObjectReference  `xml:"_this"`
	Vm            types.ManagedObjectReference  `xml:"vm"`
	DiskDeviceKey int32                         `xml:"diskDeviceKey"`
	HostForAccess *types.ManagedObjectReference `xml:"hostForAccess,omitempty"`
}

type NfcRandomAccessOpenReadonlyResponse struct {
	Returnval types.HostServiceTicket `xml:"returnval"`
}

type NfcRandomAccessOpenReadonlyBody struct {
	Req    *NfcRandomAccessOpenReadonly         `xml:"urn:vim25 NfcRandomAccessOpenReadonly,omitempty"`
	Res    *NfcRandomAccessOpenReadonlyResponse `xml:"NfcRandomAccessOpenReadonlyResponse,omitempty"`
	Fault_ *soap.Fault                          `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`
}

func (b *NfcRandomAccessOpenReadonlyBody) Fault() *soap.Fault { return b.Fault_ }

type NfcRandomAccessOpenDisk NfcRandomAccessOpenReadonly

type NfcRandomAccessOpenDiskResponse NfcRandomAccessOpenReadonlyResponse

type NfcRandomAccessOpenDiskBody struct {
	Res    *NfcRandomAccessOpenDiskResponse `xml:"NfcRandomAccessOpenDiskResponse,omitempty"`
	Fault_ *soap.Fault                      `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`
}

func (b *NfcRandomAccessOpenDiskBody) Fault() *soap.Fault { return b.Fault_ }

type NfcGetVmFiles struct {
	This types.ManagedObjectReference `xml:"_this"`
	Vm   types.ManagedObjectReference `xml:"vm"`
}

type NfcGetVmFilesResponse struct {
	Returnval types.HostServiceTicket `xml:"returnval"`
}

type NfcGetVmFilesBody struct {
	Req    *NfcGetVmFiles         `xml:"urn:vim25 NfcGetVmFiles,omitempty"`
	Res    *NfcGetVmFilesResponse `xml:"NfcGetVmFilesResponse,omitempty"`
	Fault_ *soap.Fault            `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`
}

func (b *NfcGetVmFilesBody) Fault() *soap.Fault { return b.Fault_ }

func init() {
	types.Add("NfcRandomAccessOpenReadonly", reflect.TypeOf((*NfcRandomAccessOpenReadonly)(nil)).Elem())
	types.Add("NfcRandomAccessOpenDisk", reflect.TypeOf((*NfcRandomAccessOpenDisk)(nil)).Elem())
	types.Add("NfcGetVmFiles", reflect.TypeOf((*NfcGetVmFiles)(nil)).Elem())
}

// nfcTicket is one issued HostServiceTicket and what it grants.
type nfcTicket struct {
	id      string
	vm      types.ManagedObjectReference
	vmName  string
	diskKey int32 // disk-scoped ticket: this device; 0: VM-scoped (NfcGetVmFiles)
	method  string
	issued  time.Time
	used    bool
}

// nfcKnobs: <state>/nfc, written by `vcsim-lab nfc` (names: see cmd_nfc there).
type nfcKnobs struct {
	rate, hostRate float64 // bytes/s; 0: no cap
	latency        time.Duration
	dropAfter      int64 // data bytes per connection, then cut; 0: never
	expireTickets  bool
	ioError        int64 // the Nth IO (host-wide, counted from when the knob was set) fails
	runningLock    bool  // opening a running VM's current disk fails (default on)
}

type nfcServer struct {
	l        *lab
	port     int
	tlsConf  *tls.Config
	sha1     string // colon hex, the ticket's sslThumbprint
	sha256   string // colon hex, the THUMBPRINT_SHA2 answer
	ln       net.Listener
	hostPace pacer

	mu       sync.Mutex
	tickets  map[string]*nfcTicket
	file     settingsFile
	knobs    nfcKnobs
	ioCount  int64
	connSeq  int64
	logMu    sync.Mutex
	logPath  string
	accessLg string
}

type nfcService struct {
	Self types.ManagedObjectReference
	lab  *lab
}

func (s *nfcService) Reference() types.ManagedObjectReference { return s.Self }

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

// startNFC registers vCenter's NfcService and starts authd on 127.0.0.1:port. The host
// certificate is <state>/pki/esxi.crt (a second lab certificate, so that a client which
// checks the vCenter thumbprint instead of the ticket's is caught), or the vCenter one.
// A port already taken is logged, not fatal: the rest of the lab works without NFC.
func (l *lab) startNFC(port int) {
	s := &nfcServer{l: l, port: port, tickets: map[string]*nfcTicket{},
		file:     settingsFile{path: filepath.Join(l.state, "nfc")},
		logPath:  filepath.Join(l.state, "nfc.log"),
		accessLg: filepath.Join(l.state, "nfc-access.log")}
	s.knobs.runningLock = true
	l.nfc = s
	pki := filepath.Join(l.state, "pki")
	crt, key := filepath.Join(pki, "esxi.crt"), filepath.Join(pki, "esxi.key")
	if _, err := os.Stat(crt); err != nil {
		crt, key = filepath.Join(pki, "server.crt"), filepath.Join(pki, "server.key")
	}
	cert, err := tls.LoadX509KeyPair(crt, key)
	if err == nil {
		var leaf *x509.Certificate
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err == nil {
			h1, h2 := sha1.Sum(leaf.Raw), sha256.Sum256(leaf.Raw)
			s.sha1, s.sha256 = colonHex(h1[:]), colonHex(h2[:])
		}
	}
	if err != nil {
		log.Printf("nfc: host certificate %s: %v (no NFC)", crt, err)
		return
	}
	s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}}
	simulator.Map.Put(&nfcService{Self: types.ManagedObjectReference{Type: "NfcService", Value: nfcServiceMoref}, lab: l})
	s.cowReset()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		log.Printf("nfc port %d: %v (tickets are issued, but nothing serves them)", port, err)
		return
	}
	s.ln = ln
	log.Printf("nfc: authd on 127.0.0.1:%d, host thumbprint %s", port, s.sha1)
	go s.acceptLoop()
}

func (s *nfcServer) stop() {
	if s != nil && s.ln != nil {
		_ = s.ln.Close()
	}
}

// current returns the knobs, reading <state>/nfc again when it changed. A changed file
// restarts the io-error count.
func (s *nfcServer) current() nfcKnobs {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed, exists := s.file.changed()
	if !changed {
		return s.knobs
	}
	k := nfcKnobs{runningLock: true}
	if exists {
		v := s.file.read()
		k.rate = v["rate_mibs"] * (1 << 20)
		k.hostRate = v["host_rate_mibs"] * (1 << 20)
		k.latency = time.Duration(v["latency_ms"] * float64(time.Millisecond))
		k.dropAfter = int64(v["drop_after"])
		k.expireTickets = v["expire_tickets"] != 0
		k.ioError = int64(v["io_error"])
		if x, ok := v["running_lock"]; ok {
			k.runningLock = x != 0
		}
	}
	s.knobs = k
	s.ioCount = 0
	return k
}

// nextIO counts one IO request and says whether the io-error knob picks it.
func (s *nfcServer) nextIO(k nfcKnobs) (n int64, fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ioCount++
	return s.ioCount, k.ioError > 0 && s.ioCount == k.ioError
}

// note appends a line to <state>/nfc.log: what the knobs injected, and refusals.
func (s *nfcServer) note(format string, a ...interface{}) {
	s.appendLine(s.logPath, format, a...)
}

// access appends a line to <state>/nfc-access.log.
func (s *nfcServer) access(format string, a ...interface{}) {
	s.appendLine(s.accessLg, format, a...)
}

func (s *nfcServer) appendLine(path, format string, a ...interface{}) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, a...))
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[0] = 0x52
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// issue stores a new ticket and returns it in vSphere's form.
func (s *nfcServer) issue(t *nfcTicket) types.HostServiceTicket {
	t.id = newSessionID()
	t.issued = time.Now()
	s.mu.Lock()
	for id, old := range s.tickets { // forget long-dead tickets
		if time.Since(old.issued) > 4*nfcTicketTTL {
			delete(s.tickets, id)
		}
	}
	s.tickets[t.id] = t
	s.mu.Unlock()
	scope := "vm"
	if t.diskKey != 0 {
		scope = fmt.Sprintf("disk %d", t.diskKey)
	}
	log.Printf("nfc: %s: ticket %s for %s (%s), %s", t.method, t.id, t.vmName, t.vm.Value, scope)
	return types.HostServiceTicket{Host: "127.0.0.1", Port: int32(s.port), SslThumbprint: s.sha1,
		Service: "vpxa-nfc", ServiceVersion: "1.1", SessionId: t.id}
}

// present consumes a ticket presented to authd (SESSION <id>). A ticket is spent the
// moment authd sees it, whatever follows. The reason is for the logs only.
func (s *nfcServer) present(id string, k nfcKnobs) (*nfcTicket, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	switch {
	case t == nil:
		return nil, "unknown session id"
	case t.used:
		return nil, "session id already used"
	case k.expireTickets:
		t.used = true
		return nil, "ticket expired (expire-tickets knob)"
	case time.Since(t.issued) > nfcTicketTTL:
		t.used = true
		return nil, "ticket expired"
	}
	t.used = true
	return t, ""
}

func nfcFault(msg string, f types.BaseMethodFault) *soap.Fault { return simulator.Fault(msg, f) }

// ticketFor validates the VM (and disk) of a ticket request; a fault or the ticket.
func (s *nfcService) ticketFor(method string, vmRef types.ManagedObjectReference, key int32, host *types.ManagedObjectReference, diskScoped bool) (*types.HostServiceTicket, *soap.Fault) {
	n := s.lab.nfc
	if n == nil || n.tlsConf == nil {
		return nil, nfcFault("NFC is not available on this host", &types.HostNotReachable{})
	}
	vm, ok := simulator.Map.Get(vmRef).(*simulator.VirtualMachine)
	if !ok || vmRef.Type != "VirtualMachine" {
		return nil, nfcFault("", &types.ManagedObjectNotFound{Obj: vmRef})
	}
	var name string
	var devices []types.BaseVirtualDevice
	simulator.Map.WithLock(vm, func() {
		name = vm.Name
		devices = vm.Config.Hardware.Device
	})
	if diskScoped {
		// hostForAccess: the host that serves the disk. nfc_auth.md shows it in every
		// disk-scoped call and a missing one refused for NfcGetServerNfcLibVersion ("A
		// specified parameter was not correct: hostForAccess"); the lab refuses it the same.
		if host == nil || host.Value == "" {
			return nil, nfcFault("A specified parameter was not correct: hostForAccess",
				&types.InvalidArgument{InvalidProperty: "hostForAccess"})
		}
		if _, ok := simulator.Map.Get(*host).(*simulator.HostSystem); !ok || host.Type != "HostSystem" {
			return nil, nfcFault("", &types.ManagedObjectNotFound{Obj: *host})
		}
		found := false
		for _, d := range vmDisks(devices) {
			found = found || d.Key == key
		}
		if !found {
			return nil, nfcFault("A specified parameter was not correct: diskDeviceKey",
				&types.InvalidArgument{InvalidProperty: "diskDeviceKey"})
		}
	}
	t := &nfcTicket{vm: vmRef, vmName: name, method: method}
	if diskScoped {
		t.diskKey = key
	}
	st := n.issue(t)
	return &st, nil
}

func (s *nfcService) NfcRandomAccessOpenReadonly(ctx *simulator.Context, req *NfcRandomAccessOpenReadonly) soap.HasFault {
	st, f := s.ticketFor("NfcRandomAccessOpenReadonly", req.Vm, req.DiskDeviceKey, req.HostForAccess, true)
	if f != nil {
		return &NfcRandomAccessOpenReadonlyBody{Fault_: f}
	}
	return &NfcRandomAccessOpenReadonlyBody{Res: &NfcRandomAccessOpenReadonlyResponse{Returnval: *st}}
}

func (s *nfcService) NfcGetVmFiles(ctx *simulator.Context, req *NfcGetVmFiles) soap.HasFault {
	st, f := s.ticketFor("NfcGetVmFiles", req.Vm, 0, nil, false)
	if f != nil {
		return &NfcGetVmFilesBody{Fault_: f}
	}
	return &NfcGetVmFilesBody{Res: &NfcGetVmFilesResponse{Returnval: *st}}
}

// NfcRandomAccessOpenDisk is the writable ticket (nfc_auth.md, nfc_write.md). The lab is a
// migration source and its disks are read-only to clients: NotSupported.
func (s *nfcService) NfcRandomAccessOpenDisk(ctx *simulator.Context, req *NfcRandomAccessOpenDisk) soap.HasFault {
	return &NfcRandomAccessOpenDiskBody{Fault_: nfcFault("the ferry lab serves disks read-only", &types.NotSupported{})}
}
