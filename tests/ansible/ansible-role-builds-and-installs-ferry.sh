#!/bin/sh
# The conversion_host role installs ferry on a conversion host the way the
# migration playbook does when ferry_install is true: runtime packages with
# apt, then (no ferry_package) the sources copied from the controller, built
# with meson in release mode and installed under ferry_prefix.  Here the
# host is this machine, with a private build directory and prefix: the
# installed ferry runs and reports the version of the tree under test; a
# second run installs nothing again (the sources did not change).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/ansible/functions-ansible.sh"
setup_collection
cat > "$TMP/inventory.yml" <<INV
conversion_host:
  hosts:
    conv-a:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
      ferry_source_dir: $FERRY_SRCDIR
      ferry_build_dir: $TMP/build-dir
      ferry_prefix: $TMP/prefix
INV
run_role run1
[ -x "$TMP/prefix/bin/ferry" ] || { cat "$TMP/run1"; fail "no ferry installed under ferry_prefix"; }
want=$("$FERRY" --version)
got=$("$TMP/prefix/bin/ferry" --version) || fail "the installed ferry does not run"
[ "$got" = "$want" ] || fail "installed '$got', the tree under test is '$want'"
expect_in "$TMP/run1" "conv-a: $want"
# Release build, no tests, from the copied sources only.
jq -e '.[] | select(.name == "buildtype") | .value == "release"' \
    "$TMP/build-dir/build/meson-info/intro-buildoptions.json" > /dev/null ||
    fail "the role's build is not a release build"
[ ! -e "$TMP/build-dir/tests" ] || fail "the role copied the tests to the conversion host"
run_role run2
grep -Eq "conv-a +: ok=[0-9]+ +changed=0 " "$TMP/run2" || { cat "$TMP/run2"; fail "a second run changed something"; }
echo "ok: the role built and installed ferry ($got); a rerun changed nothing"
