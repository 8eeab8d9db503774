#!/bin/bash
# Lab: Keystone password auth as the migration user, catalog, wrong password.
. lab/openstack/testlib.sh

login_ferry
[ -n "$TOKEN" ] || fail "no X-Subject-Token in the auth response"
pid=$(jq -r .token.project.id "$CATALOG")
[ "$pid" = "$(lj .project.id)" ] || fail "token scoped to project $pid, want $(lj .project.id)"
jq -e '.token.roles | map(.name) | index("member")' "$CATALOG" >/dev/null ||
    fail "token of $(lj .user.name) lacks the member role"
jq -e '.token.roles | map(.name) | index("admin") | not' "$CATALOG" >/dev/null ||
    fail "$(lj .user.name) must not be admin"

for t in identity compute volumev3 network image placement; do
    url=$(endpoint "$t") || fail "catalog has no public $t endpoint in $(lj .region)"
    case $url in
    http://127.0.0.1:*) ;;
    *) fail "$t endpoint $url is not on 127.0.0.1" ;;
    esac
    # every endpoint answers (its version document; volumev3 minus the project id)
    api GET "${url%/"$pid"}/" >/dev/null
    case $(code) in 200 | 300 | 401) ;; *) fail "$t endpoint $url answered HTTP $(code)" ;; esac
done
# the volumev3 URL carries the project id
case $(endpoint volumev3) in */v3/"$pid") ;; *) fail "volumev3 URL $(endpoint volumev3) lacks the project id" ;; esac

# the token validates
API_HEADERS=(-H "X-Subject-Token: $TOKEN")
WHAT="token validation" api GET "$FERRY_LAB_OS_AUTH_URL/auth/tokens" >/dev/null
WHAT="token validation" expect 200
unset API_HEADERS

# wrong password -> 401
os_login "$(lj .user.name)" "wrong-$(lj .user.password)" "$(lj .project.name)"
[ "$AUTH_CODE" = 401 ] || fail "wrong password gave HTTP $AUTH_CODE, want 401"

# clouds.yaml is private and names both clouds
[ "$(stat -c %a "$OS_CLIENT_CONFIG_FILE")" = 600 ] || fail "$OS_CLIENT_CONFIG_FILE is not mode 0600"
[ "$(stat -c %a "$LAB_JSON")" = 600 ] || fail "$LAB_JSON is not mode 0600"
grep -q '^  ferry-lab:' "$OS_CLIENT_CONFIG_FILE" || fail "clouds.yaml lacks cloud ferry-lab"
grep -q '^  ferry-lab-admin:' "$OS_CLIENT_CONFIG_FILE" || fail "clouds.yaml lacks cloud ferry-lab-admin"
[ "$OS_CLOUD" = ferry-lab ] || fail "OS_CLOUD=$OS_CLOUD"
exit 0
