/* Unit tests: configuration merge order, key aliases, types, typos. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/yaml.h"
#include "common/log.h"
#include "common/redact.h"

static char *
write_tmp (const char *content)
{
  char *path = strdup ("/tmp/ferry-test-XXXXXX.yml");
  int fd = mkstemps (path, 4);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, content, strlen (content)), (ssize_t) strlen (content));
  close (fd);
  return path;
}

static char *
add_file_arg (struct config *cfg, const char *content, int *r)
{
  char *path = write_tmp (content);
  char arg[300];
  snprintf (arg, sizeof arg, "@%s", path);
  *r = config_add_arg (cfg, arg);
  return path;
}

static void
test_later_wins (void **state)
{
  struct config *cfg = config_new ();
  int r;
  char *a = add_file_arg (cfg, "vcenter_hostname: a.example\nvms_list: [x]\n", &r);
  assert_int_equal (r, 0);
  char *b = add_file_arg (cfg, "vcenter_hostname: b.example\n", &r);
  assert_int_equal (r, 0);
  /* b overrides a key by key; vms_list from a stays. */
  assert_string_equal (config_get_string (cfg, "vcenter_hostname"), "b.example");
  assert_int_equal (json_array_size (config_get (cfg, "vms_list")), 1);
  /* -e key=value after files wins too. */
  assert_int_equal (config_add_arg (cfg, "vcenter_hostname=c.example"), 0);
  assert_string_equal (config_get_string (cfg, "vcenter_hostname"), "c.example");
  /* And a file after it wins again. */
  char *c = add_file_arg (cfg, "vcenter_hostname: d.example\n", &r);
  assert_string_equal (config_get_string (cfg, "vcenter_hostname"), "d.example");
  unlink (a); unlink (b); unlink (c);
  free (a); free (b); free (c);
  config_free (cfg);
  (void) state;
}

static void
test_scalar_types (void **state)
{
  struct config *cfg = config_new ();

  assert_int_equal (config_add_arg (cfg, "skip_conversion=true"), 0);
  assert_true (json_is_true (config_get (cfg, "skip_conversion")));
  assert_true (config_get_bool (cfg, "skip_conversion"));
  assert_int_equal (config_add_arg (cfg, "cbt_sync=yes"), 0);
  assert_true (config_get_bool (cfg, "cbt_sync"));
  assert_int_equal (config_add_arg (cfg, "parallel=4"), 0);
  assert_int_equal (config_get_int (cfg, "parallel"), 4);
  /* A quoted value is a string, even if it looks like a boolean. */
  assert_int_equal (config_add_arg (cfg, "ssh_key_name='true'"), 0);
  assert_string_equal (config_get_string (cfg, "ssh_key_name"), "true");
  /* A string key given a number keeps it as text (ids that look numeric). */
  assert_int_equal (config_add_arg (cfg, "flavor_uuid=12345"), 0);
  assert_string_equal (config_get_string (cfg, "flavor_uuid"), "12345");
  /* Defaults apply when unset. */
  assert_true (config_get_bool (cfg, "use_existing_flavor"));
  assert_false (config_get_bool (cfg, "cutover"));
  assert_string_equal (config_get_string (cfg, "os_migrate_vmw_data_dir"), "/opt/os-migrate");
  config_free (cfg);
  (void) state;
}

static void
test_wrong_type (void **state)
{
  struct config *cfg = config_new ();

  assert_int_equal (config_add_arg (cfg, "use_existing_flavor=maybe"), -1);
  assert_int_equal (cfg->errors, 1);
  assert_null (config_get (cfg, "use_existing_flavor"));
  assert_int_equal (config_add_arg (cfg, "network_map=[a, b]"), -1);
  assert_int_equal (config_add_arg (cfg, "vms_list={a: b}"), -1);
  assert_int_equal (cfg->errors, 3);
  config_free (cfg);
  (void) state;
}

