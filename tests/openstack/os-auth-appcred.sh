#!/bin/sh
# An application credential, made through the Identity API with the user's
# own token, authenticates by id and by name (with the user); its secret is
# never shown in debug output; the credential is deleted at the end.
. "$FERRY_SRCDIR/tests/functions.sh"
. "$FERRY_SRCDIR/tests/openstack/os-functions.sh"

os_tool 0 auth
uid=$(jq -r .user_id "$TMP/out")
name=ferry-test-ac-$$
os_tool 0 request POST identity "/users/$uid/application_credentials" \
    "{\"application_credential\": {\"name\": \"$name\", \"description\": \"ferry test\"}}"
id=$(jq -er .application_credential.id "$TMP/out")
secret=$(jq -er .application_credential.secret "$TMP/out")
delete_ac () { "$OS_TOOL" request DELETE identity "/users/$uid/application_credentials/$id" >/dev/null 2>&1; }
on_exit delete_ac

url=$(lj .auth_url)
jq -n --arg u "$url" --arg i "$id" --arg s "$secret" \
    '{dst_cloud: {auth_type: "v3applicationcredential", auth: {auth_url: $u,
      application_credential_id: $i, application_credential_secret: $s},
      region_name: "RegionOne"}}' >"$TMP/ac-id.json"
os_tool 0 --debug -e @"$TMP/ac-id.json" auth
[ "$(jq -r .project_id "$TMP/out")" = "$PROJECT_ID" ] || fail "app cred token not scoped to the project"
expect_not_in "$TMP/err" "$secret"
os_tool 0 -e @"$TMP/ac-id.json" request GET volume /types

# by name, with the user's name and domain (auth_type guessed from the secret)
jq -n --arg u "$url" --arg n "$name" --arg s "$secret" --arg un "$(lj .user.name)" \
    '{dst_cloud: {auth: {auth_url: $u, application_credential_name: $n,
      application_credential_secret: $s, username: $un, user_domain_name: "Default"}}}' \
    >"$TMP/ac-name.json"
os_tool 0 -e @"$TMP/ac-name.json" auth
[ "$(jq -r .project_id "$TMP/out")" = "$PROJECT_ID" ] || fail "app cred by name: wrong project"

# a wrong secret is refused clearly
jq '.dst_cloud.auth.application_credential_secret = "not-the-secret"' "$TMP/ac-id.json" >"$TMP/bad.json"
os_tool 4 -e @"$TMP/bad.json" auth
expect_in "$TMP/err" "Keystone authentication: .*HTTP 401"
exit 0
