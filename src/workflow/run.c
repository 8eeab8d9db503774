/* ferry: a migration run -- the VMs discovered and selected, worker
 * threads (o->parallel; each with its own vSphere session and OpenStack
 * token) taking VMs in turn, each VM a job (pipeline.c), the disk limits
 * shared, then the summary and the report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workflow/job.h"
#include "workflow/board.h"
#include "conversion-host/conversion-host.h"
#include "config/clouds.h"
#include "openstack/resources.h"
#include "vsphere/select.h"
#include "vsphere/vsconfig.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

/* A worker: VMs one after another until none is left.  Worker 0 uses the
 * caller's connections; the others log in on their own (one vSphere
 * session and one OpenStack token each: a session is one HTTP connection
 * and one cookie, not shared between threads). */
struct worker {
  struct shared *sh;
  const struct config *cfg;
  const struct migrate_opts *o;
  const json_t *cloud;
  struct vsphere *vs;         /* worker 0: the caller's */
  struct os_client *os;
  unsigned index;
};

static void *
worker_main (void *arg)
{
  struct worker *w = arg;
  struct shared *sh = w->sh;
  struct ctx c = { .cfg = w->cfg, .o = w->o, .sh = sh, .vs = w->vs, .os = w->os,
                   .data_dir = config_get_string (w->cfg, "os_migrate_vmw_data_dir") };
  double api_s = 0, copy_s = 0;
  int rc;

  if (c.os == NULL && (c.os = os_connect (w->cloud, &rc)) == NULL) {
    log_error ("parallel worker %u: cannot connect to OpenStack (see above): its VMs go to "
               "the other workers", w->index);
    return NULL;
  }
  if (c.vs == NULL) {
    if (vs_connect_config (w->cfg, &c.vs)) {
      log_error ("parallel worker %u: cannot log in to vCenter (see above): its VMs go to "
                 "the other workers", w->index);
      os_disconnect (c.os);
      return NULL;
    }
    vs_keepalive_start (c.vs, 240);
  }
  pthread_mutex_init (&c.lock, NULL);
  for (;;) {
    struct log_errors errs = { .lock = PTHREAD_MUTEX_INITIALIZER };
    const json_t *vm;
    const char *name;
    size_t i;
    double v0;

    pthread_mutex_lock (&sh->lock);
    i = sh->next;
    if (i < json_array_size (sh->vms) && !job_cancelled (&c))
      sh->next++;
    pthread_mutex_unlock (&sh->lock);
    if (i >= json_array_size (sh->vms) || job_cancelled (&c))
      break;
    vm = json_array_get (sh->vms, i);
    name = json_string_value (json_object_get (vm, "name"));
    v0 = now_s ();
    log_set_context (name);
    log_set_errors (&errs);
    c.errors = &errs;
    board_vm_start (sh->board, name);
    rc = job_run (&c, vm, &api_s, &copy_s);
    log_set_errors (NULL);
    log_set_context (NULL);
    c.errors = NULL;
    board_vm_done (sh->board, name, rc == 0 ? "ok" : rc == FERRY_EXIT_INTERRUPTED
                   ? "interrupted" : "failed", rc, rc ? errs.first : NULL, now_s () - v0);
    pthread_mutex_lock (&sh->lock);
    sh->rcs[i] = rc;
    sh->seconds[i] = now_s () - v0;
    pthread_mutex_unlock (&sh->lock);
    free (errs.first);
    free (errs.last);
    pthread_mutex_destroy (&errs.lock);
  }
  pthread_mutex_lock (&sh->lock);
  sh->api_s += api_s;
  sh->copy_s += copy_s;
  pthread_mutex_unlock (&sh->lock);
  pthread_mutex_destroy (&c.lock);
  free (c.conv_host);
  if (w->vs == NULL)
    vs_disconnect (c.vs);
  if (w->os == NULL)
    os_disconnect (c.os);
  return NULL;
}

