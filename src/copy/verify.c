/* ferry: --verify: compare source and destination over the copied areas,
 * chunk by chunk, by crc32 (zlib), with one thread per connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <zlib.h>

#include "common/error.h"
#include "common/lock.h"
#include "common/log.h"
#include "copy/internal.h"

#define VERIFY_CHUNK (1024 * 1024)
#define VERIFY_MAX_REPORTED 10

struct verify {
  struct copy *c;
  const range_vector *ranges;
  pthread_mutex_t lock;       /* the cursor and the results */
  size_t ri;
  uint64_t pos;
  uint64_t bytes, mismatches, first;
  atomic_bool failed;
};

struct varg {
  struct verify *v;
  unsigned conn;
};

/* Claim the next chunk.  Returns false at the end. */
static bool
next_chunk (struct verify *v, uint64_t *off, size_t *len)
{
  bool ok = false;

  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&v->lock);
  while (v->ri < v->ranges->len) {
    const struct copy_range *r = &v->ranges->ptr[v->ri];
    uint64_t end = r->start + r->length;
    if (v->pos < r->start)
      v->pos = r->start;
    if (v->pos >= end) {
      v->ri++;
      continue;
    }
    *off = v->pos;
    *len = end - v->pos < VERIFY_CHUNK ? (size_t) (end - v->pos) : VERIFY_CHUNK;
    v->pos += *len;
    ok = true;
    break;
  }
  return ok;
}

static int
read_retry (struct copy *c, struct rw *rw, unsigned conn, void *buf, size_t len,
            uint64_t off)
{
  for (unsigned a = 0;; a++) {
    if (rw->ops->synch_read (rw, conn, buf, len, off) == 0)
      return 0;
    if (a >= c->retries)
      return -1;
    {
      uint64_t ms = (uint64_t) c->retry_delay_ms << a;
      struct timespec ts = { (time_t) (ms / 1000), (long) (ms % 1000) * 1000000L };
      nanosleep (&ts, NULL);
    }
  }
}

static void *
verify_thread (void *p)
{
  struct varg *a = p;
  struct verify *v = a->v;
  struct copy *c = v->c;
  void *sbuf = NULL, *dbuf = NULL;
  uint64_t off;
  size_t len;

  if (posix_memalign (&sbuf, 4096, VERIFY_CHUNK) || posix_memalign (&dbuf, 4096, VERIFY_CHUNK)) {
    copy_fail (c, FERRY_EXIT_DATA, "out of memory");
    goto out;
  }
  while (!copy_stopping (c) && next_chunk (v, &off, &len)) {
    uLong sc, dc;
    if (read_retry (c, c->src, a->conn, sbuf, len, off) == -1) {
      copy_fail (c, FERRY_EXIT_DATA, "verify: reading from source %s at offset %" PRIu64
                 " (length %zu): %s", c->src->name, off, len, strerror (errno));
      break;
    }
    if (read_retry (c, c->dst, a->conn, dbuf, len, off) == -1) {
      copy_fail (c, FERRY_EXIT_DATA, "verify: reading from destination %s at offset %"
                 PRIu64 " (length %zu): %s", c->dst->name, off, len, strerror (errno));
      break;
    }
    sc = crc32 (crc32 (0, NULL, 0), sbuf, (uInt) len);
    dc = crc32 (crc32 (0, NULL, 0), dbuf, (uInt) len);
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&v->lock);
    v->bytes += len;
    if (sc != dc) {
      if (v->mismatches < VERIFY_MAX_REPORTED)
        log_error ("verify: source %s and destination %s differ at offset %" PRIu64
                   " (length %zu): crc32 %08lx != %08lx", c->src->name, c->dst->name,
                   off, len, sc, dc);
      if (v->mismatches == 0 || off < v->first)
        v->first = off;
      v->mismatches++;
    }
  }
 out:
  free (sbuf);
  free (dbuf);
  return NULL;
}

int
copy_verify (struct copy *c, const range_vector *ranges, struct copy_stats *st)
{
  struct verify v = { .c = c, .ranges = ranges };
  struct varg *args = calloc (c->nworkers, sizeof *args);
  pthread_t *th = calloc (c->nworkers, sizeof *th);
  unsigned started = 0;
  int r = FERRY_EXIT_OK;

  if (args == NULL || th == NULL) {
    free (args);
    free (th);
    log_error ("out of memory");
    return FERRY_EXIT_DATA;
  }
  pthread_mutex_init (&v.lock, NULL);
  for (unsigned i = 0; i < c->nworkers; i++) {
    args[i].v = &v;
    args[i].conn = i;
    if (pthread_create (&th[i], NULL, verify_thread, &args[i]) != 0) {
      copy_fail (c, FERRY_EXIT_DATA, "cannot start a verify thread");
      break;
    }
    started++;
  }
  for (unsigned i = 0; i < started; i++)
    pthread_join (th[i], NULL);
  pthread_mutex_destroy (&v.lock);
  free (args);
  free (th);

  st->verify_bytes = v.bytes;
  st->verify_mismatches = v.mismatches;
  st->verify_first_mismatch = v.first;
  if (c->exit_code)
    return c->exit_code;
  st->verified = true;
  if (v.mismatches) {
    log_error ("verify: FAILED: %" PRIu64 " chunk%s of %d bytes differ, the first at offset %"
               PRIu64, v.mismatches, v.mismatches == 1 ? "" : "s", VERIFY_CHUNK, v.first);
    r = FERRY_EXIT_DATA;
  }
  return r;
}

int
copy_check_samples (struct copy *c, const checkpoint_entry_vector *entries, uint64_t *bad)
{
  unsigned char buf[CHECKPOINT_SAMPLE_MAX];
  size_t n = 0, k = 0, pick = 0, next = 0;

  *bad = UINT64_MAX;
  for (size_t i = 0; i < entries->len; i++)
    if (entries->ptr[i].sample.length)
      n++;
  for (size_t i = 0; i < entries->len; i++) {
    const struct checkpoint_sample *s = &entries->ptr[i].sample;
    size_t j;

    if (s->length == 0)
      continue;
    j = k++;
    /* Spread evenly: sample number pick * (n - 1) / (K - 1) for pick = 0..K-1
     * (the first and the last among them); all when there are few. */
    if (n > CHECKPOINT_SAMPLES_CHECKED) {
      if (j < next)
        continue;
      pick++;
      next = pick * (n - 1) / (CHECKPOINT_SAMPLES_CHECKED - 1);
    }
    if (c->dst->ops->synch_read (c->dst, 0, buf, s->length, s->offset) == -1) {
      log_error ("reading destination %s at offset %" PRIu64 " to check the checkpoint: %s",
                 c->dst->name, s->offset, strerror (errno));
      return FERRY_EXIT_DATA;
    }
    if ((uint32_t) crc32 (crc32 (0, NULL, 0), buf, s->length) != s->crc) {
      log_debug ("checkpoint sample at %" PRIu64 " (%" PRIu32 " bytes): crc %08" PRIx32
                 " expected, the destination has other data", s->offset, s->length, s->crc);
      *bad = s->offset;
      return FERRY_EXIT_OK;
    }
  }
  return FERRY_EXIT_OK;
}
