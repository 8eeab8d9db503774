/* ferry: configuration merge, aliases and validation, see config.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/yaml.h"
#include "config/clouds.h"
#include "config/validate.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"

#define PREFIX "import_workloads_"

struct config *
config_new (void)
{
  struct config *cfg = calloc (1, sizeof *cfg);

  if (cfg == NULL)
    return NULL;
  cfg->vars = json_object ();
  cfg->origin = json_object ();
  return cfg;
}

void
config_free (struct config *cfg)
{
  if (cfg == NULL)
    return;
  json_decref (cfg->vars);
  json_decref (cfg->origin);
  free (cfg);
}

const struct cfg_key *
config_lookup_key (const char *name)
{
  size_t plen = strlen (PREFIX);

  for (size_t i = 0; i < config_nkeys; i++) {
    const struct cfg_key *k = &config_keys[i];
    if (strcmp (k->name, name) == 0)
      return k;
    if (k->prefixed && strncmp (name, PREFIX, plen) == 0
        && strcmp (name + plen, k->name) == 0)
      return k;
    for (size_t a = 0; a < 3 && k->aliases[a]; a++)
      if (strcmp (k->aliases[a], name) == 0)
        return k;
  }
  return NULL;
}

/* Every accepted spelling, for typo suggestions.  Caller frees the array. */
static const char **
all_names (size_t *n)
{
  const char **v = calloc (config_nkeys * 5, sizeof *v);
  size_t c = 0;
  static char prefixed[256][80];
  size_t np = 0;

  if (v == NULL)
    return NULL;
  for (size_t i = 0; i < config_nkeys; i++) {
    const struct cfg_key *k = &config_keys[i];
    v[c++] = k->name;
    if (k->prefixed && np < 256) {
      snprintf (prefixed[np], sizeof prefixed[np], PREFIX "%s", k->name);
      v[c++] = prefixed[np++];
    }
    for (size_t a = 0; a < 3 && k->aliases[a]; a++)
      v[c++] = k->aliases[a];
  }
  *n = c;
  return v;
}

static const char *
type_word (enum cfg_type t)
{
  switch (t) {
  case CFG_STRING: return "a string";
  case CFG_BOOL: return "a boolean (true or false)";
  case CFG_INT: return "an integer";
  case CFG_STRING_LIST: return "a list of strings";
  case CFG_STRING_OR_LIST: return "a string or a list of strings";
  case CFG_DICT: return "a mapping (key: value)";
  case CFG_LIST: return "a list";
  case CFG_CLOUD: return "a mapping of OpenStack auth settings or a clouds.yaml cloud name";
  case CFG_ANY: return "any value";
  }
  return "?";
}

static const char *
json_type_word (const json_t *v)
{
  switch (json_typeof (v)) {
  case JSON_OBJECT: return "a mapping";
  case JSON_ARRAY: return "a list";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_TRUE: case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "?";
}

/* Check v against the key's type; return a new reference to the value to
 * store (coerced where Ansible would coerce: "yes" -> true, "8" -> 8), or
 * NULL if it does not fit. */
static json_t *
coerce (const struct cfg_key *k, json_t *v)
{
  size_t i;
  json_t *e;

  if (json_is_null (v))
    return json_null ();
  switch (k->type) {
  case CFG_ANY:
    return json_incref (v);
  case CFG_STRING:
    if (json_is_string (v))
      return json_incref (v);
    /* Ids and names that YAML read as numbers: keep them as text. */
    if (json_is_integer (v))
      return json_sprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (v));
    return NULL;
  case CFG_BOOL:
    if (json_is_boolean (v))
      return json_incref (v);
    if (json_is_string (v)) {
      json_t *r = yaml_resolve_plain (json_string_value (v), json_string_length (v));
      if (json_is_boolean (r))
        return r;
      json_decref (r);
    }
    if (json_is_integer (v) && (json_integer_value (v) == 0 || json_integer_value (v) == 1))
      return json_boolean (json_integer_value (v));
    return NULL;
  case CFG_INT:
    if (json_is_integer (v))
      return json_incref (v);
    if (json_is_string (v)) {
      json_t *r = yaml_resolve_plain (json_string_value (v), json_string_length (v));
      if (json_is_integer (r))
        return r;
      json_decref (r);
    }
    return NULL;
  case CFG_STRING_LIST:
    if (json_is_string (v)) {
      json_t *a = json_array ();
      json_array_append (a, v);
      return a;
    }
    if (!json_is_array (v))
      return NULL;
    json_array_foreach (v, i, e)
      if (!json_is_string (e) && !json_is_integer (e))
        return NULL;
    {
      json_t *a = json_array ();
      json_array_foreach (v, i, e) {
        if (json_is_string (e))
          json_array_append (a, e);
        else
          json_array_append_new (a, json_sprintf ("%" JSON_INTEGER_FORMAT,
                                                  json_integer_value (e)));
      }
      return a;
    }
  case CFG_STRING_OR_LIST:
    if (json_is_string (v))
      return json_incref (v);
    if (!json_is_array (v))
      return NULL;
    json_array_foreach (v, i, e)
      if (!json_is_string (e))
        return NULL;
    return json_incref (v);
  case CFG_DICT:
    return json_is_object (v) ? json_incref (v) : NULL;
  case CFG_LIST:
    return json_is_array (v) ? json_incref (v) : NULL;
  case CFG_CLOUD:
    return json_is_object (v) || json_is_string (v) ? json_incref (v) : NULL;
  }
  return NULL;
}

