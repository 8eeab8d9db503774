/* ferry: copy_run(): open the endpoints, plan the work, run the workers,
 * report progress, flush, verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/util.h"
#include "copy/internal.h"

uint64_t
copy_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}

void
copy_fail (struct copy *c, int exit_code, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&c->lock);
    if (c->exit_code == 0) {
      c->exit_code = exit_code;
      log_vmsg (LOG_LEVEL_ERROR, fmt, ap);
    }
    else
      log_vmsg (LOG_LEVEL_DEBUG, fmt, ap);
    c->failed = true;
  }
  va_end (ap);
}

bool
copy_stopping (struct copy *c)
{
  return c->failed || (c->opts->cancel && atomic_load (c->opts->cancel));
}

void
copy_options_init (struct copy_options *o)
{
  memset (o, 0, sizeof *o);
  o->connections = COPY_DEFAULT_CONNECTIONS;
  o->requests = COPY_DEFAULT_REQUESTS;
  o->request_size = COPY_DEFAULT_REQUEST_SIZE;
  o->retries = COPY_DEFAULT_RETRIES;
  o->retries_set = true;
  o->retry_delay_ms = COPY_DEFAULT_RETRY_DELAY_MS;
  o->checkpoint_interval_ms = COPY_DEFAULT_CHECKPOINT_INTERVAL_MS;
  o->progress_interval_ms = 1000;
}

static int
check_options (const struct copy_options *o)
{
  if (o->src == NULL || o->dst == NULL || !*o->src || !*o->dst) {
    log_error ("copy: a source and a destination are needed");
    return -1;
  }
  if (o->extents_file && o->ranges) {
    log_error ("copy: give the areas either as a file or as ranges, not both");
    return -1;
  }
  if (o->connections > COPY_MAX_CONNECTIONS) {
    log_error ("copy: --connections must be 1 to %d", COPY_MAX_CONNECTIONS);
    return -1;
  }
  if (o->requests > COPY_MAX_REQUESTS) {
    log_error ("copy: --requests must be 1 to %d", COPY_MAX_REQUESTS);
    return -1;
  }
  if (o->request_size &&
      (o->request_size < COPY_MIN_REQUEST_SIZE || o->request_size > COPY_MAX_REQUEST_SIZE ||
       o->request_size % 4096)) {
    log_error ("copy: --request-size must be a multiple of 4096 from %d to %d bytes",
               COPY_MIN_REQUEST_SIZE, COPY_MAX_REQUEST_SIZE);
    return -1;
  }
  return 0;
}

/* Split the areas into work units. */
static int
make_units (struct copy *c, const range_vector *todo, uint64_t unit_size)
{
  range_vector u = empty_vector;

  for (size_t i = 0; i < todo->len; i++) {
    uint64_t pos = todo->ptr[i].start, end = pos + todo->ptr[i].length;
    while (pos < end) {
      /* Cut at multiples of unit_size so that units stay aligned. */
      uint64_t next = (pos / unit_size + 1) * unit_size;
      if (next > end)
        next = end;
      if (range_vector_append (&u, (struct copy_range) { pos, next - pos }) == -1) {
        range_vector_reset (&u);
        return -1;
      }
      pos = next;
    }
  }
  c->units = u.ptr;
  c->nunits = u.len;
  return 0;
}

struct runner {
  struct worker_arg arg;
  pthread_t thread;
  bool started;
};

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

struct run_state {
  struct copy *c;
  unsigned running;
};

struct thread_arg {
  struct worker_arg w;
  struct run_state *rs;
};

static void *
thread_main (void *p)
{
  struct thread_arg *a = p;

  copy_worker (&a->w);
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&done_lock);
  a->rs->running--;
  pthread_cond_broadcast (&done_cond);
  return NULL;
}

static void
count_running (struct run_state *rs, int delta)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&done_lock);
  rs->running += delta;
}

/* Wait until the workers are done or, if timed, until next (copy_now_ns):
 * true while some still run. */
