/* ferry: Keystone v3 -- authentication, token lifetime, the catalog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "openstack/internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"

static const char *
auth_str (const json_t *auth, const char *key)
{
  const char *s = json_string_value (json_object_get (auth, key));
  return s && *s ? s : NULL;
}

/* {"name": n, "domain": {...}} or {"id": i} */
static json_t *
domain_ref (const json_t *auth, const char *prefix)
{
  CLEANUP_FREE char *kid = xasprintf ("%s_domain_id", prefix);
  CLEANUP_FREE char *kname = xasprintf ("%s_domain_name", prefix);
  const char *id = auth_str (auth, kid), *name = auth_str (auth, kname);

  if (id)
    return json_pack ("{s:s}", "id", id);
  if (name)
    return json_pack ("{s:s}", "name", name);
  if ((id = auth_str (auth, "domain_id")))
    return json_pack ("{s:s}", "id", id);
  if ((name = auth_str (auth, "domain_name")))
    return json_pack ("{s:s}", "name", name);
  return json_pack ("{s:s}", "id", "default");
}

/* The Keystone request body for the cloud's auth type, or NULL after
 * logging what is missing. */
static json_t *
auth_body (const json_t *cloud)
{
  const json_t *auth = json_object_get (cloud, "auth");
  const char *type = json_string_value (json_object_get (cloud, "auth_type"));
  json_t *identity, *scope = NULL;
  const char *pid = auth_str (auth, "project_id"), *pname = auth_str (auth, "project_name");

  if (type == NULL || *type == '\0')
    type = auth_str (auth, "application_credential_secret") ? "v3applicationcredential"
      : auth_str (auth, "token") && !auth_str (auth, "password") ? "v3token" : "password";

  if (strstr (type, "applicationcredential")) {
    const char *id = auth_str (auth, "application_credential_id");
    const char *name = auth_str (auth, "application_credential_name");
    const char *secret = auth_str (auth, "application_credential_secret");
    json_t *ac;
    if (secret == NULL || (id == NULL && name == NULL)) {
      log_error ("OpenStack: auth_type %s needs application_credential_secret and "
                 "application_credential_id (or _name with username)", type);
      return NULL;
    }
    redact_add_secret (secret);
    ac = json_pack ("{s:s}", "secret", secret);
    if (id)
      json_object_set_new (ac, "id", json_string (id));
    else {
      const char *uid = auth_str (auth, "user_id"), *uname = auth_str (auth, "username");
      if (uid == NULL && uname == NULL) {
        json_decref (ac);
        log_error ("OpenStack: application_credential_name needs username or user_id "
                   "(or use application_credential_id)");
        return NULL;
      }
      json_object_set_new (ac, "name", json_string (name));
      json_object_set_new (ac, "user", uid ? json_pack ("{s:s}", "id", uid)
                           : json_pack ("{s:s, s:o}", "name", uname, "domain",
                                        domain_ref (auth, "user")));
    }
    /* An application credential carries its own project scope. */
    return json_pack ("{s:{s:{s:[s], s:o}}}", "auth", "identity", "methods",
                      "application_credential", "application_credential", ac);
  }

  if (strstr (type, "token") && !strstr (type, "password")) {
    const char *tok = auth_str (auth, "token");
    if (tok == NULL) {
      log_error ("OpenStack: auth_type %s needs auth.token", type);
      return NULL;
    }
    redact_add_secret (tok);
    identity = json_pack ("{s:[s], s:{s:s}}", "methods", "token", "token", "id", tok);
  }
  else if (strcmp (type, "password") == 0 || strcmp (type, "v3password") == 0) {
    const char *uid = auth_str (auth, "user_id"), *uname = auth_str (auth, "username");
    const char *pw = auth_str (auth, "password");
    json_t *user;
    if ((uid == NULL && uname == NULL) || pw == NULL) {
      log_error ("OpenStack: password authentication needs %s%s%s in dst_cloud (or "
                 "clouds.yaml, or OS_* variables)",
                 uid == NULL && uname == NULL ? "auth.username" : "",
                 uid == NULL && uname == NULL && pw == NULL ? " and " : "",
                 pw == NULL ? "auth.password" : "");
      return NULL;
    }
    redact_add_secret (pw);
    user = uid ? json_pack ("{s:s, s:s}", "id", uid, "password", pw)
      : json_pack ("{s:s, s:o, s:s}", "name", uname, "domain", domain_ref (auth, "user"),
                   "password", pw);
    identity = json_pack ("{s:[s], s:{s:o}}", "methods", "password", "password", "user", user);
  }
  else {
    log_error ("OpenStack: auth_type '%s' is not supported: use password, "
               "v3applicationcredential or token", type);
    return NULL;
  }

  if (pid)
    scope = json_pack ("{s:{s:s}}", "project", "id", pid);
  else if (pname)
    scope = json_pack ("{s:{s:s, s:o}}", "project", "name", pname, "domain",
                       domain_ref (auth, "project"));
  else {
    json_decref (identity);
    log_error ("OpenStack: no project: set auth.project_name (with project_domain_name) "
               "or auth.project_id in dst_cloud; ferry needs a project-scoped token");
    return NULL;
  }
  return json_pack ("{s:{s:o, s:o}}", "auth", "identity", identity, "scope", scope);
}

