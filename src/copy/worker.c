/* ferry: the copy loop run by each worker thread (as nbdcopy's
 * multi-thread-copying.c).
 *
 * Worker i owns connection i of the source and of the destination.  It
 * claims work units (contiguous areas of at most COPY_MAX_UNIT) from a
 * shared counter, splits each by the source's extents, and keeps up to
 * `requests` requests in flight: data → read, then write (or, when the
 * buffer is all zeroes, a zero request or nothing); zero extents → a zero
 * request or nothing.  Failed requests are retried after a backoff without
 * stalling the others.  When every request of a unit has completed, the
 * unit is recorded in the checkpoint after a flush of the destination. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <zlib.h>

#include "common/error.h"
#include "common/log.h"
#include "copy/internal.h"

enum phase { PH_READ, PH_WRITE, PH_ZERO };

struct slot {
  struct request r;
  enum phase phase;
  bool in_flight;             /* started, completion not processed yet */
  bool waiting;               /* failed, to be retried at retry_at */
  unsigned attempts;
  uint64_t retry_at;
  size_t unit;
  void *buf;                  /* request_size bytes, allocated on first use */
};

struct unit_state {
  size_t unit;
  uint64_t outstanding;       /* requests started and not finished */
  bool issued_all;
  /* A request of this unit was given up (the copy is stopping: a signal,
   * an error elsewhere, retries exhausted): some of its bytes may never
   * have reached the destination, so the unit is never recorded done. */
  bool abandoned;
  struct checkpoint_sample sample; /* of a completed write (or zero request) */
  bool sample_is_data;
};
DEFINE_VECTOR_TYPE (unit_state_vector, struct unit_state)
DEFINE_VECTOR_TYPE (index_vector, unsigned)

struct worker {
  struct copy *c;
  unsigned conn;
  struct slot *slots;
  index_vector free_slots;
  unsigned busy;              /* slots in flight or waiting */

  /* Where issuing is: the current unit, its extents, the position. */
  bool have_unit, exhausted;
  size_t unit;
  extent_vector ext;
  size_t ext_i;
  uint64_t pos;

  unit_state_vector active;   /* units with requests outstanding */
  checkpoint_entry_vector pending; /* finished units not yet in the checkpoint */
  uint64_t last_ckpt;
};

static struct unit_state *
find_unit (struct worker *w, size_t unit)
{
  for (size_t i = 0; i < w->active.len; i++)
    if (w->active.ptr[i].unit == unit)
      return &w->active.ptr[i];
  return NULL;
}

/* A unit is finished when everything was issued and every request of it
 * completed successfully.  Only then may it go to the checkpoint (after
 * the next flush); a unit with an abandoned request is dropped instead. */
static void
check_unit (struct worker *w, size_t unit)
{
  struct unit_state *u = find_unit (w, unit);
  size_t i;

  if (u == NULL || u->outstanding > 0 || !(u->issued_all || u->abandoned))
    return;
  if (w->c->ckpt && !u->abandoned &&
      checkpoint_entry_vector_append (&w->pending, (struct checkpoint_entry) {
          .range = w->c->units[unit], .sample = u->sample }) == -1)
    copy_fail (w->c, FERRY_EXIT_DATA, "out of memory");
  i = (size_t) (u - w->active.ptr);
  memmove (&w->active.ptr[i], &w->active.ptr[i + 1],
           (w->active.len - i - 1) * sizeof w->active.ptr[0]);
  w->active.len--;
}

static bool
claim_unit (struct worker *w)
{
  struct copy *c = w->c;
  size_t i = atomic_fetch_add (&c->next_unit, 1);
  const struct copy_range *u;

  if (i >= c->nunits)
    return false;
  u = &c->units[i];
  w->unit = i;
  w->have_unit = true;
  w->ext_i = 0;
  w->pos = u->start;
  w->ext.len = 0;
  if (!c->use_extents || u->length < COPY_EXTENTS_MIN ||
      c->src->ops->get_extents (c->src, w->conn, u->start, u->length, &w->ext) == -1 ||
      w->ext.len == 0) {
    w->ext.len = 0;
    if (extent_vector_append (&w->ext, (struct extent) { u->start, u->length, false }) == -1) {
      copy_fail (c, FERRY_EXIT_DATA, "out of memory");
      return false;
    }
  }
  if (unit_state_vector_append (&w->active, (struct unit_state) { .unit = i }) == -1) {
    copy_fail (c, FERRY_EXIT_DATA, "out of memory");
    return false;
  }
  return true;
}

