package main

// NFC after authd's "200 Connect" (nfc_open.md, nfc_read.md). All integers little-endian.
//
// Classic phase: fixed 264-byte messages, type in the first uint32 (nfc_open.md "Classic
// 264-byte messages"):
//
//	C: 43 NFC_HANDSHAKE "PlainText" at offset 4     (no answer)
//	C: 33 NFC_SESSION_PARAMS                         S: 36, uint32 1 at offset 16
//	C: 51 version                                    S: 51, uint32 11 at offset 4
//	C: 54 connection data, nameLen@4 opIdLen@8, then the two strings raw (no answer)
//	C: 55 session features                           (no answer)
//	C: 52 NFC_AIO_SESSION_OPEN                       S: 52 (zeros): AIO from here on
//	C: 4  NFC_SESSION_COMPLETE                       the server closes
// The docs give one order; the lab accepts these types in any order and closes on another
// type (not documented).
//
// AIO phase: 16-byte header {magic 0xA100DA7A, type, size, opId} + size bytes of payload;
// extras (path, key name, data) follow the payload and are not counted in size; replies
// reuse the request's type, size and opId (nfc_open.md "AIO framing"). A header with
// another magic closes the connection ("invalid msg hdr magic"). Types:
//
//	2  OPEN_SESSION  16 -> 16 zero bytes
//	9  SET_SOCK_OPTS 12 -> send and receive buffer sizes and a flag (values not documented:
//	                       the lab says 256 KiB, 256 KiB, 0)
//	22 SET_RES_POOL   4 -> the pool echoed (reply content not documented)
//	11 DDB_GET       16 + key name -> 16 zero bytes, "key is not found". Where the key's
//	                       length sits is not documented; the lab reads it at offset 0, as
//	                       OPEN_FILE's path length.
//	4  OPEN_FILE     60 + path: pathLen@0, fileType@16 (2 NFC_DISK), flags@20 (0x1e
//	                       read-only, 0x1a read-write; bit 0x04 is the read-only bit,
//	                       nfc_write.md). Reply 60: handle u64@8, type@16, flags@20,
//	                       sector size 512@36. All lab tickets are read-only: a writable
//	                       open gets AIO error 0x0b VIX_E_FILE_READ_ONLY (nfc_auth.md).
//	7  IO            44: handle u64@0, opcode u64@8 (low half 1 read / 0 write, high half
//	                       the compression type), offset u64@16, length u64@24 (nfc_read.md
//	                       "Request"). A read is answered by fragments of at most 64 KiB, each
//	                       header + 44-byte payload {0, 1, request offset u64@16, request
//	                       length u32@24, fragment offset u32@28, fragment length u32@32 and
//	                       @36, 0} + the data (nfc_read.md "Reply"). FastLZ requests get raw
//	                       replies (opcode 1), which "the server may" do. Fragments of one
//	                       request are sent out of order (pairs swapped: 64K-1, 0, 3, 2, ...),
//	                       since "fragments are not always delivered in order", and replies to
//	                       different requests interleave: up to nfcInFlight reads per
//	                       connection are served at once. Writes (opcode 0) are read and
//	                       dropped; the last fragment of one gets AIO error 0x0b.
//	5  CLOSE_FILE     8: handle -> echoed, after the file's reads in flight are answered
//	3  CLOSE_SESSION  4 -> echoed; then the classic 4 SESSION_COMPLETE and the server closes
//	other types: AIO error VIX_E_NOT_SUPPORTED.
//
// AIO error (type 1): its layout is not documented. The lab sends header {magic, 1, 16,
// opId of the failed request} and a 16-byte payload: uint32 VIX error code @0, uint32 the
// failed request's type @4, zeros.
//
// Reads past the disk's end: not documented. A reply must carry exactly the requested length
// (nfc_read.md: the client collects fragments "until the concatenated data length equals the
// request"), so the lab answers any read reaching past the capacity with one AIO error,
// VIX_E_DISK_OUTOFRANGE, and no data. Lengths: 0 or above nfcMaxIO get VIX_E_INVALID_ARG
// (reply lengths are uint32; the lab's cap is a choice). Memory stays bounded whatever the
// client asks: a read is streamed one fragment at a time and at most nfcInFlight reads per
// connection are served at once (the reader stops reading requests meanwhile).

