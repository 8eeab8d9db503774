/* ferry: disk slots and the board of parallel migrations, see board.h. */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "workflow/board.h"
#include "workflow/state.h"
#include "copy/copy.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

/* ---- disk slots ---- */

struct disk_slots {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int max_total, max_per_host, used;
  json_t *per_host;           /* host name -> copies running */
};

struct disk_slots *
slots_new (int max_total, int max_per_host)
{
  struct disk_slots *s = calloc (1, sizeof *s);

  if (s == NULL)
    return NULL;
  pthread_mutex_init (&s->lock, NULL);
  pthread_cond_init (&s->cond, NULL);
  s->max_total = max_total;
  s->max_per_host = max_per_host;
  s->per_host = json_object ();
  return s;
}

void
slots_free (struct disk_slots *s)
{
  if (s == NULL)
    return;
  pthread_mutex_destroy (&s->lock);
  pthread_cond_destroy (&s->cond);
  json_decref (s->per_host);
  free (s);
}

static bool
slot_free_for (const struct disk_slots *s, const char *host)
{
  if (s->max_total > 0 && s->used >= s->max_total)
    return false;
  return s->max_per_host <= 0
    || json_integer_value (json_object_get (s->per_host, host)) < s->max_per_host;
}

int
slots_acquire (struct disk_slots *s, const char *host, atomic_bool *cancel)
{
  host = host ? host : "";
  pthread_mutex_lock (&s->lock);
  while (!slot_free_for (s, host)) {
    struct timespec until;
    if (cancel && atomic_load (cancel)) {
      pthread_mutex_unlock (&s->lock);
      return -1;
    }
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_nsec += 200 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait (&s->cond, &s->lock, &until);
  }
  s->used++;
  json_object_set_new (s->per_host, host,
                       json_integer (json_integer_value (json_object_get (s->per_host, host)) + 1));
  pthread_mutex_unlock (&s->lock);
  return 0;
}

void
slots_release (struct disk_slots *s, const char *host)
{
  host = host ? host : "";
  pthread_mutex_lock (&s->lock);
  s->used--;
  json_object_set_new (s->per_host, host,
                       json_integer (json_integer_value (json_object_get (s->per_host, host)) - 1));
  pthread_cond_broadcast (&s->cond);
  pthread_mutex_unlock (&s->lock);
}

/* ---- the board ---- */

struct board {
  pthread_mutex_t lock;
  enum board_mode mode;
  FILE *events;
  json_t *vms;                /* name -> {vm, phase, t0, result, ..., disks: {key -> {...}}} */
  json_t *order;              /* names, in the order they started */
  double t0;                  /* when it was made (events' "t") */
};