static bool
wait_workers (struct run_state *rs, uint64_t next, bool timed)
{
  struct timespec ts;

  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&done_lock);
  if (rs->running == 0)
    return false;
  clock_gettime (CLOCK_REALTIME, &ts);
  {
    uint64_t now = copy_now_ns ();
    uint64_t wait = next > now ? next - now : 0;
    ts.tv_sec += (time_t) (wait / 1000000000);
    ts.tv_nsec += (long) (wait % 1000000000);
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
  }
  if (!timed)
    pthread_cond_wait (&done_cond, &done_lock);
  else
    pthread_cond_timedwait (&done_cond, &done_lock, &ts);
  return rs->running > 0;
}

static void
report (struct copy *c, const struct copy_stats *st, uint64_t t0, uint64_t *last_t,
        uint64_t *last_b, bool final)
{
  const struct copy_options *o = c->opts;
  struct copy_progress p;
  uint64_t now = copy_now_ns ();
  uint64_t processed = c->processed;
  double dt = (double) (now - *last_t) / 1e9;
  double el = (double) (now - t0) / 1e9;

  if (o->progress == NULL) {
    *last_t = now;
    return;
  }
  p.total = st->total;
  p.bytes_done = st->done_before + processed;
  p.elapsed = el;
  if (final)
    p.rate = el > 0 ? (double) processed / el : 0;
  else
    p.rate = dt > 0 ? (double) (processed - *last_b) / dt : 0;
  p.eta = -1;
  if (el > 0.5 && processed > 0)
    p.eta = (double) (p.total - p.bytes_done) / ((double) processed / el);
  if (final)
    p.eta = 0;
  p.final = final;
  *last_t = now;
  *last_b = processed;
  o->progress (o->progress_opaque, &p);
}

/* Start the workers and wait for them, reporting progress meanwhile. */
static void
run_workers (struct copy *c, const struct copy_stats *st)
{
  const struct copy_options *o = c->opts;
  struct run_state rs = { .c = c, .running = 0 };
  struct thread_arg *args = calloc (c->nworkers, sizeof *args);
  pthread_t *threads = calloc (c->nworkers, sizeof *threads);
  unsigned started = 0;
  unsigned interval = o->progress_interval_ms ? o->progress_interval_ms : 1000;
  uint64_t t0 = copy_now_ns (), last_t = t0, last_b = 0;

  if (args == NULL || threads == NULL) {
    copy_fail (c, FERRY_EXIT_DATA, "out of memory");
    goto out;
  }
  for (unsigned i = 0; i < c->nworkers; i++) {
    int e;
    args[i].w.c = c;
    args[i].w.index = i;
    args[i].rs = &rs;
    count_running (&rs, 1);
    e = pthread_create (&threads[i], NULL, thread_main, &args[i]);
    if (e) {
      count_running (&rs, -1);
      copy_fail (c, FERRY_EXIT_DATA, "cannot start a copy thread: %s", strerror (e));
      break;
    }
    started++;
  }

  for (;;) {
    uint64_t next = last_t + (uint64_t) interval * 1000000;
    if (!wait_workers (&rs, next, o->progress != NULL))
      break;
    if (copy_now_ns () >= next)
      report (c, st, t0, &last_t, &last_b, false);
  }
  for (unsigned i = 0; i < started; i++)
    pthread_join (threads[i], NULL);
  report (c, st, t0, &last_t, &last_b, true);

 out:
  free (args);
  free (threads);
}

/* The engine's settings from the options; returns the connections wanted. */
static unsigned
apply_defaults (struct copy *c)
{
  const struct copy_options *o = c->opts;

  c->requests = o->requests ? o->requests : COPY_DEFAULT_REQUESTS;
  c->request_size = o->request_size ? o->request_size : COPY_DEFAULT_REQUEST_SIZE;
  c->retries = o->retries_set ? o->retries : COPY_DEFAULT_RETRIES;
  c->retry_delay_ms = o->retry_delay_ms ? o->retry_delay_ms : COPY_DEFAULT_RETRY_DELAY_MS;
  c->checkpoint_interval_ms = o->checkpoint_interval_ms ? o->checkpoint_interval_ms
    : COPY_DEFAULT_CHECKPOINT_INTERVAL_MS;
  return o->connections ? o->connections : COPY_DEFAULT_CONNECTIONS;
}

