#!/bin/sh
# The conversion_host role installs ferry from a Debian package when
# ferry_package is set: scripts/build-deb makes the .deb from this tree
# (Debian's dpkg-buildpackage), the role copies it to the host and installs
# it with apt.  Here the host is this machine: afterwards dpkg knows ferry
# at the tree's version, every file verifies, /usr/bin/ferry runs and is
# the tree's version; a second run changes nothing; a package rebuilt
# under the same version (here: a changed README) is installed over the
# old one, never left stale; the package is purged at the end.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/ansible/functions-ansible.sh"
command -v dh >/dev/null || { echo "SKIP: debhelper not installed (scripts/install-deps)"; exit 77; }
[ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null ||
    { echo "SKIP: installs a package: needs root or passwordless sudo"; exit 77; }
if dpkg-query -W -f '${Status}' ferry 2>/dev/null | grep -q 'ok installed'; then
    echo "SKIP: a ferry package is installed on this machine; this test would replace it"
    exit 77
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
purge () { $SUDO dpkg --purge ferry > /dev/null 2>&1; }
on_exit purge
setup_collection

deb1=$("$FERRY_SRCDIR/scripts/build-deb" "$TMP/deb1" | tail -n 1) || fail "scripts/build-deb failed"
want=$("$FERRY" --version)
version=$(dpkg-deb -f "$deb1" Version)
[ "ferry $version" = "$want" ] || fail "the package is at $version, the tree under test is '$want'"
# Debian computed the libraries' dependencies; the tools ferry runs are there.
deps=$(dpkg-deb -f "$deb1" Depends)
for d in libnbd0 libcurl4 libjansson4 libxml2 libyaml-0-2 nbdkit libnbd-bin qemu-utils; do
    echo "$deps" | grep -Eq "(^|, )$d( |,|$)" || fail "the package does not depend on $d: $deps"
done

cat > "$TMP/inventory.yml" <<INV
conversion_host:
  hosts:
    conv-a:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
      ferry_package_dir: $TMP/pkgcache
INV
changed () { sed -n 's/^conv-a *: ok=[0-9]* *changed=\([0-9]*\) .*/\1/p' "$TMP/$1"; }
installed_ok () {
    st=$(dpkg-query -W -f '${Status} ${Version}' ferry 2>/dev/null) || st="not installed"
    [ "$st" = "install ok installed $version" ] || { cat "$TMP/$1"; fail "after $1, dpkg says ferry: $st"; }
    $SUDO dpkg --verify ferry > "$TMP/verify" 2>&1 || { cat "$TMP/verify"; fail "after $1, ferry's files do not verify"; }
    [ ! -s "$TMP/verify" ] || { cat "$TMP/verify"; fail "after $1, ferry's files differ from the package"; }
    got=$(/usr/bin/ferry --version) || fail "after $1, /usr/bin/ferry does not run"
    [ "$got" = "$want" ] || fail "after $1, /usr/bin/ferry is '$got', the tree under test is '$want'"
    expect_in "$TMP/$1" "conv-a: $want"
}

run_role run1 -e "ferry_package=$deb1"
installed_ok run1
[ "$(changed run1)" -ge 1 ] || { cat "$TMP/run1"; fail "the first run installed nothing"; }

run_role run2 -e "ferry_package=$deb1"
installed_ok run2
[ "$(changed run2)" = 0 ] || { cat "$TMP/run2"; fail "a second run with the same package changed something"; }

# The same version rebuilt from a changed tree: a different package file.
mkdir "$TMP/tree"
(cd "$FERRY_SRCDIR" && cp -R meson.build meson_options.txt src plugins debian README.md docs scripts "$TMP/tree/")
echo "rebuilt by $TEST_NAME" >> "$TMP/tree/README.md"
deb2=$("$TMP/tree/scripts/build-deb" "$TMP/deb2" | tail -n 1) || fail "scripts/build-deb (rebuild) failed"
[ "$(dpkg-deb -f "$deb2" Version)" = "$version" ] || fail "the rebuild has another version"
! cmp -s "$deb1" "$deb2" || fail "the rebuilt package is the same file"
run_role run3 -e "ferry_package=$deb2"
installed_ok run3
# Ansible prints the task's header even when it skips it: its result.
awk '/^TASK \[ferry.vmware.conversion_host : Reinstall a rebuilt package/ { t = 1; next }
     t && NF { print; exit }' "$TMP/run3" | grep -q '^changed: \[conv-a\]' ||
    { cat "$TMP/run3"; fail "the role did not reinstall the rebuilt package"; }
zcat /usr/share/doc/ferry/README.md.gz | grep -q "rebuilt by $TEST_NAME" ||
    fail "the rebuilt package of the same version was not installed: the old one stayed"
run_role run4 -e "ferry_package=$deb2"
[ "$(changed run4)" = 0 ] || { cat "$TMP/run4"; fail "a second run with the rebuilt package changed something"; }
echo "ok: the role installed ferry $version from the .deb (dpkg: installed, files verify); reruns changed nothing; a rebuilt package of the same version replaced the old one"
