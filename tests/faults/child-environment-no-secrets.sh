#!/bin/sh
# Children (virt-v2v, guestfish, nbdkit, qemu-nbd) never inherit ferry's
# credentials through the environment: OS_PASSWORD, OS_TOKEN and
# OS_APPLICATION_CREDENTIAL_SECRET are set for ferry, and the child
# `ferry check` starts (virt-v2v-in-place --version and guestfish, seen through a wrapper
# first in PATH that records its environment and runs the real program)
# has none of them, but keeps what the tools need (PATH, LIBGUESTFS_*).
. "$FERRY_SRCDIR/tests/functions.sh"
command -v virt-v2v-in-place >/dev/null || { echo "SKIP: virt-v2v-in-place not installed"; exit 77; }
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"
start_vcenter no-view-manager

real=$(command -v virt-v2v-in-place)
mkdir "$TMP/bin"
cat > "$TMP/bin/virt-v2v-in-place" <<EOS
#!/bin/sh
env > "$TMP/child-env.txt"
exec "$real" "\$@"
EOS
# guestfish (the appliance check): its environment recorded, then a quick
# failure instead of a minutes-long appliance launch under TCG.
cat > "$TMP/bin/guestfish" <<EOS
#!/bin/sh
env > "$TMP/child-env-guestfish.txt"
exit 1
EOS
chmod +x "$TMP/bin/virt-v2v-in-place" "$TMP/bin/guestfish"

PATH="$TMP/bin:$PATH" OS_PASSWORD=os-secret-1 OS_TOKEN=os-secret-2 \
    OS_APPLICATION_CREDENTIAL_SECRET=os-secret-3 LIBGUESTFS_BACKEND_SETTINGS=force_tcg \
    run_ferry 1 check -e @"$TMP/secrets.yml" --vm any-vm
[ -s "$TMP/child-env.txt" ] || fail "virt-v2v-in-place was not started by ferry check"
expect_not_in "$TMP/child-env.txt" "os-secret-|hostile-test-password|^OS_"
expect_in "$TMP/child-env.txt" "^LIBGUESTFS_BACKEND_SETTINGS=force_tcg$"
expect_in "$TMP/child-env.txt" "^PATH=$TMP/bin:"
[ -s "$TMP/child-env-guestfish.txt" ] || fail "guestfish was not started by ferry check"
expect_not_in "$TMP/child-env-guestfish.txt" "os-secret-|hostile-test-password|^OS_"
