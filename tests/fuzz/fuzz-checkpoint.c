/* Fuzz target for the --checkpoint file (format 2, see the comment at the
 * top of src/copy/checkpoint.c): the input is the file's content;
 * checkpoint_open reads it for a copy of the size and areas hash its
 * header names (so that inputs get past the header check; a header that
 * names none gets 1 GiB and hash 0), then, as copy.c does, the remaining
 * work is computed; then one unit is recorded and the file opened again,
 * which must read back every unit read the first time and the new one last
 * (a torn last line that only lacked its newline may count once it has it).
 * Corpus: tests/fuzz/corpus/checkpoint. */
#include <inttypes.h>
#include <zlib.h>

#include "copy/checkpoint.h"
#include "copy/rw.h"
#include "common/log.h"

#define FUZZ_FLIP_CHARS " \n0f-=D\0x9"
#include "fuzz-common.h"

static char *path;

static void
target_init (void)
{
  log_set_level (LOG_LEVEL_ERROR);
  path = fuzz_path ("checkpoint");
}

static bool
same_entry (const struct checkpoint_entry *a, const struct checkpoint_entry *b)
{
  return a->range.start == b->range.start && a->range.length == b->range.length &&
    a->sample.offset == b->sample.offset && a->sample.length == b->sample.length &&
    a->sample.crc == b->sample.crc;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_cstring (data, size);
  uint64_t dsize = UINT64_C (1) << 30;
  unsigned hash = 0;
  struct checkpoint_contents cc = { .done = empty_vector, .entries = empty_vector };
  struct checkpoint *c = NULL;
  bool stale = false;
  size_t first_count;

  {
    uint64_t s;
    unsigned h;
    if (sscanf (text, "ferry-checkpoint %*u size=%" SCNu64 " areas=%x", &s, &h) == 2) {
      dsize = s;
      hash = h;
    }
  }
  free (text);
  fuzz_write_file (path, data, size);
  if (checkpoint_open (path, dsize, hash, "volume-1", &cc, &stale, &c) != 0) {
    checkpoint_contents_reset (&cc);
    return 0;
  }
  if (stale) {
    checkpoint_close (c);
    checkpoint_contents_reset (&cc);
    return 0;
  }
  /* What copy.c does with the answer: the work left. */
  {
    range_vector work = empty_vector, todo = empty_vector;
    if (dsize && range_vector_append (&work, (struct copy_range) { 0, dsize }) == -1)
      abort ();
    if (ranges_subtract (&work, &cc.done, &todo) == -1)
      abort ();
    if (ranges_total (&todo) + ranges_total (&cc.done) != dsize) {
      fuzz_report ("fuzz-checkpoint: done %" PRIu64 " + todo %" PRIu64 " != size %"
               PRIu64 "\n", ranges_total (&cc.done), ranges_total (&todo), dsize);
      abort ();
    }
    range_vector_reset (&work);
    range_vector_reset (&todo);
  }
  first_count = cc.entries.len;
  checkpoint_contents_reset (&cc);
  /* Record one unit, open again: everything read before, and the unit. */
  if (dsize > 0) {
    static const unsigned char zero[4096];
    uint32_t len = dsize < sizeof zero ? (uint32_t) dsize : (uint32_t) sizeof zero;
    struct checkpoint_entry e = {
      .range = { 0, len },
      .sample = { 0, len, (uint32_t) crc32 (crc32 (0, NULL, 0), zero, len) },
    };
    if (checkpoint_record (c, &e, 1) != 0)
      abort ();
    checkpoint_close (c);
    c = NULL;
    int r = checkpoint_open (path, dsize, hash, "volume-1", &cc, &stale, &c);
    if (r != 0 || stale) {
      fuzz_report ("fuzz-checkpoint: after recording one unit, the file no longer opens "
                   "(%s %d)\n", stale ? "stale" : "exit code", r);
      abort ();
    }
    if (cc.entries.len < first_count + 1 ||
        !same_entry (&cc.entries.ptr[cc.entries.len - 1], &e)) {
      fuzz_report ("fuzz-checkpoint: after recording one unit, the file reads back "
                   "%zu units (%zu before), the last not the one recorded\n",
                   cc.entries.len, first_count);
      abort ();
    }
  }
  checkpoint_close (c);
  checkpoint_contents_reset (&cc);
  return 0;
}
