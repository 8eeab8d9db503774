package main

// Datastore file access (/folder/<path>?dcPath=...&dsName=...) with authentication, as on
// a real vCenter. vcsim 0.24 serves /folder to anyone; vCenter does not. VMware's vSphere
// Web Services SDK Programming Guide, appendix "HTTP Access to vSphere Server Files":
//   - "URL Syntax for HTTP Access" / "Datastore Access (/folder)"
//     https://vdc-download.vmware.com/vmwb-repository/dcr-public/c9f497d8-4819-4876-a6d5-7313453dd103/c36d536f-337a-4586-8fbf-944d5f20cb66/doc/PG_Appx_Http_Access.21.3.html
//   - "Privilege Requirements for HTTP Access": such access needs the same privileges as
//     any other way to the files (System.View, Datastore.Browse,
//     Datastore.FileManagement), i.e. an authenticated user
//     https://vdc-download.vmware.com/vmwb-repository/dcr-public/5c1c7b8c-0d1b-4037-af84-5f43787eb378/fab98b61-56a7-4608-992f-818d3b40e4ae/GUID-D8AF2F09-09B8-47AD-9F10-BA80F8A2BA6A.html
//   - "Persistent vCenter Server Sessions": the session is the vmware_soap_session cookie
//     that Login returns and that later requests carry
//     https://vdc-repo.vmware.com/vmwb-repository/dcr-public/48d9be5f-fdb8-4586-95e4-e26a27eae50b/0d9bb235-0b5c-4e2b-b32a-44b9bd32b575/GUID-BD4752B0-A5A7-4F46-B25A-3478BABCB992.html
// So the harness lets a /folder request through when it carries the cookie of a live
// session (one that Logout, SessionManager.TerminateSession or an idle timeout has not
// ended) or HTTP basic credentials of the lab user, and answers 401 otherwise -- what
// clients see from vCenter when their session is gone (e.g. rbvmomi issue #97 shows
// vCenter's /folder answering 401).
//
// For tests that end a reader's session the way an administrator would (TerminateSession
// on the session's key, taken from SessionManager.sessionList), the harness notes which
// session first read which datastore file: <state>/datastore-access.log, one line
// "<time> <session key> <method> <path>" per (session, file) pair. Basic-auth reads are
// noted as "basic:<user>".

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

var (
	folderSeenMu sync.Mutex
	folderSeen   = map[string]bool{}
)

func isFolderPath(p string) bool {
	return p == "/folder" || strings.HasPrefix(p, "/folder/")
}

// folderAuth says who may read r: the session key, "basic:<user>", or "" for nobody.
func (l *lab) folderAuth(r *http.Request) string {
	if u, p, ok := r.BasicAuth(); ok {
		if subtle.ConstantTimeCompare([]byte(u), []byte(l.user)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(l.password)) == 1 {
			return "basic:" + u
		}
		return ""
	}
	if !l.sessionValid(r) {
		return ""
	}
	c, _ := r.Cookie("vmware_soap_session")
	return strings.Trim(c.Value, "\"")
}

// checkFolder answers 401 and returns false when r may not use /folder.
func (l *lab) checkFolder(w http.ResponseWriter, r *http.Request) bool {
	who := l.folderAuth(r)
	if who == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="ferry lab vCenter"`)
		http.Error(w, "401 Unauthorized: no valid vCenter session", http.StatusUnauthorized)
		return false
	}
	key := who + "\x00" + r.URL.Path
	folderSeenMu.Lock()
	seen := folderSeen[key]
	folderSeen[key] = true
	folderSeenMu.Unlock()
	if !seen {
		f, err := os.OpenFile(filepath.Join(l.state, "datastore-access.log"),
			os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), who,
				r.Method, r.URL.Path)
			f.Close()
		}
	}
	return true
}