static enum board_mode
board_mode_of (const char *progress, int parallel)
{
  if (progress && strcmp (progress, "json") == 0)
    return BOARD_JSON;
  if (progress && strcmp (progress, "tty") == 0)
    return BOARD_TTY;
  if (progress && strcmp (progress, "plain") == 0)
    return BOARD_PLAIN;
  return parallel > 1 && isatty (STDERR_FILENO) ? BOARD_TTY : BOARD_PLAIN;
}

/* The report: one object per VM named, in order (not found ones too). */
static json_t *
make_report (struct shared *sh, const json_t *names, const json_t *vms)
{
  json_t *report = json_array ();
  size_t i, k;
  json_t *n, *vm;

  json_array_foreach (names, i, n) {
    json_t *r = NULL;
    bool found = false;
    json_array_foreach (vms, k, vm)
      if (strcmp (json_string_value (json_object_get (vm, "name")) ?: "",
                  json_string_value (n) ?: "") == 0) {
        found = true;
        r = board_vm_report (sh->board, json_string_value (n));
      }
    if (r == NULL)
      r = json_pack ("{s:O, s:s, s:i, s:s, s:f, s:[]}", "vm", n,
                     "result", found ? "not-started" : "not-found",
                     "exit_code", found ? FERRY_EXIT_INTERRUPTED : FERRY_EXIT_FAILED,
                     "error", found ? "not started: the run was interrupted"
                     : "no VM of that name on vCenter", "seconds", 0.0, "disks");
    /* The run's credentials crossed these in clear (plain-http.c). */
    {
      json_t *plain = os_plain_http_endpoints ();
      if (json_array_size (plain))
        json_object_set_new (r, "plain_http_endpoints", plain);
      else
        json_decref (plain);
    }
    json_array_append_new (report, r);
  }
  return report;
}

/* The run's limits: VMs at once, disk copies at once overall and per
 * ESXi host (options first, then the configuration). */
struct limits {
  int parallel, max_disks, per_host;
};

static struct limits
run_limits (const struct config *cfg, const struct migrate_opts *o)
{
  struct limits l = {
    .parallel = o->parallel > 0 ? o->parallel : (int) config_get_int (cfg, "ferry_parallel"),
    .max_disks = o->max_disks > 0 ? o->max_disks : (int) config_get_int (cfg, "ferry_max_disks"),
    .per_host = o->max_disks_per_host > 0 ? o->max_disks_per_host
      : (int) config_get_int (cfg, "ferry_max_disks_per_host"),
  };

  if (l.parallel < 1)
    l.parallel = 1;
  if (o->dry_run)
    l.parallel = 1;             /* the plans come one after another */
  if (l.max_disks <= 0)
    l.max_disks = 2 * l.parallel;
  return l;
}

/* What the workers share, for the selected VMs.  0 or -1 (out of memory). */
static int
shared_init (struct shared *sh, const struct config *cfg, const struct migrate_opts *o,
             const struct limits *l, const json_t *vms, FILE *events)
{
  size_t i;

  sh->vms = vms;
  sh->rcs = calloc (json_array_size (vms) + 1, sizeof *sh->rcs);
  sh->seconds = calloc (json_array_size (vms) + 1, sizeof *sh->seconds);
  sh->slots = slots_new (l->max_disks, l->per_host);
  sh->board = board_new (board_mode_of (o->progress, l->parallel), events);
  if (!sh->rcs || !sh->seconds || !sh->slots || !sh->board)
    return -1;
  for (i = 0; i < json_array_size (vms); i++)
    sh->rcs[i] = -1;
  sh->quiet_progress = board_mode_of (o->progress, l->parallel) != BOARD_PLAIN;
  /* A VM's disks at once: as many as the overall limit leaves it when
   * every worker copies (at least 1); export leases allow one at a time. */
  sh->disks_per_vm = l->max_disks / l->parallel > 1 ? l->max_disks / l->parallel : 1;
  if (strcmp (config_get_string (cfg, "disk_source") ?: "", "export") == 0)
    sh->disks_per_vm = 1;
  if (l->parallel > 1)
    log_info ("migrating %zu VMs, %d at once; at most %d disks copied at once (%d per ESXi "
              "host, %d per VM)", json_array_size (vms), l->parallel, l->max_disks, l->per_host,
              sh->disks_per_vm);
  return 0;
}

