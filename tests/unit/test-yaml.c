/* Unit tests: YAML into json_t, as PyYAML/Ansible would read it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/yaml.h"

static json_t *
parse (const char *s, char **err)
{
  return yaml_parse_string (s, strlen (s), "t.yml", err);
}

static void
test_scalars (void **state)
{
  char *err = NULL;
  json_t *j = parse ("a: yes\nb: off\nc: 42\nd: '42'\ne: ~\nf: 0x1f\ng: 1.5\n"
                     "h: 10.0.0.7\ni: \"true\"\nj: 1_000\nk: 81cc01d2-5e47\nl:\n", &err);
  assert_non_null (j);
  assert_true (json_is_true (json_object_get (j, "a")));
  assert_true (json_is_false (json_object_get (j, "b")));
  assert_int_equal (json_integer_value (json_object_get (j, "c")), 42);
  assert_string_equal (json_string_value (json_object_get (j, "d")), "42");
  assert_true (json_is_null (json_object_get (j, "e")));
  assert_int_equal (json_integer_value (json_object_get (j, "f")), 31);
  assert_true (json_is_real (json_object_get (j, "g")));
  assert_string_equal (json_string_value (json_object_get (j, "h")), "10.0.0.7");
  assert_string_equal (json_string_value (json_object_get (j, "i")), "true");
  assert_int_equal (json_integer_value (json_object_get (j, "j")), 1000);
  assert_string_equal (json_string_value (json_object_get (j, "k")), "81cc01d2-5e47");
  assert_true (json_is_null (json_object_get (j, "l")));
  json_decref (j);
  (void) state;
}

static void
test_anchors_and_merge (void **state)
{
  char *err = NULL;
  json_t *j = parse ("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n", &err);
  assert_non_null (j);
  json_t *o = json_object_get (j, "other");
  assert_int_equal (json_integer_value (json_object_get (o, "x")), 1);
  assert_int_equal (json_integer_value (json_object_get (o, "y")), 3);
  assert_int_equal (json_array_size (json_object_get (j, "list")), 2);
  json_decref (j);
  (void) state;
}

static void
test_errors_have_position (void **state)
{
  char *err = NULL;
  json_t *j = parse ("a: 1\nb: [1, 2\nc: 3\n", &err);
  assert_null (j);
  assert_non_null (err);
  /* "t.yml:LINE:COL: ..." */
  assert_true (strncmp (err, "t.yml:", 6) == 0);
  assert_true (strchr (err + 6, ':') != NULL);
  free (err);

  j = parse ("a: b: c\n", &err);
  assert_null (j);
  assert_non_null (strstr (err, "t.yml:1:"));
  free (err);

  j = parse ("$ANSIBLE_VAULT;1.1;AES256\n6162\n", &err);
  assert_null (j);
  assert_non_null (strstr (err, "ansible-vault"));
  free (err);

  j = parse ("a: 1\n---\nb: 2\n", &err);
  assert_null (j);
  assert_non_null (strstr (err, "more than one"));
  free (err);
  (void) state;
}

static void
test_empty_is_object (void **state)
{
  char *err = NULL;
  json_t *j = parse ("# only a comment\n", &err);
  assert_non_null (j);
  assert_true (json_is_object (j));
  assert_int_equal (json_object_size (j), 0);
  json_decref (j);
  (void) state;
}

static void
test_alias_bomb_refused (void **state)
{
  char *err = NULL;
  const char *bomb =
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
  json_t *j = parse (bomb, &err);
  assert_null (j);
  assert_non_null (strstr (err, "too large"));
  free (err);
  (void) state;
}

static void
test_json_input (void **state)
{
  char *err = NULL;
  json_t *j = parse ("{\"user\": \"root\", \"cbtsync\": false, \"n\": 3}", &err);
  assert_non_null (j);
  assert_true (json_is_false (json_object_get (j, "cbtsync")));
  json_decref (j);
  (void) state;
}

static void
test_dump_roundtrip (void **state)
{
  char *err = NULL;
  json_t *in = json_pack ("{s:s, s:s, s:s, s:b, s:i, s:[s,s], s:{s:s}, s:s, s:n}",
                          "plain", "hello", "looks_bool", "true", "looks_int", "42",
                          "flag", 1, "n", 7, "list", "a", "b", "map", "k", "v",
                          "star", "***", "nothing");
  char *out = yaml_dump (in);
  assert_non_null (out);
  json_t *back = parse (out, &err);
  assert_non_null (back);
  assert_true (json_equal (in, back));
  json_decref (back);
  json_decref (in);
  free (out);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_scalars),
    cmocka_unit_test (test_anchors_and_merge),
    cmocka_unit_test (test_errors_have_position),
    cmocka_unit_test (test_empty_is_object),
    cmocka_unit_test (test_alias_bomb_refused),
    cmocka_unit_test (test_json_input),
    cmocka_unit_test (test_dump_roundtrip),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