static void
warn_unknown (const char *key, const char *origin)
{
  size_t n = 0;
  const char **names = all_names (&n);
  const char *near = names ? closest_word (key, names, n) : NULL;

  /* Ansible's own variables are passed around freely; don't nag. */
  if (strncmp (key, "ansible_", 8) == 0)
    goto out;
  if (near)
    log_warn ("%s: unknown key '%s' (did you mean '%s'?); it is ignored",
              origin, key, near);
  else
    log_warn ("%s: unknown key '%s'; it is ignored", origin, key);
 out:
  free (names);
}

static int
set_one (struct config *cfg, const char *key, json_t *value, const char *origin)
{
  const struct cfg_key *k = config_lookup_key (key);
  json_t *v;

  if (k == NULL) {
    warn_unknown (key, origin);
    /* Keep it: an os-migrate variable ferry does not know yet still shows
     * up in `config show`. */
    json_object_set (cfg->vars, key, value);
    json_object_set_new (cfg->origin, key, json_string (origin));
    return 0;
  }
  v = coerce (k, value);
  if (v == NULL) {
    CLEANUP_FREE char *shown = NULL;
    if (redact_is_secret_key (k->name))
      shown = strdup ("(value hidden)");
    else {
      char *j = json_dumps (value, JSON_ENCODE_ANY | JSON_COMPACT);
      shown = j && strlen (j) > 60 ? xasprintf ("%.57s...", j) : (j ? strdup (j) : NULL);
      free (j);
    }
    log_error ("%s: key '%s': expected %s, got %s %s", origin, key,
               type_word (k->type), json_type_word (value), shown ? shown : "");
    cfg->errors++;
    return -1;
  }
  /* The type fits: is the value one the key allows (validate.c)? */
  {
    CLEANUP_FREE char *bad = config_check_value (k->name, key, v);
    if (bad) {
      log_error ("%s: %s", origin, bad);
      json_decref (v);
      cfg->errors++;
      return -1;
    }
  }
  json_object_set_new (cfg->vars, k->name, v);
  json_object_set_new (cfg->origin, k->name, json_string (origin));
  return 0;
}

int
config_add_json (struct config *cfg, const json_t *obj, const char *origin)
{
  const char *key;
  json_t *value;
  int r = 0;

  if (!json_is_object (obj)) {
    log_error ("%s: expected a mapping of variables (key: value) at the top, got %s",
               origin, json_type_word (obj));
    cfg->errors++;
    return -1;
  }
  redact_add_secrets_from_json (obj);
  /* Short names first, then import_workloads_ ones: within one source the
   * prefixed name wins, as in the reference's roles. */
  for (int pass = 0; pass < 2; pass++)
    json_object_foreach ((json_t *) obj, key, value) {
      bool pre = strncmp (key, PREFIX, strlen (PREFIX)) == 0;
      if (pre != (pass == 1))
        continue;
      if (set_one (cfg, key, value, origin) == -1)
        r = -1;
    }
  return r;
}

int
config_add_file (struct config *cfg, const char *path)
{
  CLEANUP_FREE char *err = NULL;
  CLEANUP_JSON json_t *j = yaml_parse_file (path, &err);

  if (j == NULL) {
    log_error ("%s", err ? err : "cannot read configuration file");
    cfg->errors++;
    return -1;
  }
  return config_add_json (cfg, j, path);
}

int
config_add_arg (struct config *cfg, const char *arg)
{
  const char *eq;

  if (arg[0] == '@')
    return config_add_file (cfg, arg + 1);
  if (arg[0] == '{') {
    CLEANUP_FREE char *err = NULL;
    CLEANUP_JSON json_t *j = yaml_parse_string (arg, strlen (arg), "-e", &err);
    if (j == NULL) {
      log_error ("%s", err ? err : "-e: malformed value");
      cfg->errors++;
      return -1;
    }
    return config_add_json (cfg, j, "-e");
  }
  eq = strchr (arg, '=');
  if (eq == NULL || eq == arg) {
    log_error ("-e '%s': expected @FILE, key=value or a {mapping}", arg);
    cfg->errors++;
    return -1;
  }
  {
    CLEANUP_FREE char *key = strndup (arg, eq - arg);
    CLEANUP_FREE char *err = NULL;
    CLEANUP_JSON json_t *v = NULL;
    const char *val = eq + 1;

    /* The value is a YAML scalar: true is a boolean, 'x' a quoted string;
     * flow collections ([a, b], {k: v}) are accepted too. */
    v = yaml_parse_string (val, strlen (val), "-e", &err);
    if (v == NULL) {
      log_error ("-e %s: %s", key, err ? err : "malformed value");
      cfg->errors++;
      return -1;
    }
    if (*val == '\0' || (json_is_object (v) && json_object_size (v) == 0 && *val != '{')) {
      json_decref (v);
      v = json_string ("");
    }
    if (redact_is_secret_key (key) && json_is_string (v))
      redact_add_secret (json_string_value (v));
    return set_one (cfg, key, v, "-e");
  }
}