/* The areas: a file, ranges, or the whole disk (once the size is known). */
static int
load_areas (const struct copy_options *o, range_vector *work)
{
  if (o->extents_file) {
    struct copy_range *rs = NULL;
    size_t n = 0;
    if (copy_load_extents (o->extents_file, &rs, &n) == -1)
      return FERRY_EXIT_USAGE;
    work->ptr = rs;
    work->len = work->cap = n;
  }
  else if (o->ranges) {
    for (size_t i = 0; i < o->nranges; i++)
      if (range_vector_append (work, o->ranges[i]) == -1) {
        log_error ("out of memory");
        return FERRY_EXIT_DATA;
      }
    ranges_normalize (work);
  }
  return 0;
}

/* Open the source; the areas must lie within it (the whole disk without
 * a file or ranges). */
static int
open_source (struct copy *c, struct copy_stats *st, range_vector *work)
{
  const struct copy_options *o = c->opts;
  struct rw_open_args sargs = { 0 };
  int ec = 0;

  sargs.want_extents = !o->no_extents;
  sargs.https_tls = o->src_tls;
  sargs.https_cookie = o->src_cookie;
  c->src = rw_open (o->src, &sargs, &ec);
  if (c->src == NULL)
    return ec;
  st->size = c->src->size;
  if (o->extents_file || o->ranges) {
    if (work->len > 0) {
      const struct copy_range *last = &work->ptr[work->len - 1];
      if (last->start + last->length > st->size) {
        log_error ("extents %s: the area at %" PRIu64 " (length %" PRIu64 ") goes beyond "
                   "the end of the source %s (%" PRIu64 " bytes)",
                   o->extents_file ? o->extents_file : "(ranges)", last->start,
                   last->length, o->src, st->size);
        return FERRY_EXIT_USAGE;
      }
    }
  }
  else if (st->size > 0 &&
           range_vector_append (work, (struct copy_range) { 0, st->size }) == -1) {
    log_error ("out of memory");
    return FERRY_EXIT_DATA;
  }
  st->total = ranges_total (work);
  return 0;
}

/* The checkpoint, if any: what it records in *cc and, if it can't be
 * trusted, why in *why. */
static int
open_checkpoint (struct copy *c, const struct copy_stats *st, const range_vector *work,
                 struct checkpoint_contents *cc, char **why)
{
  const struct copy_options *o = c->opts;
  bool stale = false;
  int r;

  if (o->checkpoint_file == NULL)
    return 0;
  r = checkpoint_open (o->checkpoint_file, st->size, ranges_hash (work), o->dst_identity,
                       cc, &stale, &c->ckpt);
  if (r)
    return r;
  if (stale)
    *why = xasprintf ("it was written by an earlier ferry (format 1), whose interrupted "
                      "runs could record areas that were never written");
  else if (cc->dst_identity && o->dst_identity && strcmp (cc->dst_identity, o->dst_identity))
    *why = xasprintf ("it was written for the destination %s, not %s", cc->dst_identity,
                      o->dst_identity);
  return 0;
}

