/* ferry: OpenStack credentials resolution, see clouds.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/clouds.h"
#include "config/yaml.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"

char *
clouds_find_file (const char *basename)
{
  const char *env = strcmp (basename, "clouds.yaml") == 0
    ? getenv ("OS_CLIENT_CONFIG_FILE") : getenv ("OS_CLIENT_SECURE_FILE");
  const char *xdg = getenv ("XDG_CONFIG_HOME");
  const char *home = getenv ("HOME");
  char *cand[5] = { 0 };
  char *found = NULL;
  size_t n = 0;

  if (env && *env)
    return access (env, R_OK) == 0 ? strdup (env) : NULL;
  cand[n++] = xasprintf ("%s", basename);
  if (xdg && *xdg)
    cand[n++] = xasprintf ("%s/openstack/%s", xdg, basename);
  else if (home && *home)
    cand[n++] = xasprintf ("%s/.config/openstack/%s", home, basename);
  cand[n++] = xasprintf ("/etc/openstack/%s", basename);
  for (size_t i = 0; i < n; i++) {
    if (!found && cand[i] && access (cand[i], R_OK) == 0)
      found = cand[i];
    else
      free (cand[i]);
  }
  return found;
}

/* Deep merge src into dst (src wins). */
static void
deep_merge (json_t *dst, const json_t *src)
{
  const char *k;
  json_t *v;

  json_object_foreach ((json_t *) src, k, v) {
    json_t *d = json_object_get (dst, k);
    if (json_is_object (d) && json_is_object (v))
      deep_merge (d, v);
    else
      json_object_set_new (dst, k, json_deep_copy (v));
  }
}

static const struct { const char *env, *key; } env_auth[] = {
  { "OS_AUTH_URL", "auth_url" },
  { "OS_USERNAME", "username" },
  { "OS_USER_ID", "user_id" },
  { "OS_PASSWORD", "password" },
  { "OS_PROJECT_NAME", "project_name" },
  { "OS_TENANT_NAME", "project_name" },
  { "OS_PROJECT_ID", "project_id" },
  { "OS_TENANT_ID", "project_id" },
  { "OS_USER_DOMAIN_NAME", "user_domain_name" },
  { "OS_USER_DOMAIN_ID", "user_domain_id" },
  { "OS_PROJECT_DOMAIN_NAME", "project_domain_name" },
  { "OS_PROJECT_DOMAIN_ID", "project_domain_id" },
  { "OS_DOMAIN_NAME", "domain_name" },
  { "OS_DOMAIN_ID", "domain_id" },
  { "OS_APPLICATION_CREDENTIAL_ID", "application_credential_id" },
  { "OS_APPLICATION_CREDENTIAL_NAME", "application_credential_name" },
  { "OS_APPLICATION_CREDENTIAL_SECRET", "application_credential_secret" },
  { "OS_TOKEN", "token" },
  { NULL, NULL }
};

static const struct { const char *env, *key; } env_top[] = {
  { "OS_REGION_NAME", "region_name" },
  { "OS_INTERFACE", "interface" },
  { "OS_ENDPOINT_TYPE", "interface" },
  { "OS_IDENTITY_API_VERSION", "identity_api_version" },
  { "OS_AUTH_TYPE", "auth_type" },
  { "OS_CACERT", "cacert" },
  { NULL, NULL }
};

/* Fill missing fields of cloud from OS_* variables; returns how many. */
static int
fill_from_env (json_t *cloud)
{
  json_t *auth = json_object_get (cloud, "auth");
  int n = 0;

  if (!json_is_object (auth)) {
    auth = json_object ();
    json_object_set_new (cloud, "auth", auth);
  }
  for (size_t i = 0; env_auth[i].env; i++) {
    const char *v = getenv (env_auth[i].env);
    if (v && *v && !json_object_get (auth, env_auth[i].key)) {
      json_object_set_new (auth, env_auth[i].key, json_string (v));
      if (redact_is_secret_key (env_auth[i].key))
        redact_add_secret (v);
      n++;
    }
  }
  for (size_t i = 0; env_top[i].env; i++) {
    const char *v = getenv (env_top[i].env);
    if (v && *v && !json_object_get (cloud, env_top[i].key)) {
      json_object_set_new (cloud, env_top[i].key, json_string (v));
      n++;
    }
  }
  {
    const char *v = getenv ("OS_INSECURE");
    if (v && *v && !json_object_get (cloud, "insecure")) {
      json_t *b = yaml_resolve_plain (v, strlen (v));
      json_object_set_new (cloud, "insecure", json_boolean (json_is_true (b)));
      json_decref (b);
    }
  }
  return n;
}

