package main

// ferry-vcsim nfc-read: read one lab disk over NFC as fast as the server allows, without
// NBD, for benchmarks (the server's ceiling) and checks. It is a client of the lab only:
// vCenter login with the lab credentials (lab.json), a ticket, authd, the NFC handshake,
// OPEN_FILE, then reads of -chunk bytes with -depth of them in flight.
//
//	ferry-vcsim nfc-read -state DIR [-snapshot] [-ssl] [-depth N] [-chunk BYTES]
//	                     [-length BYTES] [-o FILE] [-sha256] VM DISK
//
// Without -snapshot the ticket is NfcRandomAccessOpenReadonly for the disk (the VM's current
// disk: refused while the VM runs, unless `vcsim-lab nfc running-lock=0`); with -snapshot a
// temporary snapshot is taken, read through an NfcGetVmFiles ticket, and removed.

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func nfcReadCmd(args []string) int {
	fs := flag.NewFlagSet("nfc-read", flag.ExitOnError)
	state := fs.String("state", "", "state directory of the lab")
	snap := fs.Bool("snapshot", false, "read a temporary snapshot of the disk (NfcGetVmFiles ticket)")
	ssl := fs.Bool("ssl", false, "PROXY vpxa-nfcssl: NFC inside a second TLS session")
	depth := fs.Int("depth", 8, "reads in flight")
	chunk := fs.Int64("chunk", 4<<20, "bytes per read request")
	length := fs.Int64("length", 0, "bytes to read from offset 0 (0: the whole disk)")
	out := fs.String("o", "", "write the disk content to this file")
	sum := fs.Bool("sha256", false, "print the SHA-256 of the bytes read")
	_ = fs.Parse(args)
	a := fs.Args()
	if *state == "" || len(a) != 2 || *depth < 1 || *chunk < 512 || *chunk > nfcMaxIO {
		fmt.Fprintln(os.Stderr, "usage: nfc-read -state DIR [-snapshot] [-ssl] [-depth N] [-chunk BYTES] [-length BYTES] [-o FILE] [-sha256] VM DISK")
		return 2
	}
	if err := nfcRead(*state, a[0], a[1], *snap, *ssl, *depth, *chunk, *length, *out, *sum); err != nil {
		fmt.Fprintf(os.Stderr, "nfc-read: %v\n", err)
		return 1
	}
	return 0
}

