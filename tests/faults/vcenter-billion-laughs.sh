#!/bin/sh
# A vCenter answer with a DTD whose entities expand a billion times
# ("billion laughs") is refused as it is parsed: exit 3 naming the call,
# in a moment and little memory (it took 50 s and 2.9 GB before login when
# libxml2's amplification guard was off).
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/faults/hostile-functions.sh"

start_vcenter billion-laughs
run_measured 3 discover -e @"$TMP/secrets.yml" $LIMITS --all --no-write
expect_in "$TMP/err" "RetrieveServiceContent: https://127\.0\.0\.1:$port/sdk answered HTTP 200 with XML with a document type declaration \(<!DOCTYPE>\), which SOAP forbids"
expect_bounded 20 300
