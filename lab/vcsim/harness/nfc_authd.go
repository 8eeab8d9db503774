package main

// authd on the NFC port (nfc_auth.md "Stage 3: authd handshake (TCP 902)"):
//
//	S: 220 <banner>, plaintext, on connect ("Plaintext banner from ESXi 8" ... "SSL Required")
//	C: TLS ClientHello (anything else: "Sending commands before wrap_socket closes the
//	   connection")
//	C: SESSION <sessionId>          no reply of its own ("SESSION does not get a reply")
//	C: BANNER                       ("BANNER" plus a trailing space)  S: 220 <banner>
//	C: THUMBPRINT_SHA2 PlainText    S: 200 <SHA-256 of the host certificate, colon hex>
//	                                (any other argument: 501 Invalid arguments)
//	C: PROXY vpxa-nfc               S: 200 Connect ha-nfc     then NFC on the raw TCP stream
//	C: PROXY vpxa-nfcssl            S: 200 Connect ha-nfcssl  then a new TLS handshake on the
//	                                same connection, NFC inside it (nfc_open.md "After PROXY")
//
// USER/PASS are refused as in the doc's table ("530 Login incorrect"); SESSIONID and
// CONNECT_VPXA get "530 Please login with USER and PASS". Not documented, the lab's choice:
// PROXY without a SESSION gets "530 Please login with USER and PASS"; PROXY after a SESSION
// whose id is unknown, already used or expired gets "530 Login incorrect" (the reason goes
// to the harness log and <state>/nfc.log); PROXY naming another service than the ticket's
// (or its "ssl" form) gets "501 Invalid arguments"; other commands "500 Unknown command".
// The connection stays open after a 5xx, as an FTP-style daemon's would.

import (
	"bufio"
	"crypto/tls"
	"io"
	"log"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

const authdBanner = "220 VMware Authentication Daemon Version 1.10: SSL Required, ServerDaemonProtocol:SOAP, " +
	"MKSDisplayProtocol:VNC , VMXARGS supported, NFCSSL supported/t, SHA256 supported"

// authd phases may not idle longer than this (not documented; a lab choice).
const authdIdle = 60 * time.Second

func (s *nfcServer) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.serveConn(c)
	}
}

// bufConn reads through a bufio.Reader (bytes already peeked stay readable) and writes to
// the connection.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

func (s *nfcServer) serveConn(c net.Conn) {
	id := atomic.AddInt64(&s.connSeq, 1)
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	_ = c.SetDeadline(time.Now().Add(authdIdle))
	if _, err := io.WriteString(c, authdBanner+"\r\n"); err != nil {
		return
	}
	br := bufio.NewReaderSize(c, 64<<10)
	first, err := br.Peek(1)
	if err != nil {
		return
	}
	if first[0] != 0x16 { // not a TLS handshake record
		s.note("conn=%d refused: plaintext before TLS", id)
		log.Printf("nfc: conn %d: plaintext before TLS: closed", id)
		return
	}
	raw := &bufConn{Conn: c, r: br}
	tc := tls.Server(raw, s.tlsConf)
	if err := tc.Handshake(); err != nil {
		log.Printf("nfc: conn %d: TLS: %v", id, err)
		return
	}
	lines := bufio.NewReaderSize(tc, 4096)
	reply := func(line string) bool {
		_, err := io.WriteString(tc, line+"\r\n")
		return err == nil
	}
	var ticket *nfcTicket
	sessionSeen, why := false, ""
	for {
		_ = c.SetDeadline(time.Now().Add(authdIdle))
		line, err := lines.ReadSlice('\n')
		if err != nil {
			if err == bufio.ErrBufferFull {
				log.Printf("nfc: conn %d: command line too long: closed", id)
			}
			return
		}
		text := strings.TrimRight(string(line), "\r\n")
		cmd, arg, _ := strings.Cut(text, " ")
		switch strings.ToUpper(cmd) {
		case "SESSION":
			sessionSeen = true
			ticket, why = s.present(strings.TrimSpace(arg), s.current())
			if ticket == nil {
				s.note("conn=%d session %s refused: %s", id, strings.TrimSpace(arg), why)
				log.Printf("nfc: conn %d: session %q refused: %s", id, strings.TrimSpace(arg), why)
			}
		case "BANNER":
			// The trailing space is part of the command (nfc_auth.md, Notes): a bare
			// "BANNER" is not the command authd knows.
			if !strings.HasPrefix(text, "BANNER ") {
				if !reply("500 Unknown command") {
					return
				}
				continue
			}
			if !reply(authdBanner) {
				return
			}
		case "THUMBPRINT_SHA2", "THUMBPRINT":
			if cmd == "THUMBPRINT_SHA2" && arg == "PlainText" {
				if !reply("200 " + s.sha256) {
					return
				}
			} else if !reply("501 Invalid arguments") {
				return
			}
		case "USER":
			if !reply("331 Password required") {
				return
			}
		case "PASS", "XPAS":
			if !reply("530 Login incorrect") {
				return
			}
		case "SESSIONID", "CONNECT_VPXA":
			if !reply("530 Please login with USER and PASS") {
				return
			}
		case "QUIT":
			reply("221 Goodbye")
			return
		case "PROXY":
			svc := strings.TrimSpace(arg)
			switch {
			case !sessionSeen:
				if !reply("530 Please login with USER and PASS") {
					return
				}
				continue
			case ticket == nil:
				if !reply("530 Login incorrect") {
					return
				}
				continue
			case svc != "vpxa-nfc" && svc != "vpxa-nfcssl":
				if !reply("501 Invalid arguments") {
					return
				}
				continue
			}
			ssl := svc == "vpxa-nfcssl"
			endpoint := "ha-nfc"
			if ssl {
				endpoint = "ha-nfcssl"
			}
			if !reply("200 Connect " + endpoint) {
				return
			}
			// From here on the authd TLS session is abandoned (nfc_open.md "After PROXY"):
			// NFC runs on the raw stream, or in a second TLS session on it.
			var stream net.Conn = raw
			if ssl {
				tc2 := tls.Server(raw, s.tlsConf)
				_ = c.SetDeadline(time.Now().Add(authdIdle))
				if err := tc2.Handshake(); err != nil {
					log.Printf("nfc: conn %d: second TLS (vpxa-nfcssl): %v", id, err)
					return
				}
				stream = tc2
			}
			_ = c.SetDeadline(time.Time{})
			log.Printf("nfc: conn %d: ticket %s (%s) connected to %s", id, ticket.id, ticket.vmName, endpoint)
			s.runNFC(&nfcConn{s: s, id: id, c: c, rw: stream, ticket: ticket, ssl: ssl})
			return
		default:
			if !reply("500 Unknown command") {
				return
			}
		}
	}
}
