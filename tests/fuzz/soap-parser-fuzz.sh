#!/bin/sh
# libFuzzer on the SOAP answer parser for a short while (FERRY_FUZZ_SECONDS,
# default 20), from the seed corpus of real simulator answers.  Needs clang
# and libclang-rt-14-dev (scripts/install-deps installs them).
. "$FERRY_SRCDIR/tests/functions.sh"
S=$FERRY_SRCDIR
command -v clang >/dev/null || fail "clang not installed: run scripts/install-deps"
clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZING_ENGINE -D_GNU_SOURCE -std=c17 \
    -I"$S/src" $(pkg-config --cflags libxml-2.0 jansson) \
    "$S/tests/fuzz/fuzz-soap.c" "$S/src/vsphere/xml.c" "$S/src/common/util.c" \
    "$S/src/common/cleanup.c" \
    $(pkg-config --libs libxml-2.0 jansson) -o "$TMP/fuzz-soap" ||
    fail "cannot build the fuzzer"
mkdir "$TMP/corpus"
cp "$S"/tests/data/soap/*.xml "$TMP/corpus/"
ASAN_OPTIONS=detect_leaks=1 "$TMP/fuzz-soap" -max_total_time="${FERRY_FUZZ_SECONDS:-20}" \
    -max_len=65536 -timeout=10 -rss_limit_mb=1024 "$TMP/corpus" > "$TMP/log" 2>&1 || {
    tail -40 "$TMP/log"; fail "the fuzzer found a crash (see above)"; }
grep -E "Done [0-9]+ runs" "$TMP/log" || { tail -5 "$TMP/log"; fail "fuzzer did not finish"; }
