#!/bin/sh
# ferry check with a wrong OpenStack password: a failing os-auth row, the
# Keystone error, exit 1, and the password shown nowhere.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

sed 's/^\(    password: \).*/\1"Not-The-Password-77"/' "$FERRY_LAB_SECRETS" >"$TMP/secrets.yml"
grep -q Not-The-Password-77 "$TMP/secrets.yml" || fail "could not make the bad secrets file"
run_ferry 1 check -e @"$TMP/secrets.yml" -e @"$FERRY_LAB_VARS" --vm lab-linux-1disk
expect_in "$TMP/out" "^fail +os-auth +http://127.0.0.1:5000/v3 +cannot authenticate"
expect_in "$TMP/err" "Keystone authentication: POST .*HTTP 401"
expect_not_in "$TMP/out" "Not-The-Password-77"
expect_not_in "$TMP/err" "Not-The-Password-77"
exit 0
