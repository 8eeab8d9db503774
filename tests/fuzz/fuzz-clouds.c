/* Fuzz target for clouds.yaml (and secure.yaml): the input is written as
 * the clouds.yaml that OS_CLIENT_CONFIG_FILE names -- the part after a line
 * "# secure.yaml", if there is one, as the secure.yaml of
 * OS_CLIENT_SECURE_FILE -- and clouds_resolve runs for a configuration
 * whose dst_cloud names each cloud the file has (at most 4, or "openstack"
 * if it has none), then for os_cloud_environ naming the first.
 * Corpus: tests/fuzz/corpus/clouds. */
#include <jansson.h>

#include "config/clouds.h"
#include "config/config.h"
#include "config/yaml.h"
#include "common/log.h"
#include "common/redact.h"

#define FUZZ_FLIP_CHARS ":- \n'\"{}[]#\0x"
#include "fuzz-common.h"

static char *clouds_path, *secure_path;

static void
target_init (void)
{
  log_set_level (LOG_LEVEL_ERROR);
  static const char *const vars[] = { "OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD",
    "OS_PROJECT_NAME", "OS_PROJECT_ID", "OS_TOKEN", "OS_REGION_NAME", "OS_INSECURE",
    "OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_SECRET", NULL };
  for (size_t i = 0; vars[i]; i++)
    unsetenv (vars[i]);
  clouds_path = fuzz_path ("clouds.yaml");
  secure_path = fuzz_path ("secure.yaml");
  setenv ("OS_CLIENT_CONFIG_FILE", clouds_path, 1);
  setenv ("OS_CLIENT_SECURE_FILE", secure_path, 1);
}

static void
resolve (const char *key, const char *name)
{
  struct config *cfg = config_new ();
  json_t *v = json_string (name);
  json_t *vars = json_pack ("{s:o}", key, v);
  char *err = NULL;
  json_t *cloud;

  if (vars && config_add_json (cfg, vars, "fuzz") == 0) {
    cloud = clouds_resolve (cfg, &err);
    if (cloud) {
      json_t *shown = redact_json (cloud);
      free (json_dumps (shown, JSON_COMPACT));
      json_decref (shown);
      json_decref (cloud);
    }
    free (err);
  }
  json_decref (vars);
  config_free (cfg);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char mark[] = "\n# secure.yaml\n";
  const uint8_t *sec = size >= sizeof mark - 1 ? memmem (data, size, mark, sizeof mark - 1) : NULL;
  size_t clen = sec ? (size_t) (sec - data) + 1 : size;
  char *names[4];
  size_t n = 0;

  fuzz_write_file (clouds_path, data, clen);
  if (sec)
    fuzz_write_file (secure_path, sec + sizeof mark - 1, size - clen - (sizeof mark - 2));
  else
    unlink (secure_path);

  /* The names of the clouds, read as ferry reads the file. */
  {
    char *err = NULL;
    json_t *doc = yaml_parse_file (clouds_path, &err);
    const char *k;
    json_t *v;
    json_object_foreach (json_object_get (doc, "clouds"), k, v)
      if (n < 4 && (names[n] = strdup (k)) != NULL)
        n++;
    json_decref (doc);
    free (err);
  }
  if (n == 0)
    names[n++] = strdup ("openstack");
  for (size_t i = 0; i < n; i++)
    resolve ("dst_cloud", names[i]);
  resolve ("os_cloud_environ", names[0]);
  for (size_t i = 0; i < n; i++)
    free (names[i]);
  redact_clear ();
  return 0;
}
