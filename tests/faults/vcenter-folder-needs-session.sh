#!/bin/sh
# The lab's vCenter serves datastore files (/folder/...) only to a live
# session, as vCenter does: no cookie, a made-up cookie, a logged-out
# session, a session an administrator ended (SessionManager.TerminateSession)
# and wrong basic credentials get HTTP 401; a logged-in session's cookie and
# the lab user's basic credentials get the bytes.
. "$FERRY_SRCDIR/tests/functions.sh"
cd "$FERRY_SRCDIR"
eval "$(lab/vcsim/vcsim-lab env)" || fail "the lab's vCenter is not up: run lab/lab up"
PYTHONPATH=lab/vcsim /usr/bin/python3 - <<'PY' || fail "see above"
import base64, sys, urllib.parse
import labsoap

def fail(msg):
    print("FAIL vcenter-folder-needs-session: " + msg, file=sys.stderr)
    sys.exit(1)

lab = labsoap.load()
vm = labsoap.vm(lab, "lab-small-06")
d = vm["disks"][0]
rel = d["file"].split("] ", 1)[1].replace(".vmdk", "-flat.vmdk")
path = "/folder/%s?dcPath=%s&dsName=%s" % (urllib.parse.quote(rel), lab["datacenter"],
                                           lab["datastore"]["name"])
with open(d["flat"], "rb") as f:
    want = f.read(4096)

def get(headers):
    c = labsoap.Client(lab).conn()
    h = {"Range": "bytes=0-4095"}
    h.update(headers)
    c.request("GET", path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body

def expect(what, headers, status):
    got, body = get(headers)
    if got != status:
        fail("%s: HTTP %d, expected %d" % (what, got, status))
    if status == 206 and body != want:
        fail("%s: HTTP 206 but not the file's bytes" % what)
    print("ok: %s -> HTTP %d" % (what, got))

def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}

expect("no session", {}, 401)
expect("a made-up cookie", {"Cookie": "vmware_soap_session=\"0123-not-a-session\""}, 401)
expect("wrong basic credentials", basic(lab["user"], "not-the-password"), 401)
expect("the lab user's basic credentials", basic(lab["user"], lab["password"]), 206)

# A reader's session, ended by Logout.
reader = labsoap.Client(lab)
reader.login(lab["user"], lab["password"])
expect("a live session", {"Cookie": reader.cookie}, 206)
sm = reader.service_content().findtext("v:sessionManager", namespaces=labsoap.N)
cookie = reader.cookie
reader.call("Logout", "SessionManager", sm)
expect("a logged-out session", {"Cookie": cookie}, 401)

# A reader's session ended by an administrator: TerminateSession from another
# session, with the key found in SessionManager.sessionList.
reader = labsoap.Client(lab)
reader.login(lab["user"], lab["password"])
expect("a live session (2)", {"Cookie": reader.cookie}, 206)
mine = reader.prop("SessionManager", sm, "currentSession").findtext("v:key", namespaces=labsoap.N)
admin = labsoap.Client(lab)
admin.login(lab["user"], lab["password"])
keys = [s.findtext("v:key", namespaces=labsoap.N)
        for s in admin.prop("SessionManager", sm, "sessionList").findall("v:UserSession", namespaces=labsoap.N)]
if mine not in keys:
    fail("the reader's session %s... is not in SessionManager.sessionList" % mine[:8])
admin.call("TerminateSession", "SessionManager", sm, "<sessionId>%s</sessionId>" % mine)
expect("a session ended by TerminateSession", {"Cookie": reader.cookie}, 401)
try:
    reader.call("CurrentTime", "ServiceInstance", "ServiceInstance")
    fail("the terminated session still answers SOAP calls")
except labsoap.Fault as e:
    if e.kind != "NotAuthenticated":
        fail("the terminated session's SOAP call: %s, expected NotAuthenticated" % e)
expect("the administrator's own session", {"Cookie": admin.cookie}, 206)
admin.call("Logout", "SessionManager", sm)
PY
exit 0
