#!/bin/sh
# libFuzzer on each of ferry's parsers of outside input for a short while:
# FERRY_FUZZ_SECONDS per target (default 5; all 11 targets then take about
# 60 s on two cores, building included), from the seed corpora kept
# in the tree (tests/fuzz/corpus/<target>, tests/data/soap), under ASan and
# UBSan, leaks included.  FERRY_FUZZ_TARGETS restricts the run to some
# targets ("config vmdk").  FERRY_FUZZ_JOBS: targets fuzzed at once
# (default: the number of CPUs).  FERRY_FUZZ_KEEP=DIR: keep the built
# fuzzers there (to run one longer by hand, see README.md).  A crash
# fails the test with the fuzzer's report; the input is kept under
# $FERRY_BUILDDIR/fuzz-artifacts.
#
# The ferry sources the targets need are built once with clang's fuzzer
# instrumentation into an archive; each target links what it uses from
# it.  Needs clang and libclang-rt-14-dev (scripts/install-deps).
. "$FERRY_SRCDIR/tests/functions.sh"
S=$FERRY_SRCDIR
F=$S/tests/fuzz
command -v clang >/dev/null || fail "clang not installed: run scripts/install-deps"

ALL_TARGETS="soap config args-json clouds checkpoint extents vmdk keystone nova cinder neutron"
TARGETS=${FERRY_FUZZ_TARGETS:-$ALL_TARGETS}
SECONDS_EACH=${FERRY_FUZZ_SECONDS:-5}
JOBS=${FERRY_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
ART=${FERRY_BUILDDIR:-$TMP}/fuzz-artifacts
PKGS="libxml-2.0 jansson yaml-0.1 libcurl zlib openssl libnbd"

# Every source of the parsers' directories, so that a function moving to
# a new file there needs no change here; the archive gives each target only
# what it uses.
SOURCES=$(cd "$S/src" && ls common/*.c config/*.c copy/*.c openstack/*.c vsphere/xml.c)

max_len () {
    case $1 in
    soap) echo 65536 ;;
    keystone | nova | cinder | neutron) echo 16384 ;;
    *) echo 8192 ;;
    esac
}
corpus_of () {
    case $1 in
    soap) echo "$S/tests/data/soap" ;;
    *) echo "$F/corpus/$1" ;;
    esac
}

# What meson.build adds to every compilation (-D_GNU_SOURCE, FERRY_VERSION).
mkdir -p "$TMP/obj" "$ART"
version=$(sed -n "s/^ *version *: *'\(.*\)',.*/\1/p" "$S/meson.build" | head -n 1)
printf '#define FERRY_VERSION "%s-fuzz"\n' "$version" > "$TMP/defs.h"
CFLAGS="-g -O1 -std=c17 -D_GNU_SOURCE -include $TMP/defs.h -DFUZZING_ENGINE
 -fno-sanitize-recover=all -I$S/src -I$F $(pkg-config --cflags $PKGS)"

# Build: every ferry source once (in parallel), then one link per target.
# common/util.c without coverage: its edit distance (typo suggestions for
# unknown keys) would otherwise take most of the config targets' time.
cat > "$TMP/cc-one.sh" <<EOF
o=\$(echo "\$1" | tr / -)
o="$TMP/obj/\${o%.c}.o"
san=fuzzer-no-link,address,undefined
[ "\$1" = common/util.c ] && san=address,undefined
clang $(echo $CFLAGS) -fsanitize=\$san -c "$S/src/\$1" \
    -o "\$o" 2>"\$o.log" || { cat "\$o.log" >&2; exit 1; }
EOF
for src in $SOURCES; do echo "$src"; done | xargs -P "$JOBS" -n1 sh "$TMP/cc-one.sh" ||
    fail "cannot build the ferry sources for the fuzzers"
ar rcs "$TMP/libferry-fuzz.a" "$TMP"/obj/*.o
for t in $TARGETS; do
    extra=""
    case $t in
    keystone | nova | cinder | neutron) extra="$F/fake-http.c -Wl,--wrap=sleep_ms" ;;
    esac
    [ -f "$F/fuzz-$t.c" ] || fail "no target $t (tests/fuzz/fuzz-$t.c)"
    # shellcheck disable=SC2086
    clang $CFLAGS -fsanitize=fuzzer,address,undefined "$F/fuzz-$t.c" $extra \
        "$TMP/libferry-fuzz.a" $(pkg-config --libs $PKGS) -lpthread -o "$TMP/fuzz-$t" \
        2>"$TMP/link-$t.log" || { cat "$TMP/link-$t.log"; fail "cannot build fuzz-$t"; }
    [ -z "${FERRY_FUZZ_KEEP:-}" ] || { mkdir -p "$FERRY_FUZZ_KEEP"; cp "$TMP/fuzz-$t" "$FERRY_FUZZ_KEEP/"; }
done

# Run: each target from a copy of its corpus (libFuzzer adds to it), at
# most JOBS at a time.
cat > "$TMP/run-one.sh" <<EOF
t=\$1
mkdir -p "$TMP/corpus-\$t"
cp "\$2"/* "$TMP/corpus-\$t/"
TMPDIR="$TMP" ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=1 \\
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
"$TMP/fuzz-\$t" -max_total_time=$SECONDS_EACH -max_len=\$3 -timeout=10 -rss_limit_mb=2048 \
    -close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$ART/\$t-" \
    "$TMP/corpus-\$t" > "$TMP/log-\$t" 2>&1
EOF
for t in $TARGETS; do echo "$t $(corpus_of "$t") $(max_len "$t")"; done |
    xargs -P "$JOBS" -L1 sh "$TMP/run-one.sh" || :

failed=""
for t in $TARGETS; do
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$TMP/log-$t")
    if [ -z "$runs" ]; then
        echo "=== fuzz-$t: CRASH or failure"
        grep -v '^#[0-9]' "$TMP/log-$t" | tail -60
        for a in "$ART/$t"-*; do
            [ -f "$a" ] || continue
            echo "--- input $a ($(wc -c < "$a") bytes):"
            head -c 2048 "$a" | od -c | head -40
        done
        failed="$failed $t"
    else
        echo "fuzz-$t: $runs runs in ${SECONDS_EACH}s ($(ls "$TMP/corpus-$t" | wc -l) inputs in corpus)"
    fi
done
[ -z "$failed" ] || fail "the fuzzer found a problem in:$failed (reproduce: the replay program or the libFuzzer binary on the input above)"