/* The next piece of work: data up to request_size, or a zero run. */
static bool
next_piece (struct worker *w, uint64_t *off, uint64_t *len, bool *zero)
{
  for (;;) {
    const struct extent *e;
    uint64_t end, n;

    if (!w->have_unit && !claim_unit (w))
      return false;
    if (w->ext_i >= w->ext.len) {
      struct unit_state *u = find_unit (w, w->unit);
      if (u)
        u->issued_all = true;
      w->have_unit = false;
      check_unit (w, w->unit);
      continue;
    }
    e = &w->ext.ptr[w->ext_i];
    end = e->offset + e->length;
    n = end - w->pos;
    if (!e->zero && n > w->c->request_size)
      n = w->c->request_size;
    *off = w->pos;
    *len = n;
    *zero = e->zero;
    w->pos += n;
    if (w->pos >= end)
      w->ext_i++;
    return true;
  }
}

static void
start (struct worker *w, struct slot *s)
{
  struct copy *c = w->c;

  s->in_flight = true;
  s->r.done = false;
  s->r.err = 0;
  switch (s->phase) {
  case PH_READ:
    s->r.buf = s->buf;
    c->src->ops->asynch_read (c->src, w->conn, &s->r);
    break;
  case PH_WRITE:
    s->r.buf = s->buf;
    c->dst->ops->asynch_write (c->dst, w->conn, &s->r);
    break;
  case PH_ZERO:
    s->r.buf = NULL;
    c->dst->ops->asynch_zero (c->dst, w->conn, &s->r);
    break;
  }
}

/* The slot's work is over: done (counted) or abandoned. */
static void
release (struct worker *w, struct slot *s, bool counted)
{
  struct unit_state *u = find_unit (w, s->unit);

  if (counted)
    w->c->processed += s->r.len;
  s->in_flight = s->waiting = false;
  w->busy--;
  index_vector_append (&w->free_slots, (unsigned) (s - w->slots));
  if (u) {
    if (!counted)
      u->abandoned = true;
    if (u->outstanding > 0)
      u->outstanding--;
    check_unit (w, s->unit);
  }
}

static const char *
phase_what (enum phase p)
{
  switch (p) {
  case PH_READ: return "reading from source";
  case PH_WRITE: return "writing to destination";
  case PH_ZERO: return "zeroing destination";
  }
  return "?";
}

static void
failed (struct worker *w, struct slot *s)
{
  struct copy *c = w->c;
  const char *name = s->phase == PH_READ ? c->src->name : c->dst->name;

  s->attempts++;
  if (s->attempts > c->retries || copy_stopping (c)) {
    if (!copy_stopping (c))
      copy_fail (c, FERRY_EXIT_DATA, "%s %s at offset %" PRIu64 " (length %zu) failed "
                 "after %u attempt%s: %s", phase_what (s->phase), name, s->r.offset,
                 s->r.len, s->attempts, s->attempts == 1 ? "" : "s", strerror (s->r.err));
    release (w, s, false);
    return;
  }
  {
    uint64_t delay = (uint64_t) c->retry_delay_ms << (s->attempts - 1);
    if (delay > 10000)
      delay = 10000;
    c->nretries++;
    log_debug ("%s %s at offset %" PRIu64 " (length %zu): %s; retry %u in %" PRIu64 " ms",
               phase_what (s->phase), name, s->r.offset, s->r.len, strerror (s->r.err),
               s->attempts, delay);
    s->in_flight = false;
    s->waiting = true;
    s->retry_at = copy_now_ns () + delay * 1000000;
  }
}