import (
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	nfcMsgSize  = 264
	aioMagic    = 0xA100DA7A
	aioHdr      = 16
	aioFragment = 64 << 10
	nfcInFlight = 16
	nfcMaxIO    = 64 << 20
	nfcMaxFiles = 16

	aioError        = 1
	aioOpenSession  = 2
	aioCloseSession = 3
	aioOpenFile     = 4
	aioCloseFile    = 5
	aioIO           = 7
	aioSockOpts     = 9
	aioDDBGet       = 11
	aioResPool      = 22
)

var le = binary.LittleEndian

type nfcFile struct {
	handle   uint64
	path     string
	opened   *nfcOpened
	bytes    int64 // atomic
	ios      int64 // atomic
	inflight sync.WaitGroup
}

type nfcConn struct {
	s      *nfcServer
	id     int64
	c      net.Conn // the TCP connection
	rw     net.Conn // the stream NFC runs on (raw, or the second TLS session)
	ticket *nfcTicket
	ssl    bool

	wmu    sync.Mutex
	pace   pacer
	sent   int64 // data bytes sent, atomic
	cut    int32 // drop-after fired, atomic
	wg     sync.WaitGroup
	sem    chan struct{}
	fmu    sync.Mutex
	files  map[uint64]*nfcFile
	nextH  uint64
	client string
}

var fragPool = sync.Pool{New: func() interface{} { b := make([]byte, aioHdr+44+aioFragment); return &b }}

func (s *nfcServer) runNFC(c *nfcConn) {
	c.sem = make(chan struct{}, nfcInFlight)
	c.files = map[uint64]*nfcFile{}
	k := s.current()
	if k.rate > 0 || k.hostRate > 0 || k.latency > 0 || k.dropAfter > 0 || k.ioError > 0 {
		s.note("conn=%d ticket=%s knobs: rate=%.0fB/s host-rate=%.0fB/s latency=%s drop-after=%d io-error=%d",
			c.id, c.ticket.id, k.rate, k.hostRate, k.latency, k.dropAfter, k.ioError)
	}
	end := "connection closed"
	if c.classic() {
		end = c.aio()
	}
	_ = c.c.Close()
	c.wg.Wait()
	c.fmu.Lock()
	for h, f := range c.files {
		c.closed(f, end)
		delete(c.files, h)
	}
	c.fmu.Unlock()
	log.Printf("nfc: conn %d: %s", c.id, end)
}

func (c *nfcConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.rw.Write(b)
	return err
}

func (c *nfcConn) classicSend(typ uint32, fill func(m []byte)) error {
	m := make([]byte, nfcMsgSize)
	le.PutUint32(m, typ)
	if fill != nil {
		fill(m)
	}
	return c.write(m)
}

// classic runs the 264-byte handshake; true once AIO is open.
func (c *nfcConn) classic() bool {
	m := make([]byte, nfcMsgSize)
	for {
		_ = c.c.SetReadDeadline(time.Now().Add(authdIdle))
		if _, err := io.ReadFull(c.rw, m); err != nil {
			return false
		}
		var err error
		switch t := le.Uint32(m); t {
		case 43, 55: // handshake ("PlainText"), session features: no answer
		case 33:
			err = c.classicSend(36, func(r []byte) { le.PutUint32(r[16:], 1) })
		case 51:
			err = c.classicSend(51, func(r []byte) { le.PutUint32(r[4:], 11) })
		case 54:
			nameLen, opLen := le.Uint32(m[4:]), le.Uint32(m[8:])
			if nameLen > 4096 || opLen > 4096 {
				log.Printf("nfc: conn %d: connection data lengths %d/%d: closed", c.id, nameLen, opLen)
				return false
			}
			b := make([]byte, nameLen+opLen)
			if _, err := io.ReadFull(c.rw, b); err != nil {
				return false
			}
			c.client = fmt.Sprintf("%s/%s", b[:nameLen], b[nameLen:])
		case 52:
			if c.classicSend(52, nil) != nil {
				return false
			}
			_ = c.c.SetReadDeadline(time.Time{})
			return true
		case 4:
			return false
		default:
			log.Printf("nfc: conn %d: classic message type %d: closed", c.id, t)
			return false
		}
		if err != nil {
			return false
		}
	}
}