/* "2024-05-01T12:34:56.000000Z" -> time_t, 0 if unreadable. */
static time_t
parse_time (const char *s)
{
  struct tm tm = { 0 };

  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return timegm (&tm);
}

static const char *const *
catalog_types (const char *service)
{
  static const char *const identity[] = { "identity", NULL };
  static const char *const compute[] = { "compute", NULL };
  static const char *const volume[] = { "volumev3", "block-storage", "block-store", NULL };
  static const char *const network[] = { "network", NULL };
  static const char *const image[] = { "image", NULL };

  if (strcmp (service, OS_IDENTITY) == 0) return identity;
  if (strcmp (service, OS_COMPUTE) == 0) return compute;
  if (strcmp (service, OS_VOLUME) == 0) return volume;
  if (strcmp (service, OS_NETWORK) == 0) return network;
  if (strcmp (service, OS_IMAGE) == 0) return image;
  return NULL;
}

/* The URL of a service type in the catalog for region and interface. */
static const char *
catalog_url (const json_t *catalog, const char *type, const char *region,
             const char *interface)
{
  size_t i, k;
  json_t *svc, *ep;

  json_array_foreach (catalog, i, svc) {
    if (!json_is_string (json_object_get (svc, "type"))
        || strcmp (json_string_value (json_object_get (svc, "type")), type))
      continue;
    json_array_foreach (json_object_get (svc, "endpoints"), k, ep) {
      const char *ifc = json_string_value (json_object_get (ep, "interface"));
      const char *rid = json_string_value (json_object_get (ep, "region_id"));
      const char *rn = json_string_value (json_object_get (ep, "region"));
      if (ifc == NULL || strcmp (ifc, interface))
        continue;
      if (region && !(rid && strcmp (rid, region) == 0) && !(rn && strcmp (rn, region) == 0))
        continue;
      return json_string_value (json_object_get (ep, "url"));
    }
  }
  return NULL;
}

static char *
strip_slash (const char *url)
{
  char *s = strdup (url);
  size_t n = s ? strlen (s) : 0;
  while (n && s[n - 1] == '/')
    s[--n] = '\0';
  return s;
}

static int
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcmp (s + n - m, suffix) == 0;
}

static void
fill_endpoints (struct os_client *c, const json_t *catalog)
{
  static const char *const services[] = { OS_IDENTITY, OS_COMPUTE, OS_VOLUME, OS_NETWORK,
    OS_IMAGE, NULL };

  json_object_clear (c->endpoints);
  for (size_t s = 0; services[s]; s++) {
    const char *const *types = catalog_types (services[s]);
    const char *url = NULL;
    CLEANUP_FREE char *u = NULL;
    for (size_t t = 0; types[t] && url == NULL; t++)
      url = catalog_url (catalog, types[t], c->region, c->interface);
    if (url == NULL)
      continue;
    u = strip_slash (url);
    if (u == NULL)
      continue;
    if (strcmp (services[s], OS_NETWORK) == 0 && !ends_with (u, "/v2.0")) {
      char *n = xasprintf ("%s/v2.0", u);
      free (u);
      u = n;
    }
    else if (strcmp (services[s], OS_IMAGE) == 0 && !ends_with (u, "/v2")) {
      char *n = xasprintf ("%s/v2", u);
      free (u);
      u = n;
    }
    if (u) {
      os_note_plain_http (os_service_label (services[s]), u);
      json_object_set_new (c->endpoints, services[s], json_string (u));
    }
  }
}