/* A zero area: nothing to do on a zeroed destination, else a zero request. */
static void
zero_or_skip (struct worker *w, struct slot *s)
{
  if (w->c->skip_zero) {
    w->c->bytes_skipped += s->r.len;
    release (w, s, true);
    return;
  }
  s->phase = PH_ZERO;
  s->attempts = 0;
  start (w, s);
}

/* Remember what the destination holds after a write or zero request of
 * the unit, for a resume to read back (copy.c).  Data is preferred: a zero
 * sample can't tell this destination from a new zeroed one. */
static void
take_sample (struct worker *w, const struct slot *s)
{
  static const unsigned char zeroes[CHECKPOINT_SAMPLE_MAX];
  struct unit_state *u;
  size_t n = s->r.len < CHECKPOINT_SAMPLE_MAX ? s->r.len : CHECKPOINT_SAMPLE_MAX;

  if (w->c->ckpt == NULL || (u = find_unit (w, s->unit)) == NULL)
    return;
  if (u->sample.length && (u->sample_is_data || s->phase != PH_WRITE))
    return;
  u->sample.offset = s->r.offset;
  u->sample.length = (uint32_t) n;
  u->sample.crc = (uint32_t) crc32 (crc32 (0, NULL, 0),
                                    s->phase == PH_WRITE ? s->buf : zeroes, (unsigned) n);
  u->sample_is_data = s->phase == PH_WRITE;
}

static bool
process_completions (struct worker *w)
{
  struct copy *c = w->c;
  bool progress = false;

  for (unsigned i = 0; i < c->requests; i++) {
    struct slot *s = &w->slots[i];
    if (!s->in_flight || !s->r.done)
      continue;
    progress = true;
    s->in_flight = false;
    if (s->r.err) {
      failed (w, s);
      continue;
    }
    switch (s->phase) {
    case PH_READ:
      c->bytes_read += s->r.len;
      if (copy_stopping (c)) {
        release (w, s, false);
        break;
      }
      if (is_zero (s->buf, s->r.len))
        zero_or_skip (w, s);
      else {
        s->phase = PH_WRITE;
        s->attempts = 0;
        start (w, s);
      }
      break;
    case PH_WRITE:
      c->bytes_written += s->r.len;
      take_sample (w, s);
      release (w, s, true);
      break;
    case PH_ZERO:
      c->bytes_zeroed += s->r.len;
      take_sample (w, s);
      release (w, s, true);
      break;
    }
  }
  return progress;
}

static bool
process_retries (struct worker *w, uint64_t now, int *timeout_ms)
{
  bool progress = false;

  for (unsigned i = 0; i < w->c->requests; i++) {
    struct slot *s = &w->slots[i];
    if (!s->waiting)
      continue;
    if (copy_stopping (w->c)) {
      release (w, s, false);
      progress = true;
    }
    else if (s->retry_at <= now) {
      s->waiting = false;
      start (w, s);
      progress = true;
    }
    else {
      int ms = (int) ((s->retry_at - now) / 1000000) + 1;
      if (*timeout_ms < 0 || ms < *timeout_ms)
        *timeout_ms = ms;
    }
  }
  return progress;
}

static bool
issue (struct worker *w)
{
  struct copy *c = w->c;
  bool progress = false;

  while (!w->exhausted && w->free_slots.len > 0) {
    uint64_t off, len;
    bool zero;
    struct slot *s;
    struct unit_state *u;

    if (copy_stopping (c) || !next_piece (w, &off, &len, &zero)) {
      w->exhausted = true;
      break;
    }
    progress = true;
    if (zero && c->skip_zero) {
      c->bytes_skipped += len;
      c->processed += len;
      continue;
    }
    s = &w->slots[w->free_slots.ptr[--w->free_slots.len]];
    if (s->buf == NULL && !zero) {
      if (posix_memalign (&s->buf, 4096, c->request_size) != 0) {
        s->buf = NULL;
        w->free_slots.len++;
        copy_fail (c, FERRY_EXIT_DATA, "out of memory");
        w->exhausted = true;
        break;
      }
    }
    w->busy++;
    u = find_unit (w, w->unit);
    if (u)
      u->outstanding++;
    s->unit = w->unit;
    s->r.offset = off;
    s->r.len = (size_t) len;
    s->attempts = 0;
    s->waiting = false;
    s->phase = zero ? PH_ZERO : PH_READ;
    start (w, s);
  }
  return progress;
}

