/* ferry: the effective configuration.
 *
 * Built as ansible-playbook builds its extra vars: `-e @FILE` (YAML or JSON)
 * and `-e key=value` (value read as a YAML scalar), applied in order, the
 * later winning key by key.  Keys are those of os-migrate's
 * vmware-migration-kit (docs/configuration.md lists them), accepted in their
 * short form and, where the reference has one, in their
 * `import_workloads_`-prefixed form; both are stored under the short name.
 * Unknown keys are kept and warned about, naming the closest known key. */
#ifndef FERRY_CONFIG_H
#define FERRY_CONFIG_H

#include <stdbool.h>
#include <jansson.h>

enum cfg_type {
  CFG_ANY,
  CFG_STRING,
  CFG_BOOL,
  CFG_INT,
  CFG_STRING_LIST,      /* list of strings (a single string is one item) */
  CFG_STRING_OR_LIST,   /* security_groups: "a", "a,b" or [a, b] */
  CFG_DICT,
  CFG_LIST,
  CFG_CLOUD,            /* dst_cloud: a dict of auth settings or a clouds.yaml name */
};

struct cfg_key {
  const char *name;         /* canonical (short) name */
  enum cfg_type type;
  bool prefixed;            /* also accepted as import_workloads_<name> */
  const char *aliases[3];   /* other accepted names */
  const char *deflt;        /* default as a YAML scalar, or NULL */
  const char *help;         /* one line */
};

extern const struct cfg_key config_keys[];
extern const size_t config_nkeys;

struct config {
  json_t *vars;      /* canonical name -> value */
  json_t *origin;    /* canonical name -> where it was set ("FILE" or "-e") */
  int errors;        /* type errors seen so far */
};

struct config *config_new (void);
void config_free (struct config *cfg);

/* One `-e` argument: "@FILE", "key=value" or an inline JSON/YAML mapping.
 * Errors and warnings are logged; returns -1 on error.  Errors are a
 * malformed file, a value of the wrong type, or a value the key does not
 * allow (a range, a set of words, a host name: config_check_value in
 * validate.h), each naming the file (or -e) and the key. */
int config_add_arg (struct config *cfg, const char *arg);
int config_add_file (struct config *cfg, const char *path);
/* The reference kit's args.json (its Go migrate module's arguments: user,
 * password, server, vmname, cbtsync, dst_cloud, ...), each key mapped to
 * ferry's (src/config/args-json.c); ferry's own key names are accepted too,
 * unknown keys are warned about.  -1 on error (logged). */
int config_add_args_file (struct config *cfg, const char *path);
int config_add_args_json (struct config *cfg, const json_t *args, const char *origin);
/* Merge a mapping; origin names it in messages. */
int config_add_json (struct config *cfg, const json_t *obj, const char *origin);

/* Look up a key definition by canonical name, alias or prefixed name. */
const struct cfg_key *config_lookup_key (const char *name);

/* Values with defaults applied.  The getters take canonical names. */
json_t *config_get (const struct config *cfg, const char *key);  /* borrowed */
const char *config_get_string (const struct config *cfg, const char *key);
bool config_get_bool (const struct config *cfg, const char *key);
long long config_get_int (const struct config *cfg, const char *key);
/* A new array of strings for CFG_STRING_LIST/CFG_STRING_OR_LIST keys. */
json_t *config_get_strings (const struct config *cfg, const char *key);

/* Check that each named key has a non-empty value; logs an error naming the
 * missing ones and returns -1 if any is missing.  Alternatives are written
 * "a|b" (either will do). */
int config_require (const struct config *cfg, const char *const *keys);

/* The effective configuration: every key set plus every key with a
 * default, dst_cloud resolved (see clouds.h) when resolve_cloud.  Secrets
 * are NOT masked here: pass through redact_json() before showing. */
json_t *config_effective (const struct config *cfg, bool resolve_cloud, char **err);

#endif