func nfcRead(state, vmName, diskArg string, snap, ssl bool, depth int, chunk, length int64, outPath string, sum bool) error {
	b, err := os.ReadFile(filepath.Join(state, "lab.json"))
	if err != nil {
		return err
	}
	var j labJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var vm *vmInfo
	for i := range j.VMs {
		if j.VMs[i].Name == vmName {
			vm = &j.VMs[i]
		}
	}
	idx, err := strconv.Atoi(diskArg)
	if vm == nil || err != nil || idx < 0 || idx >= len(vm.Disks) {
		return fmt.Errorf("no disk %s of lab VM %q", diskArg, vmName)
	}
	disk := vm.Disks[idx]
	ctx := context.Background()
	u, err := soap.ParseURL(j.URL)
	if err != nil {
		return err
	}
	sc := soap.NewClient(u, false)
	if err := sc.SetRootCAs(j.CA); err != nil {
		return err
	}
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return err
	}
	if err := session.NewManager(vc).Login(ctx, url.UserPassword(j.User, j.Password)); err != nil {
		return err
	}
	vmRef := types.ManagedObjectReference{Type: "VirtualMachine", Value: vm.Moref}
	nfcRef := types.ManagedObjectReference{Type: "NfcService", Value: nfcServiceMoref}
	var ticket types.HostServiceTicket
	if snap {
		task, err := object.NewVirtualMachine(vc, vmRef).CreateSnapshot(ctx, "nfc-read", "ferry-vcsim nfc-read", false, false)
		if err != nil {
			return err
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return err
		}
		sref := info.Result.(types.ManagedObjectReference)
		defer func() {
			res, err := methods.RemoveSnapshot_Task(ctx, vc, &types.RemoveSnapshot_Task{This: sref, RemoveChildren: false, Consolidate: types.NewBool(true)})
			if err == nil {
				_ = object.NewTask(vc, res.Returnval).Wait(ctx)
			}
		}()
		var req, res NfcGetVmFilesBody
		req.Req = &NfcGetVmFiles{This: nfcRef, Vm: vmRef}
		if err := vc.RoundTrip(ctx, &req, &res); err != nil {
			return err
		}
		ticket = res.Res.Returnval
	} else {
		var mvm mo.VirtualMachine
		if err := property.DefaultCollector(vc).RetrieveOne(ctx, vmRef, []string{"runtime.host"}, &mvm); err != nil {
			return err
		}
		var req, res NfcRandomAccessOpenReadonlyBody
		req.Req = &NfcRandomAccessOpenReadonly{This: nfcRef, Vm: vmRef, DiskDeviceKey: disk.Key, HostForAccess: mvm.Runtime.Host}
		if err := vc.RoundTrip(ctx, &req, &res); err != nil {
			return err
		}
		ticket = res.Res.Returnval
	}
	if length <= 0 || length > disk.Capacity {
		length = disk.Capacity
	}
	cl, err := nfcDial(ticket, ssl)
	if err != nil {
		return err
	}
	defer cl.c.Close()
	h, err := cl.open(disk.File)
	if err != nil {
		return err
	}
	var out *os.File
	if outPath != "" {
		if out, err = os.Create(outPath); err != nil {
			return err
		}
		defer out.Close()
	}
	var hs hash.Hash
	if sum {
		hs = sha256.New()
	}
	start := time.Now()
	if err := cl.readAll(h, length, chunk, depth, out, hs); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	_ = cl.close(h)
	mode := "nbd"
	if ssl {
		mode = "nbdssl"
	}
	fmt.Printf("nfc-read: %s disk %d (%s): %d bytes in %.3f s: %.1f MiB/s (%s, depth %d, chunk %d)\n",
		vmName, idx, disk.File, length, secs, float64(length)/secs/(1<<20), mode, depth, chunk)
	if hs != nil {
		fmt.Printf("sha256 %s\n", hex.EncodeToString(hs.Sum(nil)))
	}
	return nil
}

type nfcClient struct {
	c   net.Conn
	rw  net.Conn
	br  *bufio.Reader
	wmu sync.Mutex
	op  uint32
}

func readLine(r io.Reader) (string, error) {
	var sb strings.Builder
	b := make([]byte, 1)
	for sb.Len() < 4096 {
		if _, err := io.ReadFull(r, b); err != nil {
			return sb.String(), err
		}
		if b[0] == '\n' {
			return strings.TrimRight(sb.String(), "\r"), nil
		}
		sb.WriteByte(b[0])
	}
	return sb.String(), errors.New("line too long")
}

