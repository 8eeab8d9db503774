/* Fuzz target for the reference kit's args.json (its Go migrate module's
 * arguments), read as ferry configuration: what config_add_args_file does
 * (yaml_parse_file, which only adds reading the file and refusing a NUL
 * byte, then config_add_args_json), in memory, followed by the effective
 * configuration (not resolving dst_cloud: the config target does that)
 * dumped as `ferry config show` does.  Corpus: tests/fuzz/corpus/args-json. */
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
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_cstring (data, size);
  char *err = NULL;
  json_t *j;

  if (strlen (text) != size) {          /* yaml_parse_file refuses it */
    free (text);
    return 0;
  }
  j = yaml_parse_string (text, size, "args.json", &err);
  if (j) {
    struct config *cfg = config_new ();
    json_t *eff;
    config_add_args_json (cfg, j, "args.json");
    (void) config_get_string (cfg, "vcenter_datacenter");
    json_decref (config_get_strings (cfg, "vms_list"));
    (void) config_get_bool (cfg, "cbt_sync");
    eff = config_effective (cfg, false, &err);
    if (eff) {
      json_t *shown = redact_json (eff);
      free (yaml_dump (shown));
      json_decref (shown);
      json_decref (eff);
    }
    config_free (cfg);
    json_decref (j);
  }
  free (err);
  redact_clear ();
  free (text);
  return 0;
}
