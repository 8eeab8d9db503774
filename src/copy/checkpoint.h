/* ferry: the --checkpoint file (see checkpoint.c for the format and why a
 * crash never marks unfinished data as done). */
#ifndef FERRY_COPY_CHECKPOINT_H
#define FERRY_COPY_CHECKPOINT_H

#include "copy/rw.h"

struct checkpoint;

/* Open or create the file for a copy of a size-byte disk over the areas
 * whose ranges_hash is hash; append the ranges already done to *done
 * (normalized).  Returns 0 or a FERRY_EXIT_* code after logging. */
int checkpoint_open (const char *path, uint64_t size, uint32_t hash, range_vector *done,
                     struct checkpoint **out);
/* Durably record finished ranges: call only after their data was written
 * and the destination flushed.  Thread-safe.  Returns 0 or -1 after logging. */
int checkpoint_record (struct checkpoint *c, const struct copy_range *ranges, size_t n);
void checkpoint_close (struct checkpoint *c);

#endif
