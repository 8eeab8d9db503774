#!/bin/sh
# vCenter ends ferry's session while `ferry migrate` reads the disks over
# datastore HTTPS (an administrator's SessionManager.TerminateSession on the
# session's key, as found in SessionManager.sessionList): the reads get HTTP
# 401, ferry logs in again once through its SOAP layer, the copy goes on with
# the new session, and the migration finishes with volumes equal to the
# source disks.
#
# The session to end is the one the lab saw reading lab-small-04's flat file
# (<lab>/vcsim/datastore-access.log); the lab's download cap (throttle) makes
# the copy last long enough to end it midway, and is lifted as soon as the
# new session reads.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/migrate/functions-migrate.sh"
need_lab
VM=lab-small-04
VCSIM_LAB="$FERRY_SRCDIR/lab/vcsim/vcsim-lab"
ACCESS=$FERRY_LAB_DIR/vcsim/datastore-access.log
clean_vm $VM

throttle_off () { "$VCSIM_LAB" throttle off 2>/dev/null || :; }
on_exit throttle_off
stop_watcher () { [ -z "${watcher:-}" ] || kill "$watcher" 2>/dev/null || :; }
on_exit stop_watcher

start=$(stat -c %s "$ACCESS" 2>/dev/null || echo 0)
# The administrator: wait until a session reads the VM's flat file, end it,
# wait until another session reads the same file, lift the cap.
PYTHONPATH="$FERRY_SRCDIR/lab/vcsim" /usr/bin/python3 - "$ACCESS" "$start" "$VM" "$TMP/key" \
    > "$TMP/admin.out" 2>&1 <<'PY' &
import sys, time
import labsoap

access, start, vm = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def readers(after):
    """(key, path) of flat-file reads of vm logged after offset `after`."""
    try:
        with open(access, "rb") as f:
            f.seek(after)
            lines = f.read().decode().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for l in lines:
        p = l.split()
        if len(p) == 4 and not p[1].startswith("basic:") and ("/%s/" % vm) in p[3] \
                and p[3].endswith("-flat.vmdk"):
            out.append((p[1], p[3]))
    return out

def wait(cond, what, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        r = cond()
        if r:
            return r
        time.sleep(0.05)
    print("timeout waiting for " + what)
    sys.exit(1)

first = wait(lambda: readers(start), "a read of %s's disks" % vm)[0]
time.sleep(0.5)                       # well into the copy
lab = labsoap.load()
admin = labsoap.Client(lab)
admin.login(lab["user"], lab["password"])
sm = admin.service_content().findtext("v:sessionManager", namespaces=labsoap.N)
keys = [s.findtext("v:key", namespaces=labsoap.N)
        for s in admin.prop("SessionManager", sm, "sessionList").findall("v:UserSession", namespaces=labsoap.N)]
if first[0] not in keys:
    print("the reading session is not in SessionManager.sessionList")
    sys.exit(1)
admin.call("TerminateSession", "SessionManager", sm, "<sessionId>%s</sessionId>" % first[0])
print("terminated the session reading %s" % first[1])
with open(sys.argv[4], "w") as f:
    f.write(first[0])
after = wait(lambda: [r for r in readers(start) if r[0] != first[0] and r[1] == first[1]],
             "a read of the same file with a new session")
print("a new session reads %s" % after[0][1])
admin.call("Logout", "SessionManager", sm)
PY
watcher=$!

"$VCSIM_LAB" throttle per-disk=24 2>/dev/null
# shellcheck disable=SC2046
run_ferry 0 migrate $(E_LAB) -e disk_source=https -e skip_conversion=true --vm $VM
throttle_off
wait "$watcher" || { cat "$TMP/admin.out" "$TMP/err"; fail "the session was not ended mid-copy"; }
watcher=
cat "$TMP/admin.out"
expect_in "$TMP/admin.out" "terminated the session reading"
expect_in "$TMP/admin.out" "a new session reads"
expect_in "$TMP/err" "refused the session of the datastore reads .*logging in again"
expect_in "$TMP/err" "logged in again; the datastore reads go on"
[ "$(jq -r .phase "$(state_of $VM)")" = done ] || fail "phase $(jq -r .phase "$(state_of $VM)")"
volumes_match_flat $VM "after the session was ended mid-copy"
# No session key in ferry's output or its logs (the ended one, the new one).
key=$(cat "$TMP/key")
new_key=$(tail -c +$((start + 1)) "$ACCESS" |
    awk -v k="$key" -v vm="/$VM/" '$2 != k && index($4, vm) && $4 ~ /-flat.vmdk$/ { print $2; exit }')
[ -n "$new_key" ] || fail "no new session read the disks"
for k in "$key" $new_key; do
    ! grep -rqF -- "$k" "$TMP/err" "$TMP/out" "$(dirname "$(state_of $VM)")" ||
        fail "a vCenter session key appears in ferry's output or logs"
done
clean_vm $VM
exit 0
