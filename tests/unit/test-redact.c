/* Unit tests: the one redaction mechanism. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/redact.h"
#include "common/log.h"

static int
teardown (void **state)
{
  redact_clear ();
  (void) state;
  return 0;
}

static void
check (const char *in, const char *want)
{
  char *out = redact_string (in);
  assert_non_null (out);
  if (strcmp (out, want) != 0)
    fail_msg ("redact_string(\"%s\")\n  got  \"%s\"\n  want \"%s\"", in, out, want);
  free (out);
}

static void
test_registered_secrets (void **state)
{
  redact_add_secret ("S3cr3t!pw");
  check ("login with S3cr3t!pw failed", "login with *** failed");
  check ("twice S3cr3t!pwS3cr3t!pw", "twice ******");
  /* Too short to register: not masked (documented limit). */
  redact_add_secret ("ab");
  check ("ab cd", "ab cd");
  /* The longest registered secret wins. */
  redact_add_secret ("S3cr3t!pw-and-more");
  check ("x S3cr3t!pw-and-more y", "x *** y");
  /* A short secret that is a common word is masked where it stands alone,
   * not inside other words (a warning about "the vCenter password" stays
   * readable); long secrets are masked anywhere. */
  redact_add_secret ("pass");
  check ("the vCenter password was refused", "the vCenter password was refused");
  check ("password=pass user=x", "password=*** user=x");
  check ("login with pass failed: 'pass'", "login with *** failed: '***'");
  check ("https://u:pass@h/", "https://u:***@h/");
  check ("xS3cr3t!pwx", "x***x");
  (void) state;
}

static void
test_carriers (void **state)
{
  check ("Cookie: vmware_soap_session=\"abc\"", "Cookie: ***");
  /* libcurl's cookie engine, before the cookie is registered as a secret. */
  check ("* Added cookie vmware_soap_session=\"52c1-ab\" for domain h, path /, expire 0",
         "* Added cookie vmware_soap_session=*** for domain h, path /, expire 0");
  check ("* Replaced cookie vmware_soap_session=52c1-ab for domain h",
         "* Replaced cookie vmware_soap_session=*** for domain h");
  check ("vmware_soap_session=\"52c1-ab\"", "vmware_soap_session=\"***\"");
  check ("> X-Auth-Token: gAAAAABk123\r\n> Accept: */*",
         "> X-Auth-Token: ***\r\n> Accept: */*");
  check ("X-Subject-Token: tok", "X-Subject-Token: ***");
  check ("url https://user:hunter22@host/sdk", "url https://user:***@host/sdk");
  check ("<userName>root</userName><password>pw1234</password>",
         "<userName>root</userName><password>***</password>");
  check ("<vim25:password>pw1234</vim25:password>",
         "<vim25:password>***</vim25:password>");
  check ("{\"password\": \"pw1234\", \"user\": \"x\"}",
         "{\"password\": \"***\", \"user\": \"x\"}");
  check ("vcenter_password=pw1234 other=1", "vcenter_password=*** other=1");
  check ("nbdkit vddk password=+/run/pw user=root", "nbdkit vddk password=*** user=root");
  /* Prose naming a key is not a secret. */
  check ("key 'vcenter_password': expected a string", "key 'vcenter_password': expected a string");
  check ("no secrets here", "no secrets here");
  (void) state;
}

static void
test_json (void **state)
{
  json_t *in = json_pack ("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:s}",
                          "vcenter_password", "pw1",
                          "dst_cloud", "password", "pw2", "username", "admin",
                          "application_credential_secret", "acs",
                          "list", "token", "tok",
                          "note", "contains pw-registered-value");
  redact_add_secret ("pw-registered-value");
  json_t *out = redact_json (in);
  assert_string_equal (json_string_value (json_object_get (out, "vcenter_password")), "***");
  json_t *dc = json_object_get (out, "dst_cloud");
  assert_string_equal (json_string_value (json_object_get (dc, "password")), "***");
  assert_string_equal (json_string_value (json_object_get (dc, "username")), "admin");
  assert_string_equal (json_string_value (json_object_get (dc, "application_credential_secret")),
                       "***");
  assert_string_equal (json_string_value (json_object_get (json_array_get (json_object_get (out, "list"), 0), "token")), "***");
  assert_string_equal (json_string_value (json_object_get (out, "note")), "contains ***");
  /* The input is untouched. */
  assert_string_equal (json_string_value (json_object_get (in, "vcenter_password")), "pw1");
  json_decref (in);
  json_decref (out);
  (void) state;
}

static void
test_secrets_from_json (void **state)
{
  json_t *in = json_pack ("{s:{s:{s:s}}}", "dst_cloud", "auth", "password", "deep-secret-1");
  redact_add_secrets_from_json (in);
  check ("echo deep-secret-1", "echo ***");
  json_decref (in);
  (void) state;
}

static void
test_argv_check (void **state)
{
  char *ok[] = { "nbdkit", "vddk", "password=+/run/ferry/pw", NULL };
  char *bad[] = { "nbdkit", "vddk", "password=argv-secret", NULL };
  int idx = -1;

  redact_add_secret ("argv-secret");
  assert_int_equal (redact_argv_check (ok, &idx), 0);
  assert_int_equal (redact_argv_check (bad, &idx), -1);
  assert_int_equal (idx, 2);
  (void) state;
}

static void
test_log_lines_redacted (void **state)
{
  char path[] = "/tmp/ferry-log-XXXXXX";
  int fd = mkstemp (path);
  char buf[512] = { 0 };
  FILE *fp;

  assert_true (fd >= 0);
  close (fd);
  redact_add_secret ("log-secret-9");
  assert_int_equal (log_open_file (path), 0);
  log_set_level (LOG_LEVEL_ERROR);         /* stderr quiet; the file gets all */
  log_info ("connecting with log-secret-9 to https://u:log-secret-9@h/");
  log_debug ("Cookie: vmware_soap_session=abcdef");
  log_close_file ();
  fp = fopen (path, "r");
  assert_non_null (fp);
  assert_true (fread (buf, 1, sizeof buf - 1, fp) > 0);
  fclose (fp);
  unlink (path);
  assert_null (strstr (buf, "log-secret-9"));
  assert_null (strstr (buf, "abcdef"));
  assert_non_null (strstr (buf, "connecting with ***"));
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown (test_registered_secrets, teardown),
    cmocka_unit_test_teardown (test_carriers, teardown),
    cmocka_unit_test_teardown (test_json, teardown),
    cmocka_unit_test_teardown (test_secrets_from_json, teardown),
    cmocka_unit_test_teardown (test_argv_check, teardown),
    cmocka_unit_test_teardown (test_log_lines_redacted, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
