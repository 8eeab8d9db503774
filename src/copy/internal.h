/* ferry: state shared by the copy engine's parts (copy.c sets it up,
 * worker.c copies, verify.c compares). */
#ifndef FERRY_COPY_INTERNAL_H
#define FERRY_COPY_INTERNAL_H

#include <stdatomic.h>
#include <pthread.h>

#include "copy/copy.h"
#include "copy/rw.h"
#include "copy/checkpoint.h"

/* Work is handed out in units of at most this size; a unit is also the
 * granularity of the checkpoint. */
#define COPY_MAX_UNIT (32 * 1024 * 1024)
#define COPY_MIN_UNIT (1024 * 1024)
/* Units smaller than this don't ask the source for extents. */
#define COPY_EXTENTS_MIN (1024 * 1024)

struct copy {
  const struct copy_options *opts;
  struct rw *src, *dst;
  unsigned nworkers;
  unsigned requests;
  size_t request_size;
  unsigned retries;
  unsigned retry_delay_ms;
  unsigned checkpoint_interval_ms;
  bool use_extents;           /* ask the source */
  bool skip_zero;             /* destination reads as zero: don't write zero areas */

  struct copy_range *units;   /* the work, in disk order */
  size_t nunits;
  atomic_size_t next_unit;

  struct checkpoint *ckpt;    /* NULL without --checkpoint */

  /* Counters, updated by the workers. */
  atomic_uint_fast64_t processed, bytes_read, bytes_written, bytes_zeroed, bytes_skipped,
    nretries;

  atomic_bool failed;         /* stop: an error was reported */
  pthread_mutex_t lock;       /* protects exit_code */
  int exit_code;
};

/* Report the first fatal error (later ones go to the debug log). */
void copy_fail (struct copy *c, int exit_code, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
bool copy_stopping (struct copy *c);
uint64_t copy_now_ns (void);

/* The thread function: worker i copies with connection i of each side. */
struct worker_arg {
  struct copy *c;
  unsigned index;
};
void *copy_worker (void *arg);

/* Compare source and destination over the ranges; fills the verify fields
 * of stats.  Returns FERRY_EXIT_OK or FERRY_EXIT_DATA. */
int copy_verify (struct copy *c, const range_vector *ranges, struct copy_stats *stats);

/* Read back samples of the units a checkpoint records (at most
 * CHECKPOINT_SAMPLES_CHECKED, spread evenly) from the destination's first
 * connection.  *bad: the offset of the first one that differs, UINT64_MAX
 * if none.  Returns FERRY_EXIT_OK, or FERRY_EXIT_DATA if reading failed. */
int copy_check_samples (struct copy *c, const checkpoint_entry_vector *entries,
                        uint64_t *bad);

#endif