func aioHeader(b []byte, typ, size, op uint32) {
	le.PutUint32(b[0:], aioMagic)
	le.PutUint32(b[4:], typ)
	le.PutUint32(b[8:], size)
	le.PutUint32(b[12:], op)
}

func (c *nfcConn) reply(typ, op uint32, payload []byte) error {
	b := make([]byte, aioHdr+len(payload))
	aioHeader(b, typ, uint32(len(payload)), op)
	copy(b[aioHdr:], payload)
	return c.write(b)
}

func (c *nfcConn) fail(op, reqType uint32, code int, why string) error {
	p := make([]byte, 16)
	le.PutUint32(p[0:], uint32(code))
	le.PutUint32(p[4:], reqType)
	log.Printf("nfc: conn %d: opId %d type %d: AIO error %d: %s", c.id, op, reqType, code, why)
	return c.reply(aioError, op, p)
}

// aio serves AIO messages until the session ends; it returns how.
func (c *nfcConn) aio() string {
	hdr := make([]byte, aioHdr)
	for {
		if _, err := io.ReadFull(c.rw, hdr); err != nil {
			if atomic.LoadInt32(&c.cut) != 0 {
				return "cut by drop-after"
			}
			return "connection closed by the client"
		}
		magic, typ, size, op := le.Uint32(hdr[0:]), le.Uint32(hdr[4:]), le.Uint32(hdr[8:]), le.Uint32(hdr[12:])
		if magic != aioMagic {
			c.s.note("conn=%d refused: bad AIO magic %#08x: connection closed", c.id, magic)
			return fmt.Sprintf("bad AIO magic %#08x: closed", magic)
		}
		if size > 4096 {
			return fmt.Sprintf("AIO payload size %d: closed", size)
		}
		p := make([]byte, size)
		if _, err := io.ReadFull(c.rw, p); err != nil {
			return "connection closed by the client"
		}
		want := map[uint32]uint32{aioOpenSession: 16, aioSockOpts: 12, aioResPool: 4, aioDDBGet: 16,
			aioOpenFile: 60, aioIO: 44, aioCloseFile: 8, aioCloseSession: 4}
		if w, known := want[typ]; !known {
			if c.fail(op, typ, vixNotSupported, fmt.Sprintf("unknown AIO message type %d", typ)) != nil {
				return "write failed"
			}
			continue
		} else if w != size {
			if c.fail(op, typ, vixInvalidArg, fmt.Sprintf("type %d with payload size %d (want %d)", typ, size, w)) != nil {
				return "write failed"
			}
			continue
		}
		var err error
		switch typ {
		case aioOpenSession:
			err = c.reply(typ, op, make([]byte, 16))
		case aioSockOpts:
			r := make([]byte, 12)
			le.PutUint32(r[0:], 256<<10)
			le.PutUint32(r[4:], 256<<10)
			err = c.reply(typ, op, r)
		case aioResPool:
			err = c.reply(typ, op, p)
		case aioDDBGet:
			n := le.Uint32(p[0:])
			if n > 4096 {
				return fmt.Sprintf("DDB_GET key length %d: closed", n)
			}
			if _, err := io.ReadFull(c.rw, make([]byte, n)); err != nil {
				return "connection closed by the client"
			}
			err = c.reply(typ, op, make([]byte, 16))
		case aioOpenFile:
			var stop string
			if stop, err = c.openFile(op, p); stop != "" {
				return stop
			}
		case aioIO:
			var stop string
			if stop, err = c.io(op, p); stop != "" {
				return stop
			}
		case aioCloseFile:
			err = c.closeFile(op, p)
		case aioCloseSession:
			c.wg.Wait()
			if c.reply(typ, op, p) != nil {
				return "write failed"
			}
			m := make([]byte, nfcMsgSize)
			_ = c.c.SetReadDeadline(time.Now().Add(authdIdle))
			if _, err := io.ReadFull(c.rw, m); err == nil && le.Uint32(m) == 4 {
				return "session complete"
			}
			return "session closed"
		}
		if err != nil {
			return "write failed"
		}
	}
}

