package main

// Source throughput limits, for benchmarks (bench/parallel).
//
// A real ESXi host serves one disk's stream at a fraction of what it serves in
// all (field figures in notes/peers.md: ~100-160 MiB/s per disk, ~300 MiB/s per
// host), so copying several disks at once adds throughput until the host is
// busy. In the lab, the simulator, the cloud and the copier share one machine's
// CPU: a single stream already takes what the simulator can serve, and neither
// regime the benchmarks talk about ("a source that is not saturated", "one busy
// source") exists unless it is made. <state>/throttle makes it:
//
//	per_disk_mibs=N total_mibs=M
//
// N caps each disk file's download (all ranges of one file share it), M caps
// all downloads together; 0 or absent: no cap. No file: no limits. The file is
// read again when it changes (lab/lab throttle writes it). It applies to
// datastore downloads (/folder/) and ExportVm lease downloads (/nfc/).

import (
	"net/http"
	"path/filepath"
	"sync"
	"time"
)

const throttleChunk = 256 << 10

const throttleMinSleep = 20 * time.Millisecond

// pacer hands out send times so that its bytes leave at rate bytes/s.
type pacer struct {
	mu   sync.Mutex
	next time.Time
}

// throttleCredit is how much idle time a pacer banks: a client's gaps between
// its requests (a few ms each) do not lower the rate it gets.
const throttleCredit = 100 * time.Millisecond

// reserve books n bytes at rate bytes/s and returns when they may be sent.
func (p *pacer) reserve(n int, rate float64) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if floor := time.Now().Add(-throttleCredit); p.next.Before(floor) {
		p.next = floor
	}
	at := p.next
	p.next = p.next.Add(time.Duration(float64(n) / rate * float64(time.Second)))
	return at
}

type throttle struct {
	mu      sync.Mutex
	file    settingsFile
	perDisk float64 // bytes/s, 0: none
	total   float64
	all     pacer
	disks   map[string]*pacer
}

func newThrottle(state string) *throttle {
	return &throttle{file: settingsFile{path: filepath.Join(state, "throttle")}, disks: map[string]*pacer{}}
}

// limits returns the current caps (bytes/s), reading the file again if it changed.
func (t *throttle) limits() (perDisk, total float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	changed, exists := t.file.changed()
	if !changed {
		return t.perDisk, t.total
	}
	t.perDisk, t.total = 0, 0
	if exists {
		v := t.file.read()
		t.perDisk, t.total = v["per_disk_mibs"]*(1<<20), v["total_mibs"]*(1<<20)
	}
	return t.perDisk, t.total
}

func (t *throttle) diskPacer(key string) *pacer {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.disks[key]
	if p == nil {
		p = &pacer{}
		t.disks[key] = p
	}
	return p
}

// wrap returns w paced by the current limits for the file at key, or w itself
// when there are none.
func (t *throttle) wrap(w http.ResponseWriter, key string) http.ResponseWriter {
	perDisk, total := t.limits()
	if perDisk == 0 && total == 0 {
		return w
	}
	pw := &pacedWriter{ResponseWriter: w, perDisk: perDisk, total: total, all: &t.all}
	if perDisk > 0 {
		pw.disk = t.diskPacer(key)
	}
	return pw
}

// pacedWriter sends the body in chunks, each when both its disk's and the
// host's pacer allow.
type pacedWriter struct {
	http.ResponseWriter
	perDisk, total float64
	disk, all      *pacer
}

func (p *pacedWriter) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n := len(b) - done
		if n > throttleChunk {
			n = throttleChunk
		}
		var at time.Time
		if p.disk != nil {
			at = p.disk.reserve(n, p.perDisk)
		}
		if p.total > 0 {
			if t := p.all.reserve(n, p.total); t.After(at) {
				at = t
			}
		}
		// Waking up for every chunk costs the simulator more CPU than
		// sending it: sleep only once the debt is worth a timer.
		if d := time.Until(at); d >= throttleMinSleep {
			time.Sleep(d)
		}
		m, err := p.ResponseWriter.Write(b[done : done+n])
		done += m
		if err != nil {
			return done, err
		}
	}
	return done, nil
}