/* Flush the destination, then record the finished units. */
static void
checkpoint (struct worker *w, bool force)
{
  struct copy *c = w->c;
  uint64_t now;

  if (c->ckpt == NULL || w->pending.len == 0)
    return;
  now = copy_now_ns ();
  if (!force && now - w->last_ckpt < (uint64_t) c->checkpoint_interval_ms * 1000000)
    return;
  w->last_ckpt = now;
  if (c->dst->ops->flush (c->dst, w->conn) == -1) {
    copy_fail (c, FERRY_EXIT_DATA, "flushing destination %s: %s", c->dst->name,
               strerror (errno));
    w->pending.len = 0;
    return;
  }
  if (checkpoint_record (c->ckpt, w->pending.ptr, w->pending.len) == -1)
    copy_fail (c, FERRY_EXIT_DATA, "the checkpoint could not be written");
  w->pending.len = 0;
}

static void
wait_for_events (struct worker *w, int timeout_ms)
{
  struct copy *c = w->c;
  struct pollfd pfd[2];
  struct rw *rws[2] = { c->src, c->dst };
  int which[2];
  int n = 0;

  for (int i = 0; i < 2; i++)
    if (rws[i]->ops->get_poll (rws[i], w->conn, &pfd[n]) == 1)
      which[n++] = i;
  if (timeout_ms < 0 || timeout_ms > 500)
    timeout_ms = 500;           /* wake up now and then: cancel, checkpoint */
  if (n == 0) {
    struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
    if (!ts.tv_sec && !ts.tv_nsec)
      ts.tv_nsec = 1000000;
    nanosleep (&ts, NULL);
    return;
  }
  if (poll (pfd, (nfds_t) n, timeout_ms) <= 0)
    return;
  for (int i = 0; i < n; i++)
    if (pfd[i].revents)
      rws[which[i]]->ops->notify (rws[which[i]], w->conn, pfd[i].revents);
}

void *
copy_worker (void *arg)
{
  struct worker_arg *a = arg;
  struct copy *c = a->c;
  struct worker w = {
    .c = c, .conn = a->index,
    .free_slots = empty_vector, .ext = empty_vector,
    .active = empty_vector, .pending = empty_vector,
  };

  w.last_ckpt = copy_now_ns ();
  w.slots = calloc (c->requests, sizeof *w.slots);
  if (w.slots == NULL || index_vector_reserve (&w.free_slots, c->requests) == -1) {
    copy_fail (c, FERRY_EXIT_DATA, "out of memory");
    goto out;
  }
  for (unsigned i = c->requests; i-- > 0;)
    w.free_slots.ptr[w.free_slots.len++] = i;

  for (;;) {
    int timeout_ms = -1;
    bool progress;

    progress = process_completions (&w);
    progress |= process_retries (&w, copy_now_ns (), &timeout_ms);
    progress |= issue (&w);
    checkpoint (&w, false);
    if (w.busy == 0 && w.exhausted)
      break;
    if (progress)
      continue;
    if (c->ckpt && w.pending.len > 0) {
      int ms = c->checkpoint_interval_ms;
      if (timeout_ms < 0 || ms < timeout_ms)
        timeout_ms = ms;
    }
    wait_for_events (&w, timeout_ms);
  }
  checkpoint (&w, true);

 out:
  if (w.slots)
    for (unsigned i = 0; i < c->requests; i++)
      free (w.slots[i].buf);
  free (w.slots);
  index_vector_reset (&w.free_slots);
  extent_vector_reset (&w.ext);
  unit_state_vector_reset (&w.active);
  checkpoint_entry_vector_reset (&w.pending);
  return NULL;
}
