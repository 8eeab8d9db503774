/* Unit tests: where the OpenStack credentials come from (clouds.yaml,
 * secure.yaml, OS_CLOUD, OS_* variables, dst_cloud). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/clouds.h"
#include "config/config.h"
#include "common/log.h"
#include "common/redact.h"

static char dir[] = "/tmp/ferry-clouds-XXXXXX";
static char clouds_path[300], secure_path[300];

static const char *const os_vars[] = {
  "OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME",
  "OS_PROJECT_ID", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_DOMAIN_NAME",
  "OS_REGION_NAME", "OS_INTERFACE", "OS_APPLICATION_CREDENTIAL_ID",
  "OS_APPLICATION_CREDENTIAL_SECRET", "OS_CLIENT_SECURE_FILE", "OS_INSECURE",
  "OS_TENANT_NAME", "OS_USER_ID", NULL
};

static void
write_file (const char *path, const char *s)
{
  FILE *fp = fopen (path, "w");
  assert_non_null (fp);
  fputs (s, fp);
  fclose (fp);
}

static int
setup (void **state)
{
  for (size_t i = 0; os_vars[i]; i++)
    unsetenv (os_vars[i]);
  if (mkdtemp (dir) == NULL)
    return -1;
  snprintf (clouds_path, sizeof clouds_path, "%s/clouds.yaml", dir);
  snprintf (secure_path, sizeof secure_path, "%s/secure.yaml", dir);
  write_file (clouds_path,
              "clouds:\n"
              "  lab:\n"
              "    auth:\n"
              "      auth_url: http://127.0.0.1:5000/v3\n"
              "      username: ferry\n"
              "      project_name: ferry-migration\n"
              "      user_domain_name: Default\n"
              "      project_domain_name: Default\n"
              "    region_name: RegionOne\n"
              "    interface: internal\n"
              "    identity_api_version: '3'\n"
              "    verify: false\n"
              "  appcred:\n"
              "    auth_type: v3applicationcredential\n"
              "    auth:\n"
              "      auth_url: https://keystone.example:5000/v3\n"
              "      application_credential_id: abc\n"
              "      application_credential_secret: appcred-secret-xyz\n");
  write_file (secure_path,
              "clouds:\n"
              "  lab:\n"
              "    auth:\n"
              "      password: from-secure-yaml\n");
  setenv ("OS_CLIENT_CONFIG_FILE", clouds_path, 1);
  setenv ("OS_CLIENT_SECURE_FILE", secure_path, 1);
  (void) state;
  return 0;
}

static int
teardown (void **state)
{
  unlink (clouds_path);
  unlink (secure_path);
  rmdir (dir);
  redact_clear ();
  (void) state;
  return 0;
}

static json_t *
resolve (struct config *cfg, char **err)
{
  *err = NULL;
  return clouds_resolve (cfg, err);
}

static void
test_named_cloud (void **state)
{
  struct config *cfg = config_new ();
  char *err;
  json_t *c;

  assert_int_equal (config_add_arg (cfg, "dst_cloud=lab"), 0);
  c = resolve (cfg, &err);
  assert_non_null (c);
  json_t *auth = json_object_get (c, "auth");
  assert_string_equal (json_string_value (json_object_get (auth, "auth_url")),
                       "http://127.0.0.1:5000/v3");
  /* secure.yaml merged in. */
  assert_string_equal (json_string_value (json_object_get (auth, "password")),
                       "from-secure-yaml");
  assert_string_equal (json_string_value (json_object_get (c, "interface")), "internal");
  assert_int_equal (json_integer_value (json_object_get (c, "identity_api_version")), 3);
  /* verify: false means insecure. */
  assert_true (json_is_true (json_object_get (c, "insecure")));
  assert_string_equal (json_string_value (json_object_get (c, "auth_type")), "password");
  assert_string_equal (json_string_value (json_object_get (c, "cloud")), "lab");
  json_decref (c);
  config_free (cfg);
  (void) state;
}