func nfcDial(t types.HostServiceTicket, ssl bool) (*nfcClient, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(t.Host, strconv.Itoa(int(t.Port))), 10*time.Second)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*nfcClient, error) { c.Close(); return nil, err }
	if _, err := readLine(c); err != nil { // the plaintext banner
		return fail(err)
	}
	conf := &tls.Config{InsecureSkipVerify: true, VerifyConnection: func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("no certificate")
		}
		h := sha1.Sum(cs.PeerCertificates[0].Raw)
		if got := colonHex(h[:]); !strings.EqualFold(got, t.SslThumbprint) {
			return fmt.Errorf("host thumbprint %s, ticket says %s", got, t.SslThumbprint)
		}
		return nil
	}}
	tc := tls.Client(c, conf)
	if err := tc.Handshake(); err != nil {
		return fail(err)
	}
	svc := t.Service
	if ssl {
		svc += "ssl"
	}
	for _, cmd := range []string{"SESSION " + t.SessionId, "BANNER ", "THUMBPRINT_SHA2 PlainText", "PROXY " + svc} {
		if _, err := io.WriteString(tc, cmd+"\r\n"); err != nil {
			return fail(err)
		}
		if strings.HasPrefix(cmd, "SESSION ") {
			continue
		}
		line, err := readLine(tc)
		if err != nil {
			return fail(err)
		}
		if !strings.HasPrefix(line, "2") {
			return fail(fmt.Errorf("authd: %s: %s", strings.Fields(cmd)[0], line))
		}
	}
	cl := &nfcClient{c: c, rw: c}
	if ssl {
		tc2 := tls.Client(c, conf)
		if err := tc2.Handshake(); err != nil {
			return fail(err)
		}
		cl.rw = tc2
	}
	cl.br = bufio.NewReaderSize(cl.rw, 256<<10)
	msg := func(typ uint32, fill func(m []byte)) error {
		m := make([]byte, nfcMsgSize)
		le.PutUint32(m, typ)
		if fill != nil {
			fill(m)
		}
		_, err := cl.rw.Write(m)
		return err
	}
	want := func(typ uint32) error {
		m := make([]byte, nfcMsgSize)
		if _, err := io.ReadFull(cl.br, m); err != nil {
			return err
		}
		if le.Uint32(m) != typ {
			return fmt.Errorf("classic handshake: message type %d, want %d", le.Uint32(m), typ)
		}
		return nil
	}
	name, opid := "nfc-read", "ferry-lab"
	steps := []func() error{
		func() error { return msg(43, func(m []byte) { copy(m[4:], "PlainText") }) },
		func() error { return msg(33, nil) }, func() error { return want(36) },
		func() error { return msg(51, func(m []byte) { le.PutUint32(m[4:], 11) }) }, func() error { return want(51) },
		func() error {
			if err := msg(54, func(m []byte) { le.PutUint32(m[4:], uint32(len(name))); le.PutUint32(m[8:], uint32(len(opid))) }); err != nil {
				return err
			}
			_, err := cl.rw.Write([]byte(name + opid))
			return err
		},
		func() error { return msg(55, func(m []byte) { le.PutUint32(m[4:], 3) }) },
		func() error { return msg(52, nil) }, func() error { return want(52) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return fail(err)
		}
	}
	for _, r := range []struct {
		typ uint32
		p   []byte
	}{{aioOpenSession, make([]byte, 16)}, {aioSockOpts, make([]byte, 12)}, {aioResPool, []byte{1, 0, 0, 0}}} {
		if _, _, err := cl.call(r.typ, r.p, nil); err != nil {
			return fail(err)
		}
	}
	return cl, nil
}

func (cl *nfcClient) send(typ uint32, payload, extra []byte) (uint32, error) {
	cl.wmu.Lock()
	defer cl.wmu.Unlock()
	op := cl.op
	cl.op++
	b := make([]byte, aioHdr+len(payload)+len(extra))
	aioHeader(b, typ, uint32(len(payload)), op)
	copy(b[aioHdr:], payload)
	copy(b[aioHdr+len(payload):], extra)
	_, err := cl.rw.Write(b)
	return op, err
}

// recv reads one AIO message header and payload.
func (cl *nfcClient) recv() (typ, op uint32, p []byte, err error) {
	hdr := make([]byte, aioHdr)
	if _, err = io.ReadFull(cl.br, hdr); err != nil {
		return
	}
	if le.Uint32(hdr) != aioMagic {
		return 0, 0, nil, fmt.Errorf("bad magic %#x", le.Uint32(hdr))
	}
	typ, op = le.Uint32(hdr[4:]), le.Uint32(hdr[12:])
	p = make([]byte, le.Uint32(hdr[8:]))
	_, err = io.ReadFull(cl.br, p)
	return
}

