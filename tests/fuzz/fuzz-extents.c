/* Fuzz target for the --extents file (a JSON array of {"start","length"},
 * the form of vSphere CBT's changed areas): copy_parse_extents (what
 * copy_load_extents calls after reading the file), then the range
 * operations the copy runs on its answer, checking their promises: the
 * list is normalized (sorted, no empty, overlapping or adjacent areas, no
 * area past 2^64) and subtracting works.  Corpus: tests/fuzz/corpus/extents. */
#include <inttypes.h>

#include "copy/copy.h"
#include "copy/rw.h"
#include "common/log.h"

#include "fuzz-common.h"

static void
target_init (void)
{
  log_set_level (LOG_LEVEL_ERROR);
}

static void
check_normalized (const range_vector *v, const char *what)
{
  for (size_t i = 0; i < v->len; i++) {
    const struct copy_range *r = &v->ptr[i];
    if (r->length == 0 || r->start + r->length < r->start ||
        (i > 0 && v->ptr[i - 1].start + v->ptr[i - 1].length >= r->start)) {
      fuzz_report ("fuzz-extents: %s: area %zu (%" PRIu64 ", %" PRIu64 ") breaks "
               "the normalized form\n", what, i, r->start, r->length);
      abort ();
    }
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_cstring (data, size);
  struct copy_range *ranges = NULL;
  size_t n = 0;

  if (copy_parse_extents (text, "fuzz.json", &ranges, &n) == 0) {
    range_vector v = { .ptr = ranges, .len = n, .cap = n };
    range_vector whole = empty_vector, holes = empty_vector, none = empty_vector;
    uint64_t total = ranges_total (&v);

    check_normalized (&v, "copy_parse_extents");
    (void) ranges_hash (&v);
    if (n > 0) {
      /* The disk from 0 to the end of the last area, minus the areas:
       * the holes, which with the areas make up the whole. */
      uint64_t end = v.ptr[n - 1].start + v.ptr[n - 1].length;
      if (range_vector_append (&whole, (struct copy_range) { 0, end }) == -1 ||
          ranges_subtract (&whole, &v, &holes) == -1 ||
          ranges_subtract (&v, &v, &none) == -1)
        abort ();
      check_normalized (&holes, "ranges_subtract");
      if (none.len != 0 || ranges_total (&holes) + total != end) {
        fuzz_report ("fuzz-extents: ranges_subtract: %zu areas left of a list minus "
                 "itself; holes %" PRIu64 " + areas %" PRIu64 " != %" PRIu64 "\n",
                 none.len, ranges_total (&holes), total, end);
        abort ();
      }
    }
    range_vector_reset (&whole);
    range_vector_reset (&holes);
    range_vector_reset (&none);
    range_vector_reset (&v);
  }
  free (text);
  return 0;
}
