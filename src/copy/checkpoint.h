/* ferry: the --checkpoint file (see checkpoint.c for the format, why a
 * crash or a signal never marks unwritten data as done, and how a
 * checkpoint is bound to the destination it describes). */
#ifndef FERRY_COPY_CHECKPOINT_H
#define FERRY_COPY_CHECKPOINT_H

#include "copy/rw.h"

/* Bytes of a finished unit read back on resume to prove that the
 * destination still holds what was written there. */
#define CHECKPOINT_SAMPLE_MAX 4096
/* At most this many samples are read back on resume (spread evenly). */
#define CHECKPOINT_SAMPLES_CHECKED 64

/* What the destination held right after a unit was written: the crc32 of
 * length bytes at offset (length 0: no sample, nothing was written). */
struct checkpoint_sample {
  uint64_t offset;
  uint32_t length;
  uint32_t crc;
};

/* A finished unit and its sample. */
struct checkpoint_entry {
  struct copy_range range;
  struct checkpoint_sample sample;
};
DEFINE_VECTOR_TYPE (checkpoint_entry_vector, struct checkpoint_entry)

struct checkpoint;

/* What an existing file says. */
struct checkpoint_contents {
  range_vector done;                  /* normalized */
  checkpoint_entry_vector entries;    /* as recorded, with samples */
  char *dst_identity;                 /* NULL if the file names none */
};
void checkpoint_contents_reset (struct checkpoint_contents *cc);

/* Open or create the file for a copy of a size-byte disk over the areas
 * whose ranges_hash is hash, to the destination dst_identity (NULL: not
 * known; recorded in a new file).  Fills *cc from an existing file.
 * Returns 0 or a FERRY_EXIT_* code after logging; *stale is set (and 0
 * returned, the file left as it is) when the file can't be trusted: an
 * older format.  Callers then checkpoint_reset or refuse. */
int checkpoint_open (const char *path, uint64_t size, uint32_t hash,
                     const char *dst_identity, struct checkpoint_contents *cc,
                     bool *stale, struct checkpoint **out);
/* Forget everything recorded: the file holds only a new header. */
int checkpoint_reset (struct checkpoint *c);
/* Durably record finished units: call only after their data was written
 * and the destination flushed.  Thread-safe.  Returns 0 or -1 after logging. */
int checkpoint_record (struct checkpoint *c, const struct checkpoint_entry *e, size_t n);
const char *checkpoint_path (const struct checkpoint *c);
void checkpoint_close (struct checkpoint *c);

#endif
