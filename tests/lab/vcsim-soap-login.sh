#!/bin/sh
# The vCenter simulator over SOAP/HTTPS: the server presents the lab certificate (verified
# against the lab CA, thumbprint as `vcsim-lab env` says), RetrieveServiceContent and Login
# with the lab credentials work, a property of lab-multi reads back, and a wrong password is
# refused with InvalidLogin.
set -eu
eval "$(lab/vcsim/vcsim-lab env)"
fail() { echo "FAIL vcsim-soap-login: $*" >&2; exit 1; }

# curl, verified against the lab CA only.
out=$(curl -sS --cacert "$FERRY_LAB_VCENTER_CA" -H 'Content-Type: text/xml; charset=utf-8' \
	--data '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent></soapenv:Body></soapenv:Envelope>' \
	"$FERRY_LAB_VCENTER_URL") || fail "RetrieveServiceContent over HTTPS with the lab CA failed"
api=$(printf '%s' "$out" | xmllint --xpath '//*[local-name()="about"]/*[local-name()="apiType"]/text()' - 2>/dev/null) ||
	fail "no about/apiType in RetrieveServiceContent: $out"
[ "$api" = VirtualCenter ] || fail "apiType is '$api', expected VirtualCenter"

FERRY_LAB_VCENTER_THUMBPRINT=$FERRY_LAB_VCENTER_THUMBPRINT PYTHONPATH=lab/vcsim /usr/bin/python3 - <<'PY' || exit 1
import hashlib, os, socket, ssl, sys
import labsoap

def fail(msg):
    print("FAIL vcsim-soap-login: " + msg, file=sys.stderr)
    sys.exit(1)

lab = labsoap.load()
env_host = os.environ["FERRY_LAB_VCENTER_HOST"]
if lab["host"] != env_host:
    fail("lab.json host %r != env host %r" % (lab["host"], env_host))

# The certificate: verifies against the lab CA for "localhost", not against the system CAs,
# and its SHA-1 thumbprint is the advertised one.
ctx = ssl.create_default_context(cafile=lab["ca"])
with socket.create_connection(("127.0.0.1", lab["port"])) as s:
    with ctx.wrap_socket(s, server_hostname="localhost") as t:
        der = t.getpeercert(binary_form=True)
tp = ":".join("%02X" % b for b in hashlib.sha1(der).digest())
if tp != os.environ["FERRY_LAB_VCENTER_THUMBPRINT"] or tp != lab["thumbprint"]:
    fail("served certificate thumbprint %s != env %s / lab.json %s"
         % (tp, os.environ["FERRY_LAB_VCENTER_THUMBPRINT"], lab["thumbprint"]))
try:
    with socket.create_connection(("127.0.0.1", lab["port"])) as s:
        ssl.create_default_context().wrap_socket(s, server_hostname="localhost")
    fail("the server certificate verified against the system CAs: not the lab certificate?")
except ssl.SSLCertVerificationError:
    pass

# Wrong password, then wrong user: InvalidLogin.
for user, pw in ((lab["user"], lab["password"] + "x"), ("someone@vsphere.local", lab["password"])):
    c = labsoap.Client(lab)
    try:
        c.login(user, pw)
        fail("Login as %s with a wrong password succeeded" % user)
    except labsoap.Fault as f:
        if f.kind != "InvalidLogin":
            fail("bad login gave %s, expected InvalidLogin" % f.kind)
    # Without a session, methods needing one are refused.
    try:
        c.call("CurrentTime", "ServiceInstance", "ServiceInstance")
        fail("CurrentTime without a session succeeded")
    except labsoap.Fault as f:
        if f.kind != "NotAuthenticated":
            fail("CurrentTime without session gave %s" % f.kind)

c = labsoap.Client(lab)
r = c.login(lab["user"], lab["password"])
if r.findtext("v:returnval/v:userName", namespaces=labsoap.N) != lab["user"]:
    fail("Login did not return the user session")
if not c.cookie:
    fail("no vmware_soap_session cookie after Login")
multi = labsoap.vm(lab, "lab-multi")
p = c.props("VirtualMachine", multi["moref"], ["name", "config.hardware.numCPU", "config.hardware.numCoresPerSocket",
                                               "config.hardware.memoryMB", "config.firmware", "config.changeTrackingEnabled"])
got = {k: v.text for k, v in p.items()}
want = {"name": "lab-multi", "config.hardware.numCPU": "4", "config.hardware.numCoresPerSocket": "2",
        "config.hardware.memoryMB": "8192", "config.firmware": "efi", "config.changeTrackingEnabled": "true"}
if got != want:
    fail("lab-multi properties %r, expected %r" % (got, want))
c.call("Logout", "SessionManager", "SessionManager")
print("ok vcsim-soap-login: lab CA + thumbprint %s, Login, lab-multi numCPU=4, bad logins -> InvalidLogin" % tp)
PY
