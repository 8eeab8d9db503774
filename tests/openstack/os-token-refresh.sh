#!/bin/sh
# The token is renewed when Keystone refuses it (the admin revokes it with
# DELETE /v3/auth/tokens: the next call gets a 401, authenticates again
# once and succeeds) and before it expires.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

os_tool 0 revoke-then-call "$(lj .admin_cloud)"
[ "$(jq .revoke_status "$TMP/out")" = 204 ] || fail "the admin could not revoke the token"
[ "$(jq .call_ok "$TMP/out")" = true ] || fail "the call after the revocation failed"
[ "$(jq .auth_count_after "$TMP/out")" = 2 ] || fail "no re-authentication after the 401"
expect_in "$TMP/err" "token was refused .*authenticating again"

os_tool 0 renew-before-expiry
[ "$(jq .auth_count_after "$TMP/out")" = 2 ] || fail "a token about to expire was not renewed"
[ "$(jq .expiry_moved "$TMP/out")" = true ] || fail "the new token's expiry was not read"
exit 0
