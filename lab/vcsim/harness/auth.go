package main

// Authentication: only the lab user/password may log in (vcsim checks Login against the
// userinfo of Service.Listen), the server presents the lab certificate, and requests the
// harness serves itself (NFC downloads) need a live vCenter session cookie.

import (
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
)

type httpHandler = http.Handler

func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// loadAuth reads the lab credentials written once by vcsim-lab into the state dir.
func (l *lab) loadAuth() error {
	var err error
	if l.user, err = readTrim(filepath.Join(l.state, "user")); err != nil {
		return err
	}
	if l.password, err = readTrim(filepath.Join(l.state, "password")); err != nil {
		return err
	}
	if l.user == "" || l.password == "" {
		return fmt.Errorf("empty lab user or password")
	}
	return nil
}

// loadTLS loads the lab server certificate (signed by the lab CA) and computes its SHA-1
// thumbprint in vSphere's notation (upper-case hex, colon separated).
func (l *lab) loadTLS() (*tls.Config, error) {
	pki := filepath.Join(l.state, "pki")
	cert, err := tls.LoadX509KeyPair(filepath.Join(pki, "server.crt"), filepath.Join(pki, "server.key"))
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, err
	}
	l.thumbprint = thumbprint(leaf.Raw)
	l.caFile = filepath.Join(pki, "ca.crt")
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}

func thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

const currentTimeBody = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:vim25="urn:vim25">` +
	`<soapenv:Body><vim25:CurrentTime><vim25:_this type="ServiceInstance">ServiceInstance</vim25:_this>` +
	`</vim25:CurrentTime></soapenv:Body></soapenv:Envelope>`

// sessionValid asks vcsim itself whether the request's session cookie belongs to a live
// session: CurrentTime needs one, and answers NotAuthenticated otherwise.
func (l *lab) sessionValid(r *http.Request) bool {
	c, err := r.Cookie("vmware_soap_session")
	if err != nil || c.Value == "" {
		return false
	}
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(currentTimeBody))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	l.inner.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}