func (c *nfcConn) openFile(op uint32, p []byte) (string, error) {
	n := le.Uint32(p[0:])
	if n > 4096 {
		return fmt.Sprintf("OPEN_FILE path length %d: closed", n), nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.rw, b); err != nil {
		return "connection closed by the client", nil
	}
	path := string(b)
	ftype, flags := le.Uint32(p[16:]), le.Uint32(p[20:])
	switch {
	case n == 0:
		return "", c.fail(op, aioOpenFile, vixInvalidArg, "empty path")
	case ftype != 2:
		return "", c.fail(op, aioOpenFile, vixNotSupported, fmt.Sprintf("file type %d (the lab serves NFC_DISK, 2)", ftype))
	case flags&0x04 == 0:
		c.s.note("conn=%d refused: OPEN_FILE %q flags %#x: the ticket is read-only", c.id, path, flags)
		return "", c.fail(op, aioOpenFile, vixFileReadOnly, fmt.Sprintf("flags %#x open %q for writing on a read-only ticket", flags, path))
	}
	c.fmu.Lock()
	count := len(c.files)
	c.fmu.Unlock()
	if count >= nfcMaxFiles {
		return "", c.fail(op, aioOpenFile, vixFail, "too many open files on this connection")
	}
	o, code, why := c.s.resolve(c.ticket, path, c.s.current())
	if o == nil {
		c.s.note("conn=%d refused: OPEN_FILE %q: %s", c.id, path, why)
		return "", c.fail(op, aioOpenFile, code, why)
	}
	c.fmu.Lock()
	c.nextH++
	f := &nfcFile{handle: uint64(c.id)<<32 | c.nextH, path: path, opened: o}
	c.files[f.handle] = f
	c.fmu.Unlock()
	c.s.access("open conn=%d ticket=%s vm=%s client=%s ssl=%v state=%q capacity=%d handle=%#x file=%q",
		c.id, c.ticket.id, c.ticket.vmName, c.client, c.ssl, o.state, o.disk.capacity, f.handle, path)
	r := make([]byte, 60)
	le.PutUint64(r[8:], f.handle)
	le.PutUint32(r[16:], 2)
	le.PutUint32(r[20:], flags)
	le.PutUint32(r[36:], 512)
	return "", c.reply(aioOpenFile, op, r)
}

func (c *nfcConn) closed(f *nfcFile, end string) {
	f.opened.disk.close()
	c.s.access("close conn=%d ticket=%s vm=%s state=%q bytes=%d ios=%d end=%q file=%q",
		c.id, c.ticket.id, c.ticket.vmName, f.opened.state, atomic.LoadInt64(&f.bytes),
		atomic.LoadInt64(&f.ios), end, f.path)
}

func (c *nfcConn) closeFile(op uint32, p []byte) error {
	h := le.Uint64(p[0:])
	c.fmu.Lock()
	f := c.files[h]
	c.fmu.Unlock()
	if f == nil {
		return c.fail(op, aioCloseFile, vixInvalidArg, fmt.Sprintf("CLOSE_FILE of unknown handle %#x", h))
	}
	f.inflight.Wait()
	c.fmu.Lock()
	delete(c.files, h)
	c.fmu.Unlock()
	c.closed(f, "CLOSE_FILE")
	return c.reply(aioCloseFile, op, p)
}