static void
test_prefixed_aliases (void **state)
{
  struct config *cfg = config_new ();
  int r;
  /* The seed guide's names. */
  char *f = add_file_arg (cfg,
                          "import_workloads_cbt_sync: true\n"
                          "import_workloads_cutover: false\n"
                          "import_workloads_local_disk_path: /srv/nfs\n"
                          "vddk_libdir: /opt/vddk\n"
                          "vms: [a, b]\n"
                          "conversion_host_id: 1234-abcd\n", &r);
  assert_int_equal (r, 0);
  assert_true (config_get_bool (cfg, "cbt_sync"));
  assert_false (config_get_bool (cfg, "cutover"));
  assert_string_equal (config_get_string (cfg, "local_disk_path"), "/srv/nfs");
  assert_string_equal (config_get_string (cfg, "libdir"), "/opt/vddk");
  assert_int_equal (json_array_size (config_get (cfg, "vms_list")), 2);
  assert_string_equal (config_get_string (cfg, "instance_uuid"), "1234-abcd");
  unlink (f); free (f);

  /* Within one source the prefixed name wins over the short one,
   * whatever the order in the file. */
  f = add_file_arg (cfg, "import_workloads_debug: true\ndebug: false\n", &r);
  assert_true (config_get_bool (cfg, "debug"));
  unlink (f); free (f);
  /* Across sources the later one wins. */
  assert_int_equal (config_add_arg (cfg, "debug=false"), 0);
  assert_false (config_get_bool (cfg, "debug"));
  assert_non_null (config_lookup_key ("import_workloads_cbt_sync"));
  assert_null (config_lookup_key ("import_workloads_vcenter_hostname"));
  config_free (cfg);
  (void) state;
}

static void
test_unknown_key_kept (void **state)
{
  struct config *cfg = config_new ();
  assert_int_equal (config_add_arg (cfg, "vms_lst=x"), 0);   /* warning, not error */
  assert_int_equal (cfg->errors, 0);
  assert_non_null (json_object_get (cfg->vars, "vms_lst"));
  config_free (cfg);
  (void) state;
}

static void
test_security_groups_forms (void **state)
{
  struct config *cfg = config_new ();
  json_t *l;

  assert_int_equal (config_add_arg (cfg, "security_groups=a, b"), 0);
  l = config_get_strings (cfg, "security_groups");
  assert_int_equal (json_array_size (l), 2);
  assert_string_equal (json_string_value (json_array_get (l, 1)), "b");
  json_decref (l);
  assert_int_equal (config_add_arg (cfg, "security_groups=[x, y, z]"), 0);
  l = config_get_strings (cfg, "security_groups");
  assert_int_equal (json_array_size (l), 3);
  json_decref (l);
  config_free (cfg);
  (void) state;
}

static void
test_require (void **state)
{
  struct config *cfg = config_new ();
  const char *const need[] = { "vcenter_hostname|esxi_hostname", "vcenter_username", NULL };

  assert_int_equal (config_require (cfg, need), -1);
  assert_int_equal (config_add_arg (cfg, "esxi_hostname=h"), 0);
  assert_int_equal (config_add_arg (cfg, "vcenter_username=u"), 0);
  assert_int_equal (config_require (cfg, need), 0);
  config_free (cfg);
  (void) state;
}

static void
test_malformed_file (void **state)
{
  struct config *cfg = config_new ();
  int r;
  char *f = add_file_arg (cfg, "a: 1\nb: [1, 2\nc: 3\n", &r);
  assert_int_equal (r, -1);
  assert_int_equal (cfg->errors, 1);
  unlink (f); free (f);
  config_free (cfg);
  (void) state;
}

static void
test_top_not_mapping (void **state)
{
  struct config *cfg = config_new ();
  int r;
  char *f = add_file_arg (cfg, "- a\n- b\n", &r);
  assert_int_equal (r, -1);
  unlink (f); free (f);
  config_free (cfg);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_later_wins),
    cmocka_unit_test (test_scalar_types),
    cmocka_unit_test (test_wrong_type),
    cmocka_unit_test (test_prefixed_aliases),
    cmocka_unit_test (test_unknown_key_kept),
    cmocka_unit_test (test_security_groups_forms),
    cmocka_unit_test (test_require),
    cmocka_unit_test (test_malformed_file),
    cmocka_unit_test (test_top_not_mapping),
  };
  int r;

  log_set_level (LOG_LEVEL_ERROR + (getenv ("TEST_VERBOSE") ? 3 : 0));
  r = cmocka_run_group_tests (tests, NULL, NULL);
  redact_clear ();
  return r;
}