/* Open the destination; *why: the checkpoint's ranges are not all there. */
static int
open_destination (struct copy *c, const struct copy_stats *st,
                  const struct checkpoint_contents *cc, char **why)
{
  const struct copy_options *o = c->opts;
  struct rw_open_args dargs = { 0 };
  int ec = 0;

  /* A whole-disk copy starts from an empty destination file; a delta or a
   * resumed copy updates it in place. */
  dargs.is_dst = true;
  dargs.dst_size = st->size;
  dargs.truncate = !o->extents_file && !o->ranges && cc->done.len == 0 && *why == NULL;
  c->dst = rw_open (o->dst, &dargs, &ec);
  if (c->dst == NULL)
    return ec;
  if (*why == NULL && cc->done.len > 0 && c->dst->known_zero)
    /* Resuming, but the destination was just created: the ranges the
     * checkpoint calls done are not there. */
    *why = xasprintf ("it records finished ranges, but the destination %s did not exist",
                      o->dst);
  if (*why == NULL && cc->done.len > 0) {
    uint64_t bad;
    int r = copy_check_samples (c, &cc->entries, &bad);
    if (r)
      return r;
    if (bad != UINT64_MAX)
      *why = xasprintf ("the destination %s does not hold what it records as written "
                        "(at offset %" PRIu64 "): another device, a new volume, or the data "
                        "was changed since", o->dst, bad);
  }
  return 0;
}

/* A checkpoint that can't be trusted: refuse, or with checkpoint_restart
 * forget it and copy everything again. */
static int
distrust_checkpoint (struct copy *c, struct copy_stats *st, struct checkpoint_contents *cc,
                     const char *why)
{
  const struct copy_options *o = c->opts;

  st->checkpoint_mismatch = true;
  if (!o->checkpoint_restart) {
    log_error ("checkpoint %s: %s: remove the checkpoint (or give another file) to copy "
               "everything again", o->checkpoint_file, why);
    if (c->dst->known_zero)
      unlink (o->dst);
    return FERRY_EXIT_USAGE;
  }
  log_warn ("checkpoint %s: %s: copying everything again", o->checkpoint_file, why);
  if (checkpoint_reset (c->ckpt) == -1)
    return FERRY_EXIT_DATA;
  checkpoint_contents_reset (cc);
  return 0;
}

/* What is left to copy, and how: zero areas, extents, request size. */
static int
plan_todo (struct copy *c, struct copy_stats *st, const range_vector *work,
           const struct checkpoint_contents *cc, range_vector *todo)
{
  const struct copy_options *o = c->opts;

  if (ranges_subtract (work, &cc->done, todo) == -1) {
    log_error ("out of memory");
    return FERRY_EXIT_DATA;
  }
  st->done_before = st->total - ranges_total (todo);
  if (st->done_before)
    log_info ("checkpoint %s: %" PRIu64 " of %" PRIu64 " bytes already copied",
              o->checkpoint_file, st->done_before, st->total);
  c->skip_zero = o->destination_is_zero || c->dst->known_zero;
  c->use_extents = !o->no_extents && c->src->ops->can_extents (c->src);

  if (c->src->max_request && c->request_size > c->src->max_request)
    c->request_size = c->src->max_request & ~(size_t) 4095;
  if (c->dst->max_request && c->request_size > c->dst->max_request)
    c->request_size = c->dst->max_request & ~(size_t) 4095;
  if (c->request_size < 4096)
    c->request_size = 4096;
  return 0;
}

/* Cut the work into units and open want connections (fewer if the
 * endpoints or the work don't allow that many). */
static int
plan_units (struct copy *c, struct copy_stats *st, const range_vector *todo, unsigned want)
{
  uint64_t unit_size;

  if (!c->src->ops->can_multi_conn (c->src) || !c->dst->ops->can_multi_conn (c->dst)) {
    if (want > 1)
      log_debug ("copy: one connection (the %s does not allow multi-conn)",
                 c->src->ops->can_multi_conn (c->src) ? "destination" : "source");
    want = 1;
  }
  /* Units: small enough that every worker has several, at most 32 MiB. */
  unit_size = st->total / ((uint64_t) want * 8);
  if (unit_size < COPY_MIN_UNIT)
    unit_size = COPY_MIN_UNIT;
  if (unit_size > COPY_MAX_UNIT)
    unit_size = COPY_MAX_UNIT;
  unit_size = (unit_size + COPY_MIN_UNIT - 1) / COPY_MIN_UNIT * COPY_MIN_UNIT;
  if (make_units (c, todo, unit_size) == -1) {
    log_error ("out of memory");
    return FERRY_EXIT_DATA;
  }
  if (want > c->nunits)
    want = c->nunits ? (unsigned) c->nunits : 1;
  if (c->src->ops->connect (c->src, want) == -1 || c->dst->ops->connect (c->dst, want) == -1)
    return FERRY_EXIT_DATA;
  c->nworkers = want;
  st->connections = want;
  log_debug ("copy: %" PRIu64 " bytes in %zu units of up to %" PRIu64 " bytes, "
             "%u connection%s, %u requests of %zu bytes each, extents %s, zero areas %s",
             ranges_total (todo), c->nunits, unit_size, want, want == 1 ? "" : "s",
             c->requests, c->request_size, c->use_extents ? "from the source" : "by detection",
             c->skip_zero ? "skipped" : "zeroed");
  return 0;
}