// io handles one IO message; a non-empty string ends the session.
func (c *nfcConn) io(op uint32, p []byte) (string, error) {
	h, opcode, off, length := le.Uint64(p[0:]), le.Uint64(p[8:]), le.Uint64(p[16:]), le.Uint64(p[24:])
	if uint32(opcode) == 0 {
		// A write fragment: its data follows (nfc_write.md "Request"); read and drop it.
		total, frag, chunk, extra := le.Uint32(p[24:]), le.Uint32(p[28:]), le.Uint32(p[32:]), le.Uint32(p[36:])
		if extra > aioFragment+4096 {
			return fmt.Sprintf("write fragment of %d bytes: closed", extra), nil
		}
		if _, err := io.ReadFull(c.rw, make([]byte, extra)); err != nil {
			return "connection closed by the client", nil
		}
		if uint64(frag)+uint64(chunk) >= uint64(total) {
			return "", c.fail(op, aioIO, vixFileReadOnly, "write on a read-only open")
		}
		return "", nil
	}
	if uint32(opcode) != 1 {
		return "", c.fail(op, aioIO, vixInvalidArg, fmt.Sprintf("IO opcode %#x", opcode))
	}
	c.fmu.Lock()
	f := c.files[h]
	c.fmu.Unlock()
	switch {
	case f == nil:
		return "", c.fail(op, aioIO, vixInvalidArg, fmt.Sprintf("IO on unknown handle %#x", h))
	case length == 0 || length > nfcMaxIO:
		return "", c.fail(op, aioIO, vixInvalidArg, fmt.Sprintf("IO length %d (1..%d)", length, nfcMaxIO))
	case off > uint64(f.opened.disk.capacity) || length > uint64(f.opened.disk.capacity)-off:
		return "", c.fail(op, aioIO, vixDiskOutOfRange, fmt.Sprintf("read %d+%d past the disk's end (%d)", off, length, f.opened.disk.capacity))
	}
	k := c.s.current()
	if n, inject := c.s.nextIO(k); inject {
		c.s.note("conn=%d io-error: IO #%d (opId %d, %d+%d of %s) answered with AIO error %d", c.id, n, op, off, length, f.path, vixFileError)
		return "", c.fail(op, aioIO, vixFileError, "io-error knob")
	}
	c.sem <- struct{}{}
	c.wg.Add(1)
	f.inflight.Add(1)
	go func() {
		defer func() { <-c.sem; c.wg.Done(); f.inflight.Done() }()
		c.read(op, f, int64(off), int64(length), k)
	}()
	return "", nil
}

// read answers one read request with its fragments.
func (c *nfcConn) read(op uint32, f *nfcFile, off, length int64, k nfcKnobs) {
	bp := fragPool.Get().(*[]byte)
	defer fragPool.Put(bp)
	buf := *bp
	if k.latency > 0 {
		time.Sleep(k.latency)
	}
	nfrag := (length + aioFragment - 1) / aioFragment
	for i := int64(0); i < nfrag; i++ {
		idx := i ^ 1
		if idx >= nfrag {
			idx = i
		}
		fo := idx * aioFragment
		n := length - fo
		if n > aioFragment {
			n = aioFragment
		}
		data := buf[aioHdr+44 : aioHdr+44+n]
		if err := f.opened.disk.readAt(data, off+fo); err != nil {
			_ = c.fail(op, aioIO, vixFileError, "read: "+err.Error())
			return
		}
		aioHeader(buf, aioIO, 44, op)
		pl := buf[aioHdr : aioHdr+44]
		for j := range pl {
			pl[j] = 0
		}
		le.PutUint64(pl[8:], 1)
		le.PutUint64(pl[16:], uint64(off))
		le.PutUint32(pl[24:], uint32(length))
		le.PutUint32(pl[28:], uint32(fo))
		le.PutUint32(pl[32:], uint32(n))
		le.PutUint32(pl[36:], uint32(n))
		c.paceFor(int(n), k)
		out := buf[:aioHdr+44+n]
		if k.dropAfter > 0 {
			total := atomic.AddInt64(&c.sent, n)
			if total > k.dropAfter {
				if !atomic.CompareAndSwapInt32(&c.cut, 0, 1) {
					return
				}
				keep := n - (total - k.dropAfter)
				if keep < 0 {
					keep = 0
				}
				_ = c.write(out[:aioHdr+44+keep])
				c.s.note("conn=%d drop-after: connection cut after %d data bytes (opId %d, %s)", c.id, k.dropAfter, op, f.path)
				_ = c.c.Close()
				return
			}
		}
		if c.write(out) != nil {
			return
		}
		atomic.AddInt64(&f.bytes, n)
	}
	atomic.AddInt64(&f.ios, 1)
}

// paceFor waits until n bytes may leave under the per-connection and host-wide rates.
func (c *nfcConn) paceFor(n int, k nfcKnobs) {
	var at time.Time
	if k.rate > 0 {
		at = c.pace.reserve(n, k.rate)
	}
	if k.hostRate > 0 {
		if t := c.s.hostPace.reserve(n, k.hostRate); t.After(at) {
			at = t
		}
	}
	if d := time.Until(at); d >= throttleMinSleep {
		time.Sleep(d)
	}
}