static void
shared_free (struct shared *sh)
{
  json_decref (sh->flavors);
  json_decref (sh->lookups);
  slots_free (sh->slots);
  board_free (sh->board);
  free (sh->rcs);
  free (sh->seconds);
}

/* Has every VM started finished (or the run been interrupted)? */
static bool
all_done (struct shared *sh, const struct migrate_opts *o)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&sh->lock);
  if (o->cancel && atomic_load (o->cancel))
    return true;
  if (sh->next < json_array_size (sh->vms))
    return false;
  for (size_t i = 0; i < sh->next; i++)
    if (sh->rcs[i] == -1)
      return false;
  return true;
}

/* The workers: the first with the caller's connections (in this thread
 * when it is the only one), the others logging in on their own; the
 * progress lines redrawn while they run.  0 or -1 (out of memory). */
static int
run_workers (struct shared *sh, const struct config *cfg, const struct migrate_opts *o,
             const json_t *cloud, struct vsphere *vs, struct os_client *os, int parallel)
{
  size_t nworkers = (size_t) parallel < json_array_size (sh->vms) ? (size_t) parallel
    : json_array_size (sh->vms);
  CLEANUP_FREE struct worker *workers = calloc (nworkers + 1, sizeof *workers);
  CLEANUP_FREE pthread_t *threads = calloc (nworkers + 1, sizeof *threads);
  size_t i, started = 0;

  if (!workers || !threads)
    return -1;
  for (i = 0; i < nworkers; i++)
    workers[i] = (struct worker) { .sh = sh, .cfg = cfg, .o = o, .cloud = cloud,
                                   .vs = i == 0 ? vs : NULL, .os = i == 0 ? os : NULL,
                                   .index = (unsigned) i };
  if (nworkers == 0)
    return 0;                   /* no VM found: nothing to run (the report says so) */
  if (nworkers == 1) {
    worker_main (&workers[0]);
    return 0;
  }
  for (i = 0; i < nworkers; i++) {
    if (pthread_create (&threads[i], NULL, worker_main, &workers[i]) != 0) {
      log_warn ("cannot start parallel worker %zu: %s", i, strerror (errno));
      break;
    }
    started++;
  }
  if (started == 0)
    worker_main (&workers[0]);
  while (!all_done (sh, o)) {
    board_draw (sh->board, false);
    sleep_ms (250);
  }
  for (i = 0; i < started; i++)
    pthread_join (threads[i], NULL);
  board_draw (sh->board, true);
  return 0;
}

/* The outcome per VM: a table on stderr, the board's summary, the report
 * file.  The run's exit code. */
