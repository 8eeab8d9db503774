/* ferry: the disk copy engine (public API).
 *
 * One engine for full copies and CBT deltas: copy_run() copies SRC to DST,
 * where each is an endpoint named by a string -- an NBD URI (nbd://,
 * nbd+unix:///?socket=...) or a local path (regular file or block device).
 * Several worker threads, one per connection, each keep many asynchronous
 * requests in flight.  Only what matters is copied: extents from NBD block
 * status when offered, zero detection otherwise; zero runs become holes,
 * zero requests or nothing (destination known to be zero).
 *
 * The `ferry copy` command is a thin layer over this; the migration
 * workflow calls it directly (ranges from QueryChangedDiskAreas go in
 * copy_options.ranges).
 *
 * Endpoint kinds (nbd, file, block device) live behind struct rw_ops in
 * src/copy/rw.h; new kinds (vSphere sources) are added there. */
#ifndef FERRY_COPY_H
#define FERRY_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

/* Defaults, chosen by measurement (bench/copy, see bench/README.md). */
#define COPY_DEFAULT_CONNECTIONS 4
#define COPY_DEFAULT_REQUESTS 16
#define COPY_DEFAULT_REQUEST_SIZE (256 * 1024)
#define COPY_DEFAULT_RETRIES 5
#define COPY_DEFAULT_RETRY_DELAY_MS 100
#define COPY_DEFAULT_CHECKPOINT_INTERVAL_MS 2000
#define COPY_MAX_CONNECTIONS 64
#define COPY_MAX_REQUESTS 1024
#define COPY_MIN_REQUEST_SIZE 4096
#define COPY_MAX_REQUEST_SIZE (32 * 1024 * 1024)

/* An area of the disk, in bytes. */
struct copy_range {
  uint64_t start;
  uint64_t length;
};

struct copy_progress {
  uint64_t bytes_done;        /* of total, this run and earlier runs (checkpoint) */
  uint64_t total;             /* bytes to copy: the disk or the sum of the extents */
  double elapsed;             /* seconds since the start of this run */
  double rate;                /* bytes per second over the last interval */
  double eta;                 /* seconds, < 0 if unknown */
  bool final;                 /* last call, after the copy (before verify) */
};

typedef void (*copy_progress_fn) (void *opaque, const struct copy_progress *p);

struct http_tls;

struct copy_options {
  const char *src;            /* NBD URI, https:// URL (read by ferry itself) or local path */
  /* An https:// source: its TLS checks (as ferry's vCenter connection:
   * CA file, system store or pinned thumbprint) and the cookie
   * ("name=value") sent with each range request. */
  const struct http_tls *src_tls;
  const char *src_cookie;
  const char *dst;            /* NBD URI, local file (created if missing) or block device */

  /* Areas to copy (CBT changed areas).  At most one of the two; neither:
   * the whole disk.  Areas may be unsorted and overlap. */
  const char *extents_file;   /* JSON [{"start":N,"length":N},...] */
  const struct copy_range *ranges;
  size_t nranges;

  const char *checkpoint_file; /* NULL: no checkpoint */
  unsigned checkpoint_interval_ms; /* 0: default */
  /* What the destination is, when the caller knows it for sure (a Cinder
   * volume id): recorded in a new checkpoint, compared with an existing
   * one.  NULL: the checkpoint is bound by its samples only. */
  const char *dst_identity;
  /* A checkpoint that does not match the destination (another identity,
   * samples not found there, an old format): true: forget it and copy
   * everything (right for a whole-disk copy); false: refuse with
   * FERRY_EXIT_USAGE.  Either way stats->checkpoint_mismatch is set. */
  bool checkpoint_restart;

  bool destination_is_zero;   /* zero areas need not be written */
  bool no_extents;            /* don't ask the source for extents (block status) */
  bool verify;                /* compare source and destination afterwards */

  unsigned connections;       /* 0: default */
  unsigned requests;          /* in flight per connection; 0: default */
  size_t request_size;        /* bytes; 0: default */
  unsigned retries;           /* per request after the first attempt; default if
                               * retries_set is false */
  bool retries_set;
  unsigned retry_delay_ms;    /* first backoff, doubled each time; 0: default */

  /* Called from the thread running copy_run about every
   * progress_interval_ms (default 1000), and once with final = true. */
  copy_progress_fn progress;
  void *progress_opaque;
  unsigned progress_interval_ms;

  /* If not NULL and set to true (e.g. from a signal handler), the copy
   * stops issuing requests, finishes those in flight, records the
   * checkpoint and copy_run returns FERRY_EXIT_INTERRUPTED. */
  atomic_bool *cancel;
};

struct copy_stats {
  uint64_t size;              /* source size */
  uint64_t total;             /* bytes in the areas to copy */
  uint64_t done_before;       /* of total, found done in the checkpoint */
  bool checkpoint_mismatch;   /* the checkpoint did not match the destination */
  uint64_t processed;         /* of total, handled by this run */
  uint64_t bytes_read;        /* read from the source */
  uint64_t bytes_written;     /* data written to the destination */
  uint64_t bytes_zeroed;      /* zero requests / holes punched on the destination */
  uint64_t bytes_skipped;     /* zero areas not written (destination known zero) */
  uint64_t retries;           /* requests retried after a transient error */
  unsigned connections;       /* worker threads / connections used */
  double seconds;             /* wall time of the copy (without verify) */
  bool verified;              /* verify ran to the end */
  uint64_t verify_bytes;      /* bytes compared */
  uint64_t verify_mismatches; /* chunks that differ */
  uint64_t verify_first_mismatch; /* offset of the first one */
};

/* Fill in the defaults. */
void copy_options_init (struct copy_options *opts);

/* Copy.  Returns FERRY_EXIT_OK, FERRY_EXIT_USAGE (bad argument: nothing was
 * copied), FERRY_EXIT_DATA (read, write, flush or verify failed) or
 * FERRY_EXIT_INTERRUPTED.  Errors are logged through log.h, naming the
 * endpoint and the offset.  stats may be NULL. */
int copy_run (const struct copy_options *opts, struct copy_stats *stats);

/* Parse a JSON extents document / file into sorted, merged ranges.
 * Returns 0, or -1 after logging an error naming the file (what). */
int copy_parse_extents (const char *json_text, const char *what,
                        struct copy_range **ranges, size_t *n);
int copy_load_extents (const char *path, struct copy_range **ranges, size_t *n);

/* Progress renderers used by `ferry copy`: a one-line bar (\r-updated on a
 * TTY) and one JSON object per line. */
void copy_progress_print_bar (const struct copy_progress *p, bool tty);
void copy_progress_print_json (const struct copy_progress *p);

/* Human-readable sizes ("1.5 GiB"), into buf of at least 16 bytes. */
const char *copy_human_size (uint64_t bytes, char *buf, size_t len);

#endif
