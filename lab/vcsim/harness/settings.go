package main

// Settings files of the harness (<state>/throttle, <state>/faults): words
// "name=number" on any lines, read again whenever the file changes.

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

type settingsFile struct {
	path  string
	mtime time.Time
	size  int64
	known bool // the file existed at the last look
}

// changed says whether the file is new, gone or different since the last
// call; exists whether it is there now.
func (f *settingsFile) changed() (changed, exists bool) {
	st, err := os.Stat(f.path)
	if err != nil {
		was := f.known
		f.known, f.mtime, f.size = false, time.Time{}, 0
		return was, false
	}
	if f.known && st.ModTime().Equal(f.mtime) && st.Size() == f.size {
		return false, true
	}
	f.known, f.mtime, f.size = true, st.ModTime(), st.Size()
	return true, true
}

// read returns the file's name=number words (negative or malformed ones
// are left out).
func (f *settingsFile) read() map[string]float64 {
	out := map[string]float64{}
	fh, err := os.Open(f.path)
	if err != nil {
		return out
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		x, err := strconv.ParseFloat(v, 64)
		if ok && err == nil && x >= 0 {
			out[k] = x
		}
	}
	return out
}
