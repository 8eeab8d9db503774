/* Unit tests: the copy engine's range lists, extents parsing, zero detection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/log.h"
#include "copy/rw.h"

static void
test_normalize (void **state)
{
  range_vector v = empty_vector;
  (void) state;
  range_vector_append (&v, (struct copy_range) { 100, 50 });
  range_vector_append (&v, (struct copy_range) { 0, 10 });
  range_vector_append (&v, (struct copy_range) { 10, 5 });   /* adjacent: merged */
  range_vector_append (&v, (struct copy_range) { 120, 100 }); /* overlaps */
  range_vector_append (&v, (struct copy_range) { 500, 0 });  /* empty: dropped */
  ranges_normalize (&v);
  assert_int_equal (v.len, 2);
  assert_int_equal (v.ptr[0].start, 0);
  assert_int_equal (v.ptr[0].length, 15);
  assert_int_equal (v.ptr[1].start, 100);
  assert_int_equal (v.ptr[1].length, 120);
  assert_int_equal (ranges_total (&v), 135);
  range_vector_reset (&v);
}

static void
test_subtract (void **state)
{
  range_vector a = empty_vector, b = empty_vector, out = empty_vector;
  (void) state;
  range_vector_append (&a, (struct copy_range) { 0, 100 });
  range_vector_append (&a, (struct copy_range) { 200, 100 });
  range_vector_append (&b, (struct copy_range) { 10, 10 });
  range_vector_append (&b, (struct copy_range) { 90, 120 });  /* spans both */
  range_vector_append (&b, (struct copy_range) { 290, 50 });
  assert_int_equal (ranges_subtract (&a, &b, &out), 0);
  assert_int_equal (out.len, 3);
  assert_int_equal (out.ptr[0].start, 0);
  assert_int_equal (out.ptr[0].length, 10);
  assert_int_equal (out.ptr[1].start, 20);
  assert_int_equal (out.ptr[1].length, 70);
  assert_int_equal (out.ptr[2].start, 210);
  assert_int_equal (out.ptr[2].length, 80);
  range_vector_reset (&a);
  range_vector_reset (&b);
  range_vector_reset (&out);
}

static void
test_parse_extents (void **state)
{
  struct copy_range *r = NULL;
  size_t n = 0;
  (void) state;
  assert_int_equal (copy_parse_extents ("[{\"start\":4096,\"length\":10},"
                                        "{\"start\":0,\"length\":512}]", "t", &r, &n), 0);
  assert_int_equal (n, 2);
  assert_int_equal (r[0].start, 0);
  assert_int_equal (r[1].start, 4096);
  free (r);
  assert_int_equal (copy_parse_extents ("[]", "t", &r, &n), 0);
  assert_int_equal (n, 0);
  free (r);
  assert_int_equal (copy_parse_extents ("[{\"start\":1}]", "t", &r, &n), -1);
  assert_int_equal (copy_parse_extents ("[{\"start\":\"1\",\"length\":1}]", "t", &r, &n), -1);
  assert_int_equal (copy_parse_extents ("[1,2]", "t", &r, &n), -1);
  assert_int_equal (copy_parse_extents ("nope", "t", &r, &n), -1);
  assert_int_equal (copy_parse_extents ("[{\"start\":9223372036854775807,"
                                        "\"length\":9223372036854775807}]", "t", &r, &n), 0);
  free (r);
}

static void
test_is_zero (void **state)
{
  char *b = calloc (1, 65536);
  (void) state;
  assert_true (is_zero (b, 65536));
  assert_true (is_zero (b, 3));
  b[65535] = 1;
  assert_false (is_zero (b, 65536));
  assert_true (is_zero (b, 65535));
  b[5] = 1;
  assert_false (is_zero (b, 10));
  free (b);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_normalize),
    cmocka_unit_test (test_subtract),
    cmocka_unit_test (test_parse_extents),
    cmocka_unit_test (test_is_zero),
  };
  log_set_level (LOG_LEVEL_ERROR + 0);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