int
os_authenticate (struct os_client *c)
{
  CLEANUP_JSON json_t *body = auth_body (c->cloud);
  CLEANUP_FREE char *text = NULL;
  CLEANUP_FREE char *url = NULL;
  CLEANUP_FREE char *tok = NULL;
  CLEANUP_JSON json_t *ans = NULL;
  struct http_response resp = { 0 };
  static const char *const hdrs[] = { "Content-Type: application/json",
    "Accept: application/json", NULL };
  /* Asking for a token again is harmless: resend after a lost answer. */
  struct http_request req = { .method = "POST", .headers = hdrs, .idempotent = true,
                              .what = "Keystone authentication" };
  const json_t *token;

  if (body == NULL)
    return FERRY_EXIT_USAGE;
  text = json_dumps (body, JSON_COMPACT);
  url = xasprintf ("%s/auth/tokens", c->auth_url);
  if (text == NULL || url == NULL)
    return FERRY_EXIT_DEST;
  req.url = url;
  req.body = text;
  req.body_len = strlen (text);
  c->round_trips++;
  if (http_request (c->http, &req, &resp) == -1)
    return FERRY_EXIT_DEST;
  if (resp.status != 201 && resp.status != 200) {
    CLEANUP_FREE char *msg = os_error_text (resp.body);
    const json_t *auth = json_object_get (c->cloud, "auth");
    log_error ("Keystone authentication: POST %s: HTTP %ld: %s; %s (user %s, project %s)",
               url, resp.status, msg ? msg : "",
               resp.status == 401 ? "check username/user_id, password or application "
               "credential, user_domain_name and project_domain_name"
               : resp.status == 404 ? "check auth_url (it should be Keystone's, e.g. "
               "https://keystone.example.com:5000/v3)"
               : os_status_advice (resp.status),
               auth_str (auth, "username") ? auth_str (auth, "username")
               : auth_str (auth, "user_id") ? auth_str (auth, "user_id")
               : auth_str (auth, "application_credential_name") ? "(application credential)"
               : "(token)",
               auth_str (auth, "project_name") ? auth_str (auth, "project_name")
               : auth_str (auth, "project_id") ? auth_str (auth, "project_id") : "(from credential)");
    http_response_free (&resp);
    return FERRY_EXIT_DEST;
  }
  tok = http_response_header (&resp, "X-Subject-Token");
  ans = json_loads (resp.body, 0, NULL);
  http_response_free (&resp);
  token = json_object_get (ans, "token");
  if (tok == NULL || *tok == '\0' || !json_is_object (token)) {
    log_error ("Keystone authentication: POST %s: the answer has no %s; is auth_url "
               "Keystone v3?", url, tok ? "token body" : "X-Subject-Token header");
    return FERRY_EXIT_DEST;
  }
  redact_add_secret (tok);
  free (c->token);
  c->token = TAKE_PTR (tok);
  c->expires = parse_time (json_string_value (json_object_get (token, "expires_at")));
  free (c->user_id);
  c->user_id = strdup (json_string_value (json_object_get (json_object_get (token, "user"), "id"))
                       ? json_string_value (json_object_get (json_object_get (token, "user"), "id")) : "");
  {
    const json_t *proj = json_object_get (token, "project");
    const char *pid = json_string_value (json_object_get (proj, "id"));
    const char *pname = json_string_value (json_object_get (proj, "name"));
    if (pid == NULL) {
      log_error ("Keystone authentication: the token is not scoped to a project; set "
                 "project_name or project_id (an application credential must be "
                 "project-scoped)");
      return FERRY_EXIT_DEST;
    }
    free (c->project_id);
    free (c->project_name);
    c->project_id = strdup (pid);
    c->project_name = strdup (pname ? pname : pid);
  }
  if (!json_is_array (json_object_get (token, "catalog"))
      || json_array_size (json_object_get (token, "catalog")) == 0) {
    log_error ("Keystone authentication: the token has an empty service catalog; the "
               "user may lack a role on project %s", c->project_name);
    return FERRY_EXIT_DEST;
  }
  fill_endpoints (c, json_object_get (token, "catalog"));
  c->auth_count++;
  log_debug ("Keystone: authenticated to project %s (%s), token expires at %s",
             c->project_name, c->project_id,
             json_string_value (json_object_get (token, "expires_at")));
  return 0;
}

