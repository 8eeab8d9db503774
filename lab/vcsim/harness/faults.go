package main

// Faults on the disk data path, for the robustness tests (tests/faults/).
//
// A real source fails now and then while a disk is read: a busy host or its
// proxy answers 503 Service Unavailable, a connection through a load balancer
// or a firewall is cut in the middle of a transfer, a request waits seconds
// behind a storage path failover. nbdkit's error and delay filters inject the
// same at the NBD level for nbdkit-based sources (nbdkit-error-filter(1):
// error-rate=1%; nbdkit-delay-filter(1): delay-read); ferry reads the lab's
// disks over datastore HTTP access, so the harness injects them there.
// <state>/faults makes it:
//
//	error_pct=P delay_pct=Q delay_ms=D seed=S
//
// Each GET of /folder/ or /nfc/ fails with probability P % -- in turn an HTTP
// 503 before any byte, and a body cut after half its bytes with the
// connection closed -- and, when it does not fail, waits D ms first with
// probability Q %. The draws come from seed S, so a run can be replayed.
// Every injected fault is appended to <state>/faults.log ("error-503 PATH",
// "error-cut PATH", "delay PATH"). No file: no faults. The file is read again
// when it changes (vcsim-lab faults writes it).

import (
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

type faults struct {
	mu       sync.Mutex
	file     settingsFile
	log      string
	errorPct float64
	delayPct float64
	delay    time.Duration
	rnd      *rand.Rand
	cut      bool // the next error is a cut body (else a 503)
}

func newFaults(state string) *faults {
	return &faults{file: settingsFile{path: filepath.Join(state, "faults")},
		log: filepath.Join(state, "faults.log")}
}

// load reads the file again if it changed; under f.mu.
func (f *faults) load() {
	changed, exists := f.file.changed()
	if !changed {
		return
	}
	f.errorPct, f.delayPct, f.rnd, f.cut = 0, 0, nil, false
	if !exists {
		return
	}
	v := f.file.read()
	f.errorPct, f.delayPct = v["error_pct"], v["delay_pct"]
	f.delay = time.Second
	if ms, ok := v["delay_ms"]; ok {
		f.delay = time.Duration(ms * float64(time.Millisecond))
	}
	seed := int64(1)
	if x, ok := v["seed"]; ok {
		seed = int64(x)
	}
	f.rnd = rand.New(rand.NewSource(seed))
}

// note appends one line to the faults log.
func (f *faults) note(what, path string) {
	if fh, err := os.OpenFile(f.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
		fmt.Fprintf(fh, "%s %s\n", what, path)
		fh.Close()
	}
}

// wrap decides this request's fate: it answers 503 itself (false: the
// request is over), or returns a writer that cuts the body halfway, or waits
// and returns w unchanged.
func (f *faults) wrap(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, bool) {
	f.mu.Lock()
	f.load()
	if f.rnd == nil || (f.errorPct == 0 && f.delayPct == 0) {
		f.mu.Unlock()
		return w, true
	}
	fail := f.rnd.Float64()*100 < f.errorPct
	wait := !fail && f.rnd.Float64()*100 < f.delayPct
	cut := false
	if fail {
		cut = f.cut
		f.cut = !f.cut
	}
	delay := f.delay
	f.mu.Unlock()

	switch {
	case fail && !cut:
		f.note("error-503", r.URL.Path)
		http.Error(w, "503 Service Unavailable (lab fault injection)", http.StatusServiceUnavailable)
		return w, false
	case fail:
		f.note("error-cut", r.URL.Path)
		return &cutWriter{ResponseWriter: w}, true
	case wait:
		f.note("delay", r.URL.Path)
		time.Sleep(delay)
	}
	return w, true
}

// cutWriter sends half the body its Content-Length announces, then aborts
// the response: the server closes the connection (HTTP/1.1) or resets the
// stream (HTTP/2) and the client sees a short body.
type cutWriter struct {
	http.ResponseWriter
	sent, limit int64
	limited     bool
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if !c.limited {
		c.limited = true
		n, err := strconv.ParseInt(c.Header().Get("Content-Length"), 10, 64)
		if err != nil || n < 2 {
			n = 2
		}
		c.limit = n / 2
	}
	if c.sent+int64(len(b)) >= c.limit {
		n, _ := c.ResponseWriter.Write(b[:c.limit-c.sent])
		c.sent += int64(n)
		if fl, ok := c.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	n, err := c.ResponseWriter.Write(b)
	c.sent += int64(n)
	return n, err
}
