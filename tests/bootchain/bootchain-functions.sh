# Helpers for the boot-chain tests: the variants of the lab guest
# (make-variants, built once and cached beside the lab image), a private
# overlay per test (a fix never touches the cache) and ferry verify-boot
# with its JSON parsed.  Source after tests/functions.sh.

# libguestfs as ferry runs it: the direct backend, TCG where KVM is not
# usable, one appliance for every test (built by supermin once, shared).
export LIBGUESTFS_BACKEND=direct
export LIBGUESTFS_CACHEDIR=${LIBGUESTFS_CACHEDIR:-/var/tmp}
grep -qsE '^flags.*\b(vmx|svm)\b' /proc/cpuinfo ||
    export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
# strict_string_checks trips over a valid strndup inside libguestfs (see the
# file): suppressed for calls made by libguestfs.so only.
# ASAN_OPTIONS (tests/meson.build) names libguestfs.asan.supp for every test.
for t in guestfish qemu-img jq; do
    command -v "$t" > /dev/null || fail "$t is not installed (scripts/install-deps)"
done

VARIANTS=$("$FERRY_SRCDIR/tests/bootchain/make-variants") || fail "building the guest variants failed"

# overlay VARIANT: qcow2 overlays of the variant's disks in $TMP, in disk
# order, in $DISKS.
overlay () {
    DISKS=
    for d in "$VARIANTS/$1"/disk*.qcow2; do
        o=$TMP/$1-$(basename "$d")
        qemu-img create -q -f qcow2 -F qcow2 -b "$d" "$o" > /dev/null || fail "qemu-img create $o"
        DISKS="$DISKS $o"
    done
    [ -n "$DISKS" ] || fail "variant $1 has no disks in $VARIANTS"
}

# verify EXPECTED_EXIT [--fix] ...: ferry verify-boot on $DISKS, JSON in
# $TMP/out (copied to $TMP/$NAME.json when NAME is set), libguestfs's log
# in $TMP/guestfs.log (shown on failure).
verify () {
    want=$1; shift
    t0=$(date +%s)
    # shellcheck disable=SC2086 # one word per disk
    if ! (run_ferry "$want" verify-boot --disk-format qcow2 --format json \
              --log "$TMP/guestfs.log" "$@" $DISKS); then
        tail -n 40 "$TMP/guestfs.log" 2>/dev/null
        exit 1
    fi
    echo "verify-boot $* (exit $want): $(( $(date +%s) - t0 )) s"
    grep -E "initramfs rebuilt in|refused:" "$TMP/err" || :
}

# ref FILE LINE KEY: the JSON object of that reference (jq -e fails if none).
ref () {
    jq -ce --arg f "$1" --argjson l "$2" --arg k "$3" \
        '[.references[] | select(.file == $f and .line == $l and .key == $k)] | first // empty' \
        "$TMP/out" || { cat "$TMP/out"; fail "no reference $3 at $1:$2"; }
}

# expect_ref FILE LINE KEY STATE DEVICE [REPLACEMENT]
expect_ref () {
    r=$(ref "$1" "$2" "$3")
    [ -n "$r" ] || { cat "$TMP/out"; fail "no reference $3 at $1:$2"; }
    got=$(printf '%s' "$r" | jq -r '[.state, .device, (.replacement // "-")] | join(" ")')
    exp="$4 $5 ${6:--}"
    [ "$got" = "$exp" ] || { cat "$TMP/out"; fail "$1:$2 $3: got '$got', expected '$exp'"; }
}

# expect_json JQ-EXPRESSION: true on $TMP/out.
expect_json () {
    jq -e "$1" "$TMP/out" > /dev/null || { cat "$TMP/out"; fail "not true: $1"; }
}