static int
run_outcome (struct shared *sh, const json_t *names, const struct migrate_opts *o, int missing,
             bool interrupted, double t0)
{
  const json_t *vms = sh->vms;
  int failed = 0, last_rc = 0, ok = 0;
  size_t i;
  json_t *vm;

  json_array_foreach (vms, i, vm) {
    if (sh->rcs[i] == 0)
      ok++;
    else if (sh->rcs[i] > 0) {
      failed++;
      last_rc = sh->rcs[i];
    }
    /* A signal that came once every VM had finished interrupted nothing. */
    if (sh->rcs[i] == FERRY_EXIT_INTERRUPTED || sh->rcs[i] == -1)
      interrupted = true;
  }
  if (!interrupted && o->cancel && atomic_load (o->cancel))
    log_info ("a signal arrived after every VM had finished: nothing was interrupted");
  if (!o->dry_run) {
    fprintf (stderr, "\n%-28s %-11s %4s %8s  %s\n", "VM", "RESULT", "EXIT", "SECONDS", "ERROR");
    json_array_foreach (vms, i, vm) {
      CLEANUP_JSON json_t *r = board_vm_report (sh->board, json_string_value (json_object_get (vm, "name")));
      fprintf (stderr, "%-28s %-11s %4d %8.1f  %s\n", json_string_value (json_object_get (vm, "name")),
               sh->rcs[i] == -1 ? "not-started" : sh->rcs[i] == 0 ? "ok"
               : sh->rcs[i] == FERRY_EXIT_INTERRUPTED ? "interrupted" : "failed",
               sh->rcs[i] == -1 ? FERRY_EXIT_INTERRUPTED : sh->rcs[i], sh->seconds[i],
               json_string_value (json_object_get (r, "error")) ?: "");
    }
    fprintf (stderr, "%zu VMs: %d migrated, %d failed, %d not found (%.1f s)\n",
             json_array_size (vms) + missing, ok, failed, missing, now_s () - t0);
  }
  board_summary (sh->board, json_array_size (vms) + missing, (size_t) ok, (size_t) failed,
                 (size_t) missing, now_s () - t0);
  if (o->report_path) {
    CLEANUP_JSON json_t *report = make_report (sh, names, vms);
    if (json_dump_file (report, o->report_path, JSON_INDENT (2) | JSON_PRESERVE_ORDER) == -1)
      log_error ("--report %s: cannot write it", o->report_path);
  }
  if (getenv ("FERRY_STATS"))
    fprintf (stderr, "ferry-stats: migrate seconds=%.3f copy_seconds=%.3f api_seconds=%.3f\n",
             now_s () - t0, sh->copy_s, now_s () - t0 - sh->copy_s);
  if (interrupted)
    return FERRY_EXIT_INTERRUPTED;
  if (failed + missing == 0)
    return 0;
  if (failed == 1 && missing == 0 && json_array_size (vms) == 1)
    return last_rc;
  return FERRY_EXIT_FAILED;
}

int
migrate_vms (const struct config *cfg, const json_t *names, const struct migrate_opts *o)
{
  struct shared sh = { .lock = PTHREAD_MUTEX_INITIALIZER };
  /* Copies read disks with the session's cookie for a long time without a
   * SOAP call: the session is kept from idling out. */
  struct vm_select_opts sopts = { .keepalive_s = 240 };
  struct vm_selection sel = { 0 };
  struct limits l = run_limits (cfg, o);
  struct os_client *os = NULL;
  CLEANUP_JSON json_t *cloud = NULL;
  CLEANUP_FREE char *err = NULL;
  FILE *events = NULL;
  int rc;
  bool interrupted = o->cancel && atomic_load (o->cancel);   /* before the run started */
  double t0 = now_s ();

  cloud = clouds_resolve (cfg, &err);
  if (cloud == NULL) {
    log_error ("%s", err ? err : "no OpenStack destination: set dst_cloud (or OS_CLOUD)");
    return FERRY_EXIT_USAGE;
  }
  if (o->events_path && (events = fopen (o->events_path, "ae")) == NULL) {
    log_error ("--events %s: %s", o->events_path, strerror (errno));
    return FERRY_EXIT_USAGE;
  }
  os = os_connect (cloud, &rc);
  if (os == NULL)
    goto done;
  /* already_deploy_conversion_host: false -- deploy or reuse it first. */
  if ((!o->dry_run && (rc = conversion_host_auto (cfg, os)) != 0)
      || (rc = select_vms (cfg, names, &sopts, &sel)) != 0)
    goto done;
  sh.api_s = now_s () - t0;
  if (shared_init (&sh, cfg, o, &l, sel.vms, events) == -1
      || run_workers (&sh, cfg, o, cloud, sel.vs, os, l.parallel) == -1) {
    rc = FERRY_EXIT_FAILED;
    goto done;
  }
  rc = run_outcome (&sh, names, o, sel.missing, interrupted, t0);
 done:
  shared_free (&sh);
  vm_selection_clear (&sel);
  os_disconnect (os);
  if (events)
    fclose (events);
  return rc;
}