/* Bring a cloud dict to ferry's normal form. */
static int
normalise (json_t *cloud, const struct config *cfg, char **err)
{
  json_t *auth = json_object_get (cloud, "auth");
  json_t *v;
  const char *at;

  if (!json_is_object (auth)) {
    /* Some people write auth fields at the top level. */
    static const char *const flat[] = { "auth_url", "username", "password",
      "project_name", "project_id", "user_domain_name", "project_domain_name", NULL };
    auth = json_object ();
    for (size_t i = 0; flat[i]; i++)
      if ((v = json_object_get (cloud, flat[i]))) {
        json_object_set (auth, flat[i], v);
        json_object_del (cloud, flat[i]);
      }
    json_object_set_new (cloud, "auth", auth);
  }
  /* domain_name applies to user and project unless they say otherwise. */
  if ((v = json_object_get (auth, "domain_name")) && json_is_string (v)) {
    if (!json_object_get (auth, "user_domain_name") && !json_object_get (auth, "user_domain_id"))
      json_object_set (auth, "user_domain_name", v);
    if (!json_object_get (auth, "project_domain_name")
        && !json_object_get (auth, "project_domain_id"))
      json_object_set (auth, "project_domain_name", v);
  }
  if ((v = json_object_get (auth, "domain_id")) && json_is_string (v)) {
    if (!json_object_get (auth, "user_domain_name") && !json_object_get (auth, "user_domain_id"))
      json_object_set (auth, "user_domain_id", v);
    if (!json_object_get (auth, "project_domain_name")
        && !json_object_get (auth, "project_domain_id"))
      json_object_set (auth, "project_domain_id", v);
  }
  if (!json_object_get (cloud, "auth_type")) {
    if (json_object_get (auth, "application_credential_secret"))
      json_object_set_new (cloud, "auth_type", json_string ("v3applicationcredential"));
    else if (json_object_get (auth, "token") && !json_object_get (auth, "password"))
      json_object_set_new (cloud, "auth_type", json_string ("token"));
    else
      json_object_set_new (cloud, "auth_type", json_string ("password"));
  }
  at = json_string_value (json_object_get (cloud, "auth_type"));
  if (!at || (strcmp (at, "password") && strcmp (at, "v3password")
              && strcmp (at, "v3applicationcredential") && strcmp (at, "token")
              && strcmp (at, "v3token"))) {
    *err = xasprintf ("dst_cloud: auth_type '%s' is not supported: use password, "
                      "v3applicationcredential or token", at ? at : "?");
    return -1;
  }
  if (!json_is_string (json_object_get (auth, "auth_url"))) {
    *err = xasprintf ("dst_cloud: no auth.auth_url: give the Keystone URL "
                      "(or set OS_AUTH_URL)");
    return -1;
  }
  if (!json_object_get (cloud, "interface"))
    json_object_set_new (cloud, "interface", json_string ("public"));
  if ((v = json_object_get (cloud, "identity_api_version")) && json_is_string (v)) {
    json_t *r = yaml_resolve_plain (json_string_value (v), json_string_length (v));
    json_object_set_new (cloud, "identity_api_version", r);
  }
  else if (!v)
    json_object_set_new (cloud, "identity_api_version", json_integer (3));
  /* clouds.yaml says verify: false; os-migrate says insecure: true. */
  if ((v = json_object_get (cloud, "verify")) && json_is_boolean (v)) {
    if (!json_object_get (cloud, "insecure"))
      json_object_set_new (cloud, "insecure", json_boolean (!json_is_true (v)));
    json_object_del (cloud, "verify");
  }
  if (config_get (cfg, "openstack_insecure"))
    json_object_set_new (cloud, "insecure",
                         json_boolean (config_get_bool (cfg, "openstack_insecure")));
  if (!json_object_get (cloud, "insecure"))
    json_object_set_new (cloud, "insecure", json_false ());
  redact_add_secrets_from_json (cloud);
  return 0;
}

