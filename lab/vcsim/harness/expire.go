package main

// Session expiry on demand, for tests of a client's transparent re-login:
// when the file <state>/expire-sessions-after holds a number N, the first
// session to make its N-th /sdk call is terminated server-side right after
// it, with vcsim's own SessionManager.TerminateSession -- as vCenter does
// when a session idles out or an administrator ends it -- and the file is
// removed (one shot). The client's next call finds its session gone.

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

var (
	expireMu    sync.Mutex
	expireCalls = map[string]int{}
)

func (l *lab) expireAfterCall(r *http.Request) {
	data, err := os.ReadFile(filepath.Join(l.state, "expire-sessions-after"))
	if err != nil {
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n <= 0 {
		return
	}
	c, err := r.Cookie("vmware_soap_session")
	if err != nil || c.Value == "" {
		return
	}
	key := strings.Trim(c.Value, "\"")
	expireMu.Lock()
	expireCalls[key]++
	count := expireCalls[key]
	expireMu.Unlock()
	if count != n {
		return
	}
	// A context whose own session is none of the client's, as an
	// administrator's would be.
	ctx := &simulator.Context{Session: &simulator.Session{}}
	simulator.Map.SessionManager().TerminateSession(ctx, &types.TerminateSession{SessionId: []string{key}})
	_ = os.Remove(filepath.Join(l.state, "expire-sessions-after"))
}
