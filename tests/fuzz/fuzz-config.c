/* Fuzz target for the configuration files: what `-e @FILE` reads (YAML or
 * JSON vars and secrets files), merged into a configuration, read back
 * through every getter, resolved (dst_cloud), masked and dumped as YAML
 * as `ferry config show` does.
 *
 * The file path (config_add_file -> yaml_parse_file) only adds reading the
 * file and refusing a NUL byte to yaml_parse_string: this target does the
 * same in memory.  The first line of the input is also given as one `-e`
 * argument (key=value, or an inline {mapping}), the other form
 * config_add_arg parses.  Corpus: tests/fuzz/corpus/config. */
#include <jansson.h>

#include "config/config.h"
#include "config/yaml.h"
#include "common/log.h"
#include "common/redact.h"

#include "fuzz-common.h"

static void
target_init (void)
{
  log_set_level (LOG_LEVEL_ERROR);
  /* Nothing from the environment: the input alone decides. */
  static const char *const vars[] = { "OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD",
    "OS_PROJECT_NAME", "OS_PROJECT_ID", "OS_TOKEN", "OS_REGION_NAME", "OS_INSECURE",
    "OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_SECRET", NULL };
  for (size_t i = 0; vars[i]; i++)
    unsetenv (vars[i]);
  /* A dst_cloud naming a cloud looks it up in a file that doesn't exist. */
  char *none = fuzz_path ("no-clouds.yaml");
  setenv ("OS_CLIENT_CONFIG_FILE", none, 1);
  setenv ("OS_CLIENT_SECURE_FILE", none, 1);
  free (none);
}

static void
read_back (const struct config *cfg)
{
  for (size_t i = 0; i < config_nkeys; i++) {
    const struct cfg_key *k = &config_keys[i];
    switch (k->type) {
    case CFG_STRING:
      (void) config_get_string (cfg, k->name);
      break;
    case CFG_BOOL:
      (void) config_get_bool (cfg, k->name);
      break;
    case CFG_INT:
      (void) config_get_int (cfg, k->name);
      break;
    case CFG_STRING_LIST:
    case CFG_STRING_OR_LIST:
      json_decref (config_get_strings (cfg, k->name));
      break;
    default:
      (void) config_get (cfg, k->name);
      break;
    }
  }
  {
    static const char *const need[] = { "vcenter_hostname|esxi_hostname", "vms_list",
      "dst_cloud|os_cloud_environ", NULL };
    (void) config_require (cfg, need);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_cstring (data, size);
  struct config *cfg = config_new ();
  char *err = NULL;

  /* -e @FILE */
  if (strlen (text) == size) {
    json_t *j = yaml_parse_string (text, size, "vars.yaml", &err);
    if (j)
      config_add_json (cfg, j, "vars.yaml");
    json_decref (j);
    free (err);
    err = NULL;
  }
  /* -e key=value or -e '{...}' (a file argument would read a file). */
  {
    char *nl = strchr (text, '\n');
    if (nl)
      *nl = '\0';
    if (text[0] != '@')
      config_add_arg (cfg, text);
  }
  read_back (cfg);
  {
    json_t *eff = config_effective (cfg, true, &err);
    if (eff) {
      json_t *shown = redact_json (eff);
      char *y = yaml_dump (shown);
      free (y);
      json_decref (shown);
      json_decref (eff);
    }
    free (err);
  }
  config_free (cfg);
  redact_clear ();
  free (text);
  return 0;
}