static json_t *
from_clouds_yaml (const char *name, char **err)
{
  CLEANUP_FREE char *path = clouds_find_file ("clouds.yaml");
  CLEANUP_FREE char *spath = NULL;
  CLEANUP_FREE char *perr = NULL;
  CLEANUP_JSON json_t *doc = NULL;
  json_t *clouds, *cloud, *out;

  if (path == NULL) {
    *err = xasprintf ("cloud '%s': no clouds.yaml found (looked at $OS_CLIENT_CONFIG_FILE, "
                      "./clouds.yaml, ~/.config/openstack/clouds.yaml, "
                      "/etc/openstack/clouds.yaml)", name);
    return NULL;
  }
  doc = yaml_parse_file (path, &perr);
  if (doc == NULL) {
    *err = xasprintf ("%s", perr ? perr : path);
    return NULL;
  }
  clouds = json_object_get (doc, "clouds");
  cloud = json_object_get (clouds, name);
  if (!json_is_object (cloud)) {
    const char *names[64];
    size_t n = 0;
    const char *k;
    json_t *v;
    const char *near;
    json_object_foreach (clouds, k, v)
      if (n < 64)
        names[n++] = k;
    near = closest_word (name, names, n);
    *err = xasprintf ("%s: no cloud named '%s'%s%s%s", path, name,
                      near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    return NULL;
  }
  out = json_deep_copy (cloud);
  spath = clouds_find_file ("secure.yaml");
  if (spath) {
    CLEANUP_FREE char *serr = NULL;
    CLEANUP_JSON json_t *sdoc = yaml_parse_file (spath, &serr);
    json_t *scloud = json_object_get (json_object_get (sdoc, "clouds"), name);
    if (sdoc == NULL)
      log_warn ("%s", serr ? serr : spath);
    else if (json_is_object (scloud))
      deep_merge (out, scloud);
  }
  if (json_object_get (out, "profile"))
    log_warn ("%s: cloud '%s' uses a vendor profile, which ferry does not read; "
              "give auth_url and region_name explicitly", path, name);
  json_object_set_new (out, "cloud", json_string (name));
  json_object_set_new (out, "source", json_sprintf ("clouds.yaml %s", path));
  return out;
}

json_t *
clouds_resolve (const struct config *cfg, char **err)
{
  json_t *dst = config_get (cfg, "dst_cloud");
  json_t *cloud = NULL;
  const char *name = NULL;

  *err = NULL;
  if (json_is_object (dst)) {
    cloud = json_deep_copy (dst);
    json_object_set_new (cloud, "source", json_string ("dst_cloud"));
    fill_from_env (cloud);
  }
  else {
    if (json_is_string (dst))
      name = json_string_value (dst);
    else if (config_get_string (cfg, "os_cloud_environ"))
      name = config_get_string (cfg, "os_cloud_environ");
    else if (getenv ("OS_CLOUD") && *getenv ("OS_CLOUD"))
      name = getenv ("OS_CLOUD");
    if (name) {
      cloud = from_clouds_yaml (name, err);
      if (cloud == NULL)
        return NULL;
    }
    else {
      cloud = json_object ();
      if (fill_from_env (cloud) == 0) {
        json_decref (cloud);
        return NULL;          /* nothing configured */
      }
      json_object_set_new (cloud, "source", json_string ("environment"));
    }
  }
  if (normalise (cloud, cfg, err) == -1) {
    json_decref (cloud);
    return NULL;
  }
  return cloud;
}