static void
test_os_cloud_env (void **state)
{
  struct config *cfg = config_new ();
  char *err;
  json_t *c;

  setenv ("OS_CLOUD", "appcred", 1);
  c = resolve (cfg, &err);
  assert_non_null (c);
  assert_string_equal (json_string_value (json_object_get (c, "auth_type")),
                       "v3applicationcredential");
  assert_false (json_is_true (json_object_get (c, "insecure")));
  assert_string_equal (json_string_value (json_object_get (c, "interface")), "public");
  json_decref (c);
  /* os_cloud_environ (os-migrate's legacy name) wins over OS_CLOUD. */
  assert_int_equal (config_add_arg (cfg, "os_cloud_environ=lab"), 0);
  c = resolve (cfg, &err);
  assert_string_equal (json_string_value (json_object_get (c, "cloud")), "lab");
  json_decref (c);
  unsetenv ("OS_CLOUD");
  config_free (cfg);
  (void) state;
}

static void
test_unknown_cloud (void **state)
{
  struct config *cfg = config_new ();
  char *err;

  assert_int_equal (config_add_arg (cfg, "dst_cloud=lap"), 0);
  assert_null (resolve (cfg, &err));
  assert_non_null (err);
  assert_non_null (strstr (err, "no cloud named 'lap'"));
  assert_non_null (strstr (err, "did you mean 'lab'"));
  free (err);
  config_free (cfg);
  (void) state;
}

static void
test_env_only (void **state)
{
  struct config *cfg = config_new ();
  char *err;
  json_t *c;

  unsetenv ("OS_CLIENT_CONFIG_FILE");
  assert_null (resolve (cfg, &err));      /* nothing configured */
  assert_null (err);
  /* The seed's "outside of Ansible" variables. */
  setenv ("OS_AUTH_URL", "https://keystone.example/v3", 1);
  setenv ("OS_PROJECT_NAME", "admin", 1);
  setenv ("OS_PASSWORD", "env-password-1", 1);
  setenv ("OS_USERNAME", "admin", 1);
  setenv ("OS_DOMAIN_NAME", "Default", 1);
  setenv ("OS_PROJECT_ID", "xyz", 1);
  c = resolve (cfg, &err);
  assert_non_null (c);
  json_t *auth = json_object_get (c, "auth");
  assert_string_equal (json_string_value (json_object_get (auth, "user_domain_name")), "Default");
  assert_string_equal (json_string_value (json_object_get (auth, "project_domain_name")),
                       "Default");
  assert_string_equal (json_string_value (json_object_get (c, "source")), "environment");
  /* The password is now a registered secret. */
  char *r = redact_string ("pw env-password-1");
  assert_string_equal (r, "pw ***");
  free (r);
  json_decref (c);
  for (size_t i = 0; os_vars[i]; i++)
    unsetenv (os_vars[i]);
  setenv ("OS_CLIENT_CONFIG_FILE", clouds_path, 1);
  setenv ("OS_CLIENT_SECURE_FILE", secure_path, 1);
  config_free (cfg);
  (void) state;
}

static void
test_dict_with_env_fill (void **state)
{
  struct config *cfg = config_new ();
  char *err;
  json_t *c;

  /* dst_cloud without auth_url: the reference takes OS_AUTH_URL. */
  assert_int_equal (config_add_arg (cfg, "dst_cloud={auth: {username: u, password: p4ss}, "
                                    "region_name: r1}"), 0);
  assert_null (resolve (cfg, &err));
  assert_non_null (strstr (err, "auth_url"));
  free (err);
  setenv ("OS_AUTH_URL", "https://k.example/v3", 1);
  c = resolve (cfg, &err);
  assert_non_null (c);
  assert_string_equal (json_string_value (json_object_get (json_object_get (c, "auth"),
                                                           "auth_url")),
                       "https://k.example/v3");
  assert_string_equal (json_string_value (json_object_get (c, "region_name")), "r1");
  json_decref (c);
  /* openstack_insecure wins over the dict. */
  assert_int_equal (config_add_arg (cfg, "import_workloads_openstack_insecure=true"), 0);
  c = resolve (cfg, &err);
  assert_true (json_is_true (json_object_get (c, "insecure")));
  json_decref (c);
  unsetenv ("OS_AUTH_URL");
  config_free (cfg);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_named_cloud),
    cmocka_unit_test (test_os_cloud_env),
    cmocka_unit_test (test_unknown_cloud),
    cmocka_unit_test (test_env_only),
    cmocka_unit_test (test_dict_with_env_fill),
  };
  log_set_level (LOG_LEVEL_ERROR);
  return cmocka_run_group_tests (tests, setup, teardown);
}
