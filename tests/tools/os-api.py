#!/usr/bin/python3
"""An independent, minimal OpenStack REST client (Python stdlib) for the
tests: it asks the lab's real services what ferry did.

  os-api.py [--admin] METHOD SERVICE PATH [JSON-BODY]
     SERVICE: identity, compute, volumev3, network, image
     prints the JSON answer; exit 1 on an HTTP error (status on stderr)
Credentials and endpoints come from $FERRY_LAB_DIR/openstack/lab.json."""
import json, os, sys, urllib.request, urllib.error

lab = json.load(open(os.path.join(os.environ.get("FERRY_LAB_DIR", "/var/lib/ferry-lab"),
                                  "openstack", "lab.json")))
args = sys.argv[1:]
admin = False
if args and args[0] == "--admin":
    admin, args = True, args[1:]
method, service, path = args[0], args[1], args[2]
body = args[3] if len(args) > 3 else None

user = lab["admin"] if admin else {"name": lab["user"]["name"], "password": lab["user"]["password"]}
project = {"name": lab["admin"]["project"] if admin else lab["project"]["name"],
           "domain": {"name": "Default"}}
auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": user["name"], "password": user["password"], "domain": {"name": "Default"}}}},
    "scope": {"project": project}}}
req = urllib.request.Request(lab["auth_url"] + "/auth/tokens", data=json.dumps(auth).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req) as r:
    token = r.headers["X-Subject-Token"]
    catalog = json.load(r)["token"]["catalog"]

url = None
for svc in catalog:
    if svc["type"] == service:
        for ep in svc["endpoints"]:
            if ep["interface"] == "public":
                url = ep["url"]
if url is None:
    sys.exit(f"os-api: no {service} endpoint")
if service == "network" and not url.rstrip("/").endswith("v2.0"):
    url = url.rstrip("/") + "/v2.0"
headers = {"X-Auth-Token": token, "Content-Type": "application/json",
           "X-OpenStack-Nova-API-Version": "2.67", "OpenStack-API-Version": "volume 3.59"}
req = urllib.request.Request(url.rstrip("/") + path, method=method,
                             data=body.encode() if body else None, headers=headers)
try:
    with urllib.request.urlopen(req) as r:
        data = r.read()
        print(json.dumps(json.loads(data)) if data else "{}")
except urllib.error.HTTPError as e:
    print(f"os-api: {method} {path}: HTTP {e.code}: {e.read()[:500]!r}", file=sys.stderr)
    sys.exit(1)