func (cl *nfcClient) call(typ uint32, payload, extra []byte) (uint32, []byte, error) {
	op, err := cl.send(typ, payload, extra)
	if err != nil {
		return op, nil, err
	}
	rt, rop, p, err := cl.recv()
	switch {
	case err != nil:
		return op, nil, err
	case rt == aioError:
		return op, p, fmt.Errorf("AIO error %d for message type %d", le.Uint32(p), typ)
	case rt != typ || rop != op:
		return op, p, fmt.Errorf("reply type %d opId %d to type %d opId %d", rt, rop, typ, op)
	}
	return op, p, nil
}

func (cl *nfcClient) open(path string) (uint64, error) {
	p := make([]byte, 60)
	le.PutUint32(p[0:], uint32(len(path)))
	le.PutUint32(p[16:], 2)
	le.PutUint32(p[20:], 0x1e)
	_, r, err := cl.call(aioOpenFile, p, []byte(path))
	if err != nil {
		return 0, fmt.Errorf("OPEN_FILE %s: %v", path, err)
	}
	return le.Uint64(r[8:]), nil
}

func (cl *nfcClient) close(h uint64) error {
	p := make([]byte, 8)
	le.PutUint64(p, h)
	if _, _, err := cl.call(aioCloseFile, p, nil); err != nil {
		return err
	}
	if _, _, err := cl.call(aioCloseSession, make([]byte, 4), nil); err != nil {
		return err
	}
	m := make([]byte, nfcMsgSize)
	le.PutUint32(m, 4)
	_, err := cl.rw.Write(m)
	return err
}

// readAll reads [0, length) with depth requests of chunk bytes in flight; the data goes to
// out and hs in order.
func (cl *nfcClient) readAll(h uint64, length, chunk int64, depth int, out *os.File, hs hash.Hash) error {
	type req struct {
		off, n, got int64
		buf         []byte
	}
	pending := map[uint32]*req{}
	var order []*req
	next := int64(0)
	issue := func() error {
		n := chunk
		if length-next < n {
			n = length - next
		}
		p := make([]byte, 44)
		le.PutUint64(p[0:], h)
		le.PutUint64(p[8:], 1)
		le.PutUint64(p[16:], uint64(next))
		le.PutUint64(p[24:], uint64(n))
		le.PutUint32(p[32:], uint32(n))
		le.PutUint32(p[36:], uint32(n))
		op, err := cl.send(aioIO, p, nil)
		r := &req{off: next, n: n, buf: make([]byte, n)}
		pending[op] = r
		order = append(order, r)
		next += n
		return err
	}
	for len(order) < depth && next < length {
		if err := issue(); err != nil {
			return err
		}
	}
	hdr := make([]byte, aioHdr+44)
	for len(order) > 0 {
		if _, err := io.ReadFull(cl.br, hdr); err != nil {
			return err
		}
		typ, op := le.Uint32(hdr[4:]), le.Uint32(hdr[12:])
		if le.Uint32(hdr) != aioMagic {
			return fmt.Errorf("bad magic %#x", le.Uint32(hdr))
		}
		if typ == aioError {
			return fmt.Errorf("AIO error %d on read opId %d", le.Uint32(hdr[aioHdr:]), op)
		}
		r := pending[op]
		fo, n := int64(le.Uint32(hdr[aioHdr+28:])), int64(le.Uint32(hdr[aioHdr+32:]))
		if typ != aioIO || r == nil || n > aioFragment || fo+n > r.n {
			return fmt.Errorf("unexpected fragment type %d opId %d offset %d length %d", typ, op, fo, n)
		}
		if _, err := io.ReadFull(cl.br, r.buf[fo:fo+n]); err != nil {
			return err
		}
		r.got += n
		if r.got < r.n {
			continue
		}
		delete(pending, op)
		for len(order) > 0 && order[0].got == order[0].n {
			done := order[0]
			order = order[1:]
			if out != nil {
				if _, err := out.WriteAt(done.buf, done.off); err != nil {
					return err
				}
			}
			if hs != nil {
				hs.Write(done.buf)
			}
			if next < length {
				if err := issue(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