static double
mono_s (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

struct board *
board_new (enum board_mode mode, FILE *events)
{
  struct board *b = calloc (1, sizeof *b);

  if (b == NULL)
    return NULL;
  pthread_mutex_init (&b->lock, NULL);
  b->mode = mode;
  b->events = events;
  b->vms = json_object ();
  b->order = json_array ();
  b->t0 = mono_s ();
  return b;
}

void
board_free (struct board *b)
{
  if (b == NULL)
    return;
  pthread_mutex_destroy (&b->lock);
  json_decref (b->vms);
  json_decref (b->order);
  free (b);
}

/* One event line to stderr (json mode) and the events file; steals ev.
 * Lock held. */
static void
emit (struct board *b, json_t *ev)
{
  CLEANUP_FREE char *s = NULL;

  json_object_set_new (ev, "t", json_real ((double) (long) ((mono_s () - b->t0) * 1000) / 1000));
  s = json_dumps (ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (ev);
  if (s == NULL)
    return;
  if (b->mode == BOARD_JSON) {
    fprintf (stderr, "%s\n", s);
    fflush (stderr);
  }
  if (b->events) {
    fprintf (b->events, "%s\n", s);
    fflush (b->events);
  }
}

static json_t *
vm_rec (struct board *b, const char *vm)
{
  json_t *r = json_object_get (b->vms, vm);
  if (r == NULL) {
    r = json_pack ("{s:s, s:s, s:f, s:{}}", "vm", vm, "phase", "starting", "t0", mono_s (),
                   "disks");
    json_object_set_new (b->vms, vm, r);
    json_array_append_new (b->order, json_string (vm));
  }
  return r;
}

static json_t *
disk_rec (struct board *b, const char *vm, long long disk)
{
  char k[32];
  json_t *disks = json_object_get (vm_rec (b, vm), "disks");
  json_t *d;

  snprintf (k, sizeof k, "%lld", disk);
  d = json_object_get (disks, k);
  if (d == NULL) {
    d = json_pack ("{s:I, s:n, s:s, s:I, s:I, s:f, s:f}", "disk", (json_int_t) disk, "volume",
                   "result", "waiting", "bytes", (json_int_t) 0, "total", (json_int_t) 0,
                   "seconds", 0.0, "t0", mono_s ());
    json_object_set_new (disks, k, d);
  }
  return d;
}

void
board_vm_start (struct board *b, const char *vm)
{
  char ts[32];
  pthread_mutex_lock (&b->lock);
  json_object_set_new (vm_rec (b, vm), "t0", json_real (mono_s ()));
  emit (b, json_pack ("{s:s, s:s, s:s}", "event", "vm-start", "vm", vm,
                      "time", state_now (ts, sizeof ts)));
  pthread_mutex_unlock (&b->lock);
}

void
board_vm_phase (struct board *b, const char *vm, const char *phase)
{
  char ts[32];
  json_t *r;
  pthread_mutex_lock (&b->lock);
  r = vm_rec (b, vm);
  if (strcmp (json_string_value (json_object_get (r, "phase")) ?: "", phase)) {
    json_object_set_new (r, "phase", json_string (phase));
    emit (b, json_pack ("{s:s, s:s, s:s, s:s}", "event", "phase", "vm", vm, "phase", phase,
                        "time", state_now (ts, sizeof ts)));
  }
  pthread_mutex_unlock (&b->lock);
}

void
board_disk_start (struct board *b, const char *vm, long long disk, const char *volume,
                  uint64_t total)
{
  char ts[32];
  json_t *d;
  pthread_mutex_lock (&b->lock);
  d = disk_rec (b, vm, disk);
  json_object_set_new (d, "volume", volume ? json_string (volume) : json_null ());
  json_object_set_new (d, "result", json_string ("copying"));
  json_object_set_new (d, "total", json_integer ((json_int_t) total));
  json_object_set_new (d, "t0", json_real (mono_s ()));
  emit (b, json_pack ("{s:s, s:s, s:I, s:I, s:s}", "event", "disk-start", "vm", vm,
                      "disk", (json_int_t) disk, "total", (json_int_t) total,
                      "time", state_now (ts, sizeof ts)));
  pthread_mutex_unlock (&b->lock);
}

void
board_disk_progress (struct board *b, const char *vm, long long disk, uint64_t bytes,
                     uint64_t total, double rate)
{
  json_t *d;
  pthread_mutex_lock (&b->lock);
  d = disk_rec (b, vm, disk);
  json_object_set_new (d, "bytes", json_integer ((json_int_t) bytes));
  json_object_set_new (d, "total", json_integer ((json_int_t) total));
  json_object_set_new (d, "rate", json_real (rate));
  emit (b, json_pack ("{s:s, s:s, s:I, s:I, s:I, s:f}", "event", "disk-progress", "vm", vm,
                      "disk", (json_int_t) disk, "bytes", (json_int_t) bytes,
                      "total", (json_int_t) total, "rate", rate));
  pthread_mutex_unlock (&b->lock);
}

void
board_disk_done (struct board *b, const char *vm, long long disk, bool ok, uint64_t bytes,
                 uint64_t total, double seconds)
{
  json_t *d;
  pthread_mutex_lock (&b->lock);
  d = disk_rec (b, vm, disk);
  json_object_set_new (d, "result", json_string (ok ? "ok" : "failed"));
  json_object_set_new (d, "bytes", json_integer ((json_int_t) bytes));
  json_object_set_new (d, "total", json_integer ((json_int_t) total));
  json_object_set_new (d, "seconds", json_real (seconds));
  emit (b, json_pack ("{s:s, s:s, s:I, s:s, s:I, s:I, s:f}", "event", "disk-done", "vm", vm,
                      "disk", (json_int_t) disk, "result", ok ? "ok" : "failed",
                      "bytes", (json_int_t) bytes, "total", (json_int_t) total,
                      "seconds", seconds));
  pthread_mutex_unlock (&b->lock);
}

void
board_vm_done (struct board *b, const char *vm, const char *result, int exit_code,
               const char *error, double seconds)
{
  json_t *r;
  pthread_mutex_lock (&b->lock);
  r = vm_rec (b, vm);
  json_object_set_new (r, "phase", json_string ("finished"));
  json_object_set_new (r, "result", json_string (result));
  json_object_set_new (r, "exit_code", json_integer (exit_code));
  json_object_set_new (r, "error", error ? json_string (error) : json_null ());
  json_object_set_new (r, "seconds", json_real (seconds));
  emit (b, json_pack ("{s:s, s:s, s:s, s:f, s:i, s:s?}", "event", "vm-done", "vm", vm,
                      "result", result, "seconds", seconds, "exit_code", exit_code,
                      "error", error));
  pthread_mutex_unlock (&b->lock);
}

void
board_summary (struct board *b, size_t vms, size_t ok, size_t failed, size_t missing,
               double seconds)
{
  pthread_mutex_lock (&b->lock);
  emit (b, json_pack ("{s:s, s:I, s:I, s:I, s:I, s:f}", "event", "summary",
                      "vms", (json_int_t) vms, "ok", (json_int_t) ok,
                      "failed", (json_int_t) failed, "not_found", (json_int_t) missing,
                      "seconds", seconds));
  pthread_mutex_unlock (&b->lock);
}

/* Append one line, cut to width columns. */
static void
add_line (char **text, size_t *len, int width, const char *fmt, ...)
{
  char line[512];
  va_list ap;
  size_t n;
  char *t;

  va_start (ap, fmt);
  vsnprintf (line, sizeof line, fmt, ap);
  va_end (ap);
  if (width > 1 && strlen (line) >= (size_t) width)
    line[width - 1] = '\0';
  n = strlen (line);
  t = realloc (*text, *len + n + 2);
  if (t == NULL)
    return;
  memcpy (t + *len, line, n);
  t[*len + n] = '\n';
  t[*len + n + 1] = '\0';
  *text = t;
  *len += n + 1;
}

void
board_draw (struct board *b, bool final)
{
  CLEANUP_FREE char *text = NULL;
  struct winsize ws;
  int width = 100;
  size_t len = 0, i, done = 0, failed = 0;
  double now = mono_s ();
  json_t *name;

  if (b->mode != BOARD_TTY)
    return;
  if (final) {
    log_set_status (NULL);
    return;
  }
  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
    width = ws.ws_col;
  pthread_mutex_lock (&b->lock);
  json_array_foreach (b->order, i, name) {
    json_t *r = json_object_get (b->vms, json_string_value (name));
    if (json_object_get (r, "result")) {
      done++;
      failed += strcmp (json_string_value (json_object_get (r, "result")), "ok") != 0;
    }
  }
  add_line (&text, &len, width, "-- %zu VM%s started, %zu finished (%zu failed) --",
            json_array_size (b->order), json_array_size (b->order) == 1 ? "" : "s", done, failed);
  json_array_foreach (b->order, i, name) {
    json_t *r = json_object_get (b->vms, json_string_value (name));
    const char *k;
    json_t *d;
    if (json_object_get (r, "result"))
      continue;
    add_line (&text, &len, width, "%-28s %-12s %6.0f s", json_string_value (name),
              json_string_value (json_object_get (r, "phase")),
              now - json_real_value (json_object_get (r, "t0")));
    json_object_foreach (json_object_get (r, "disks"), k, d) {
      char a[16], t[16], rt[16];
      uint64_t bytes = json_integer_value (json_object_get (d, "bytes"));
      uint64_t total = json_integer_value (json_object_get (d, "total"));
      const char *res = json_string_value (json_object_get (d, "result"));
      if (strcmp (res, "copying") && strcmp (res, "waiting"))
        continue;
      if (total == 0)
        /* No progress report yet: the size of what is copied is not known. */
        add_line (&text, &len, width, "  disk %-8s %-8s", k, res);
      else
        add_line (&text, &len, width, "  disk %-8s %-8s %10s / %-10s %3d%% %10s/s", k, res,
                  copy_human_size (bytes, a, sizeof a), copy_human_size (total, t, sizeof t),
                  (int) (bytes * 100 / total),
                  copy_human_size ((uint64_t) json_real_value (json_object_get (d, "rate")),
                                   rt, sizeof rt));
    }
  }
  pthread_mutex_unlock (&b->lock);
  log_set_status (text);
}

void
board_vm_note (struct board *b, const char *vm, const char *key, json_t *value)
{
  json_t *r, *notes;

  pthread_mutex_lock (&b->lock);
  r = json_object_get (b->vms, vm);
  if (r && value) {
    notes = json_object_get (r, "notes");
    if (notes == NULL)
      json_object_set_new (r, "notes", notes = json_object ());
    json_object_set (notes, key, value);
  }
  pthread_mutex_unlock (&b->lock);
  json_decref (value);
}

json_t *
board_vm_report (struct board *b, const char *vm)
{
  json_t *out = NULL;
  json_t *r;
  pthread_mutex_lock (&b->lock);
  r = json_object_get (b->vms, vm);
  if (r) {
    json_t *disks = json_array ();
    const char *k;
    json_t *d;
    json_object_foreach (json_object_get (r, "disks"), k, d)
      json_array_append_new (disks, json_pack ("{s:O, s:O, s:O, s:O, s:O, s:O}",
                                               "disk", json_object_get (d, "disk"),
                                               "volume", json_object_get (d, "volume"),
                                               "result", json_object_get (d, "result"),
                                               "bytes", json_object_get (d, "bytes"),
                                               "total", json_object_get (d, "total"),
                                               "seconds", json_object_get (d, "seconds")));
    out = json_pack ("{s:s, s:O?, s:O?, s:O?, s:O?, s:o}", "vm", vm,
                     "result", json_object_get (r, "result"),
                     "exit_code", json_object_get (r, "exit_code"),
                     "error", json_object_get (r, "error"),
                     "seconds", json_object_get (r, "seconds"), "disks", disks);
    if (out)
      json_object_update (out, json_object_get (r, "notes"));
  }
  pthread_mutex_unlock (&b->lock);
  return out;
}