json_t *
config_get (const struct config *cfg, const char *key)
{
  json_t *v = json_object_get (cfg->vars, key);
  return json_is_null (v) ? NULL : v;
}

static const struct cfg_key *
must_key (const char *key)
{
  const struct cfg_key *k = config_lookup_key (key);
  if (k == NULL) {
    fprintf (stderr, "ferry: internal error: unknown configuration key %s\n", key);
    abort ();
  }
  return k;
}

/* The value, or the parsed default (a new reference either way). */
static json_t *
value_or_default (const struct config *cfg, const char *key)
{
  const struct cfg_key *k = must_key (key);
  json_t *v = config_get (cfg, k->name);

  if (v)
    return json_incref (v);
  if (k->deflt) {
    json_t *d = yaml_resolve_plain (k->deflt, strlen (k->deflt));
    json_t *c = coerce (k, d);
    json_decref (d);
    return c;
  }
  return NULL;
}

const char *
config_get_string (const struct config *cfg, const char *key)
{
  const struct cfg_key *k = must_key (key);
  json_t *v = config_get (cfg, k->name);

  if (json_is_string (v))
    return json_string_value (v);
  return k->deflt && k->type == CFG_STRING ? k->deflt : NULL;
}

bool
config_get_bool (const struct config *cfg, const char *key)
{
  CLEANUP_JSON json_t *v = value_or_default (cfg, key);
  return json_is_true (v);
}

long long
config_get_int (const struct config *cfg, const char *key)
{
  CLEANUP_JSON json_t *v = value_or_default (cfg, key);
  return json_is_integer (v) ? json_integer_value (v) : 0;
}

json_t *
config_get_strings (const struct config *cfg, const char *key)
{
  json_t *v = config_get (cfg, must_key (key)->name);
  json_t *out = json_array ();

  if (json_is_array (v)) {
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e)
      if (json_is_string (e) && json_string_length (e))
        json_array_append (out, e);
  }
  else if (json_is_string (v)) {
    /* "a,b" lists, as the reference's single security group string. */
    CLEANUP_FREE char *s = strdup (json_string_value (v));
    char *save = NULL;
    for (char *t = strtok_r (s, ",", &save); t; t = strtok_r (NULL, ",", &save)) {
      while (*t == ' ') t++;
      size_t l = strlen (t);
      while (l && t[l-1] == ' ') t[--l] = '\0';
      if (*t)
        json_array_append_new (out, json_string (t));
    }
  }
  return out;
}

static bool
has_value (const struct config *cfg, const char *key)
{
  json_t *v = config_get (cfg, key);
  if (v == NULL)
    return false;
  if (json_is_string (v))
    return json_string_length (v) > 0;
  if (json_is_array (v))
    return json_array_size (v) > 0;
  if (json_is_object (v))
    return json_object_size (v) > 0;
  return true;
}

int
config_require (const struct config *cfg, const char *const *keys)
{
  int missing = 0;

  for (size_t i = 0; keys[i]; i++) {
    CLEANUP_FREE char *alts = strdup (keys[i]);
    char *save = NULL;
    bool ok = false;
    for (char *t = strtok_r (alts, "|", &save); t; t = strtok_r (NULL, "|", &save))
      if (has_value (cfg, must_key (t)->name))
        ok = true;
    if (!ok) {
      CLEANUP_FREE char *shown = strdup (keys[i]);
      size_t first = strcspn (keys[i], "|");
      for (char *p = shown; *p; p++)
        if (*p == '|') *p = '/';
      log_error ("missing required key '%s': set it in a vars or secrets file "
                 "(-e @FILE) or with -e %.*s=VALUE", shown, (int) first, keys[i]);
      missing++;
    }
  }
  return missing ? -1 : 0;
}

json_t *
config_effective (const struct config *cfg, bool resolve_cloud, char **err)
{
  json_t *out = json_object ();
  const char *key;
  json_t *v;

  *err = NULL;
  for (size_t i = 0; i < config_nkeys; i++) {
    const struct cfg_key *k = &config_keys[i];
    json_t *d = value_or_default (cfg, k->name);
    if (d)
      json_object_set_new (out, k->name, d);
  }
  /* Unknown keys kept as given. */
  json_object_foreach (cfg->vars, key, v)
    if (json_object_get (out, key) == NULL)
      json_object_set (out, key, v);

  if (resolve_cloud) {
    json_t *cloud = clouds_resolve (cfg, err);
    if (cloud == NULL && *err) {
      json_decref (out);
      return NULL;
    }
    if (cloud)
      json_object_set_new (out, "dst_cloud", cloud);
  }
  return out;
}