/* Nothing is done until it is on stable storage. */
static void
flush_destination (struct copy *c)
{
  bool one = c->dst->ops->can_multi_conn (c->dst);

  for (unsigned i = 0; i < (one ? 1 : c->dst->nconns); i++)
    if (c->dst->ops->flush (c->dst, i) == -1) {
      copy_fail (c, FERRY_EXIT_DATA, "flushing destination %s: %s", c->dst->name,
                 strerror (errno));
      break;
    }
}

/* Run the workers, flush, count, and verify if asked. */
static int
copy_and_finish (struct copy *c, struct copy_stats *st, const range_vector *work)
{
  const struct copy_options *o = c->opts;
  uint64_t t0 = copy_now_ns ();
  int r;

  run_workers (c, st);
  if (!c->failed)
    flush_destination (c);
  st->seconds = (double) (copy_now_ns () - t0) / 1e9;
  st->processed = c->processed;
  st->bytes_read = c->bytes_read;
  st->bytes_written = c->bytes_written;
  st->bytes_zeroed = c->bytes_zeroed;
  st->bytes_skipped = c->bytes_skipped;
  st->retries = c->nretries;
  r = c->exit_code;
  if (r == 0 && o->cancel && atomic_load (o->cancel)) {
    log_error ("copy interrupted%s", c->ckpt ? ": the checkpoint records what was done" : "");
    r = FERRY_EXIT_INTERRUPTED;
  }
  if (r == 0 && o->verify)
    r = copy_verify (c, work, st);
  return r;
}

int
copy_run (const struct copy_options *o, struct copy_stats *stats_out)
{
  struct copy c = { .opts = o, .exit_code = 0 };
  struct copy_stats st = { 0 };
  range_vector work = empty_vector, todo = empty_vector;
  struct checkpoint_contents cc = { .done = empty_vector, .entries = empty_vector };
  CLEANUP_FREE char *why = NULL;   /* the checkpoint can't be trusted: why */
  unsigned want;
  int r;

  pthread_mutex_init (&c.lock, NULL);
  if (check_options (o) == -1) {
    r = FERRY_EXIT_USAGE;
    goto out;
  }
  want = apply_defaults (&c);
  if ((r = load_areas (o, &work)) != 0
      || (r = open_source (&c, &st, &work)) != 0
      || (r = open_checkpoint (&c, &st, &work, &cc, &why)) != 0
      || (r = open_destination (&c, &st, &cc, &why)) != 0
      || (why && (r = distrust_checkpoint (&c, &st, &cc, why)) != 0)
      || (r = plan_todo (&c, &st, &work, &cc, &todo)) != 0
      || (r = plan_units (&c, &st, &todo, want)) != 0)
    goto out;
  r = copy_and_finish (&c, &st, &work);

 out:
  if (stats_out)
    *stats_out = st;
  rw_close (c.dst);
  rw_close (c.src);
  checkpoint_close (c.ckpt);
  free (c.units);
  range_vector_reset (&work);
  checkpoint_contents_reset (&cc);
  range_vector_reset (&todo);
  pthread_mutex_destroy (&c.lock);
  return r;
}
