#!/bin/sh
# Keystone revokes ferry's tokens while `ferry migrate` copies the disks into
# Cinder volumes: ferry's next OpenStack call gets HTTP 401, it
# authenticates again and the migration finishes, volumes equal to the
# source disks.
#
# How the token is revoked, as an operator would: the admin sets the user's
# password (to the same value) with PATCH /v3/users/{id}.  In Keystone
# (keystone/identity/core.py, update_user), a password in the update
# persists a revocation event for the user (revoke_api.revoke_by_user):
# every token issued to the user until then is refused.  The user is one
# made for this test (member and reader of the lab project, like `ferry`),
# so other tests' tokens are untouched.  The revocation comes when the lab
# sees lab-small-06's disk being read; the lab's download cap makes the copy
# last long enough.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VM=lab-small-06
VCSIM_LAB="$FERRY_SRCDIR/lab/vcsim/vcsim-lab"
ACCESS=$FERRY_LAB_DIR/vcsim/datastore-access.log
clean_vm $VM

# The test's user.
U=ferry-revoke-$$
PW=Rv-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
PID=$(jq -r .project.id "$FERRY_LAB_DIR/openstack/lab.json")
"$OSAPI" --admin POST identity /users \
    "{\"user\": {\"name\": \"$U\", \"password\": \"$PW\", \"domain_id\": \"default\", \"default_project_id\": \"$PID\"}}" \
    > "$TMP/user.json" || fail "cannot create the test user"
UID_=$(jq -r .user.id "$TMP/user.json")
drop_user () { "$OSAPI" --admin DELETE identity "/users/$UID_" > /dev/null || :; }
on_exit drop_user
for role in member reader; do
    rid=$("$OSAPI" --admin GET identity "/roles?name=$role" | jq -r '.roles[0].id')
    "$OSAPI" --admin PUT identity "/projects/$PID/users/$UID_/roles/$rid" > /dev/null ||
        fail "cannot give $U the role $role"
done
# Key pairs are per user in Nova: the lab's key pair, for the test user too.
pub=$("$OSAPI" GET compute /os-keypairs/ferry-lab-key | jq -r .keypair.public_key)
"$OSAPI" --admin POST compute /os-keypairs \
    "{\"keypair\": {\"name\": \"ferry-lab-key\", \"public_key\": \"$pub\", \"user_id\": \"$UID_\"}}" \
    > /dev/null || fail "cannot give $U the lab's key pair"
# The lab's secrets with the test user as dst_cloud's.
(umask 077 && sed -e "s/^    username: .*/    username: $U/" -e "s/^    password: .*/    password: $PW/" \
    "$FERRY_LAB_SECRETS" > "$TMP/secrets.yml")
grep -q "username: $U" "$TMP/secrets.yml" || fail "no dst_cloud username in $FERRY_LAB_SECRETS"

throttle_off () { "$VCSIM_LAB" throttle off 2>/dev/null || :; }
on_exit throttle_off
stop_watcher () { [ -z "${watcher:-}" ] || kill "$watcher" 2>/dev/null || :; }
on_exit stop_watcher

start=$(stat -c %s "$ACCESS" 2>/dev/null || echo 0)
printf '%s' "$PW" > "$TMP/pw"
# The admin: when the VM's disk is being read, revoke the user's tokens and
# check that a token issued before is refused.
/usr/bin/python3 - "$ACCESS" "$start" "$VM" "$UID_" "$U" "$TMP/pw" > "$TMP/admin.out" 2>&1 <<'PY' &
import json, os, sys, time, urllib.request, urllib.error

access, start, vm, uid, uname, pwfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
pw = open(pwfile).read()
lab = json.load(open(os.path.join(os.environ["FERRY_LAB_DIR"], "openstack", "lab.json")))
ks = lab["auth_url"]

def token(name, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "password": password, "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    req = urllib.request.Request(ks + "/auth/tokens", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return r.headers["X-Subject-Token"]

def reading():
    try:
        with open(access, "rb") as f:
            f.seek(start)
            return [l for l in f.read().decode().splitlines()
                    if ("/%s/" % vm) in l and l.endswith("-flat.vmdk")]
    except FileNotFoundError:
        return []

end = time.time() + 120
while not reading():
    if time.time() > end:
        print("timeout waiting for a read of %s's disks" % vm)
        sys.exit(1)
    time.sleep(0.05)
time.sleep(0.5)                       # well into the copy
before = token(uname, pw, lab["project"]["name"])
admin = token(lab["admin"]["name"], lab["admin"]["password"], lab["admin"]["project"])
cinder = lab["endpoints"]["volumev3"].replace("%(project_id)s", lab["project"]["id"])

def cinder_accepts(tok):
    try:
        urllib.request.urlopen(urllib.request.Request(cinder + "/volumes?limit=1",
                                                      headers={"X-Auth-Token": tok})).read()
        return True
    except urllib.error.HTTPError as e:
        if e.code != 401:
            raise
        return False

cinder_accepts(before)                # now validated, and cached, by Cinder
time.sleep(1.1)                       # a second after `before` was issued
req = urllib.request.Request(ks + "/users/" + uid, method="PATCH",
                             data=json.dumps({"user": {"password": pw}}).encode(),
                             headers={"Content-Type": "application/json", "X-Auth-Token": admin})
urllib.request.urlopen(req).read()
print("revoked the tokens of %s while %s's disks were read" % (uname, vm))
req = urllib.request.Request(ks + "/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": before})
try:
    urllib.request.urlopen(req).read()
    print("a token issued before the revocation is still valid")
    sys.exit(1)
except urllib.error.HTTPError as e:
    print("a token issued before the revocation: HTTP %d" % e.code)
# keystonemiddleware keeps the tokens a service validated for token_cache_time
# (300 s by default): until then such a service takes a revoked token.
print("services cache validated tokens: %s" % ("yes" if cinder_accepts(before) else "no"))
PY
watcher=$!

"$VCSIM_LAB" throttle per-disk=24 2>/dev/null
run_ferry 0 migrate -e @"$TMP/secrets.yml" -e @"$FERRY_LAB_VARS" -e disk_source=https \
    -e skip_conversion=true --vm $VM
throttle_off
wait "$watcher" || { cat "$TMP/admin.out" "$TMP/err"; fail "the tokens were not revoked mid-copy"; }
watcher=
cat "$TMP/admin.out"
expect_in "$TMP/admin.out" "revoked the tokens of"
expect_in "$TMP/admin.out" "before the revocation: HTTP 404"
# The lab's services check every token with Keystone (os-lab sets
# token_cache_time = -1): the revoked token is refused at once.
expect_in "$TMP/admin.out" "services cache validated tokens: no"
expect_in "$TMP/err" "token was refused .*authenticating again"
expect_not_in "$TMP/err" "$PW"
[ "$(jq -r .phase "$(state_of $VM)")" = done ] || fail "phase $(jq -r .phase "$(state_of $VM)")"
volumes_match_flat $VM "after the token was revoked mid-copy"
clean_vm $VM
exit 0