struct os_client *
os_connect (const json_t *cloud, int *exit_code)
{
  struct os_client *c;
  const json_t *auth = json_object_get (cloud, "auth");
  const char *url = auth_str (auth, "auth_url");
  const char *region = json_string_value (json_object_get (cloud, "region_name"));
  const char *ifc = json_string_value (json_object_get (cloud, "interface"));
  const char *cacert = json_string_value (json_object_get (cloud, "cacert"));
  const json_t *ins = json_object_get (cloud, "insecure");
  const json_t *verify = json_object_get (cloud, "verify");
  struct http_tls tls = { 0 };
  int r;

  *exit_code = FERRY_EXIT_USAGE;
  if (url == NULL) {
    log_error ("OpenStack: no auth_url: set dst_cloud.auth.auth_url (or OS_CLOUD with "
               "clouds.yaml, or OS_AUTH_URL)");
    return NULL;
  }
  c = calloc (1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->http = http_new ("OpenStack");
  c->cloud = json_deep_copy (cloud);
  c->endpoints = json_object ();
  c->microversions = json_pack ("{s:s}", OS_COMPUTE, OS_NOVA_MICROVERSION);
  c->conflict_attempts = 6;
  c->conflict_delay_ms = 1000;
  c->auth_url = strip_slash (url);
  if (c->http == NULL || c->cloud == NULL || c->auth_url == NULL || c->endpoints == NULL) {
    os_disconnect (c);
    return NULL;
  }
  if (ends_with (c->auth_url, "/v2.0")) {
    log_error ("OpenStack: auth_url %s is Keystone v2.0, which ferry does not speak: "
               "use the v3 URL", c->auth_url);
    os_disconnect (c);
    return NULL;
  }
  os_note_plain_http ("Keystone auth_url", c->auth_url);
  if (!ends_with (c->auth_url, "/v3")) {
    char *u = xasprintf ("%s/v3", c->auth_url);
    free (c->auth_url);
    c->auth_url = u;
  }
  if (region && *region)
    c->region = strdup (region);
  if (ifc == NULL || *ifc == '\0')
    ifc = "public";
  c->interface = strdup (ifc);
  if (c->interface && ends_with (c->interface, "URL"))   /* publicURL, internalURL */
    c->interface[strlen (c->interface) - 3] = '\0';

  tls.insecure = json_is_true (ins) || json_is_false (verify);
  tls.cacert = cacert && *cacert ? cacert : NULL;
  if (tls.insecure)
    log_warn ("OpenStack: TLS certificates are not verified (insecure): set cacert instead");
  if (http_set_tls (c->http, &tls) == -1) {
    os_disconnect (c);
    return NULL;
  }
  r = os_authenticate (c);
  if (r) {
    *exit_code = r;
    os_disconnect (c);
    return NULL;
  }
  {
    static const char *const needed[] = { OS_COMPUTE, OS_VOLUME, OS_NETWORK, NULL };
    for (size_t i = 0; needed[i]; i++)
      if (os_endpoint (c, needed[i]) == NULL)
        log_warn ("OpenStack: the catalog has no %s endpoint (%s) for interface %s%s%s",
                  os_service_label (needed[i]), needed[i], c->interface,
                  c->region ? " in region " : "", c->region ? c->region : "");
  }
  *exit_code = 0;
  return c;
}

void
os_disconnect (struct os_client *c)
{
  if (c == NULL)
    return;
  http_free (c->http);
  json_decref (c->cloud);
  json_decref (c->endpoints);
  json_decref (c->microversions);
  free (c->auth_url);
  free (c->token);
  free (c->project_id);
  free (c->project_name);
  free (c->user_id);
  free (c->region);
  free (c->interface);
  free (c);
}

int
os_reauth (struct os_client *c)
{
  return os_authenticate (c) == 0 ? 0 : -1;
}

const char *os_project_id (const struct os_client *c) { return c->project_id; }
const char *os_project_name (const struct os_client *c) { return c->project_name; }
const char *os_user_id (const struct os_client *c) { return c->user_id; }
const char *os_region (const struct os_client *c) { return c->region; }
const char *os_token (const struct os_client *c) { return c->token; }
time_t os_token_expires (const struct os_client *c) { return c->expires; }
unsigned os_auth_count (const struct os_client *c) { return c->auth_count; }
unsigned os_round_trips (const struct os_client *c) { return c->round_trips; }

const char *
os_endpoint (const struct os_client *c, const char *service)
{
  if (strcmp (service, "volumev3") == 0 || strcmp (service, "block-storage") == 0)
    service = OS_VOLUME;
  return json_string_value (json_object_get (c->endpoints, service));
}
