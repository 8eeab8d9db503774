/* ferry migrate, sync, cutover, rollback, status, teardown: the commands
 * that work on a selection of VMs, thin layers over src/migrate/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <getopt.h>
#include <stdatomic.h>
#include <time.h>
#include <errno.h>
#include <limits.h>

#include "cli/cli.h"
#include "workflow/migrate.h"
#include "vsphere/select.h"
#include "vsphere/vmops.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/signals.h"
#include "config/validate.h"

static atomic_bool cancel_flag;

static void
catch_signals (void)
{
  signals_catch (&cancel_flag);
}

int
cli_parse_selection (struct cli *cli, int argc, char **argv, struct selection *sel)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "vm", required_argument, NULL, 'v' },
    { "dry-run", no_argument, NULL, 'n' },
    { "format", required_argument, NULL, 'f' },
    { "enable-cbt", no_argument, NULL, 'c' },
    { "every", required_argument, NULL, 'E' },
    { "until-delta", required_argument, NULL, 'u' },
    { "no-conversion-host", no_argument, NULL, 'N' },
    { "args", required_argument, NULL, 'A' },
    { "parallel", required_argument, NULL, 1000 },
    { "max-disks", required_argument, NULL, 1001 },
    { "max-disks-per-host", required_argument, NULL, 1002 },
    { "progress", required_argument, NULL, 1003 },
    { "events", required_argument, NULL, 1004 },
    { "report", required_argument, NULL, 1005 },
    { NULL, 0, NULL, 0 }
  };
  const char *args_file = NULL;
  int c, r;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    switch (c) {
    case 'v': json_array_append_new (sel->names, json_string (optarg)); break;
    case 'n':
      if (!sel->dry_run) return cli_bad_option (cli, argv);
      *sel->dry_run = true;
      break;
    case 'f':
      if (!sel->format) return cli_bad_option (cli, argv);
      *sel->format = optarg;
      break;
    case 'c':
      if (!sel->enable_cbt) return cli_bad_option (cli, argv);
      *sel->enable_cbt = true;
      break;
    case 'E': {
      long long v;
      if (!sel->every)
        return cli_bad_option (cli, argv);
      if (parse_int_range (optarg, 1, 604800, &v) == -1) {
        fprintf (stderr, "ferry %s: --every needs a number of seconds from 1 to 604800, "
                 "not '%s'\n", cli->cmd->name, optarg);
        return FERRY_EXIT_USAGE;
      }
      *sel->every = (long) v;
      break;
    }
    case 'A':
      if (!sel->args_file) return cli_bad_option (cli, argv);
      args_file = optarg;
      break;
    case 'N':
      if (!sel->no_conversion_host) return cli_bad_option (cli, argv);
      *sel->no_conversion_host = true;
      break;
    case 'u': {
      unsigned long long v;
      if (!sel->until_delta)
        return cli_bad_option (cli, argv);
      if (parse_size_range (optarg, 0, LLONG_MAX, &v) == -1) {
        fprintf (stderr, "ferry %s: --until-delta needs a size in bytes from 0 to %lld "
                 "(K, M, G, T suffixes: powers of 1024), not '%s'\n", cli->cmd->name,
                 LLONG_MAX, optarg);
        return FERRY_EXIT_USAGE;
      }
      *sel->until_delta = (long long) v;
      break;
    }
    case 1000: case 1001: case 1002: {
      int *p = c == 1000 ? sel->parallel : c == 1001 ? sel->max_disks : sel->max_disks_per_host;
      long long v;
      if (p == NULL)
        return cli_bad_option (cli, argv);
      if (parse_int_range (optarg, 1, 1000, &v) == -1) {
        fprintf (stderr, "ferry %s: %s needs a number from 1 to 1000, not '%s'\n",
                 cli->cmd->name, c == 1000 ? "--parallel" : c == 1001 ? "--max-disks"
                 : "--max-disks-per-host", optarg);
        return FERRY_EXIT_USAGE;
      }
      *p = (int) v;
      break;
    }
    case 1003:
      if (!sel->progress) return cli_bad_option (cli, argv);
      if (strcmp (optarg, "auto") && strcmp (optarg, "tty") && strcmp (optarg, "json")
          && strcmp (optarg, "plain")) {
        fprintf (stderr, "ferry %s: --progress must be auto, tty, json or plain, not '%s'\n",
                 cli->cmd->name, optarg);
        return FERRY_EXIT_USAGE;
      }
      *sel->progress = optarg;
      break;
    case 1004:
      if (!sel->events) return cli_bad_option (cli, argv);
      *sel->events = optarg;
      break;
    case 1005:
      if (!sel->report) return cli_bad_option (cli, argv);
      *sel->report = optarg;
      break;
    default: return cli_bad_option (cli, argv);
    }
  }
  if (optind < argc) {
    fprintf (stderr, "ferry %s: unexpected argument '%s' (use --vm NAME)\nUsage: %s\n",
             cli->cmd->name, argv[optind], cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  /* args.json first: -e given with it wins, key by key. */
  if (args_file)
    config_add_args_file (cli->cfg, args_file);
  r = cli_load_config (cli);
  if (r)
    return r;
  if (json_array_size (sel->names) == 0 && json_array_size (config_get (cli->cfg, "vms_list")))
    json_array_extend (sel->names, config_get (cli->cfg, "vms_list"));
  return 0;
}

/* The options of many VMs at once, into a struct migrate_opts. */
#define PARALLEL_SEL(o) .parallel = &(o).parallel, .max_disks = &(o).max_disks, \
    .max_disks_per_host = &(o).max_disks_per_host, .progress = &(o).progress, \
    .events = &(o).events_path, .report = &(o).report_path

static int
need_vms (const json_t *names)
{
  if (json_array_size (names) == 0) {
    log_error ("no VMs selected: set vms_list or give --vm NAME");
    return FERRY_EXIT_USAGE;
  }
  return 0;
}

/* migrate_vms, and with --dry-run each VM's plan on stdout (JSON). */
static int
run_migration (struct cli *cli, const json_t *names, struct migrate_opts *o)
{
  CLEANUP_JSON json_t *plans = o->dry_run ? json_array () : NULL;
  size_t i;
  json_t *p;
  int r;

  o->plans = plans;
  r = migrate_vms (cli->cfg, names, o);
  json_array_foreach (plans, i, p) {
    CLEANUP_FREE char *s = json_dumps (p, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    printf ("%s\n", s ? s : "{}");
  }
  o->plans = NULL;
  return r;
}

int
cmd_migrate (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  struct migrate_opts o = { .cancel = &cancel_flag };
  struct selection sel = { .names = names, .dry_run = &o.dry_run, .enable_cbt = &o.enable_cbt,
                           .no_conversion_host = &o.no_conversion_host, .args_file = true, PARALLEL_SEL (o) };
  int r;

  r = cli_parse_selection (cli, argc, argv, &sel);
  if (r || (r = need_vms (names)))
    return r;
  o.dry_run = o.dry_run || config_get_bool (cli->cfg, "dry_run");
  /* As the reference: cbt_sync alone is a sync, with cutover a cutover. */
  if (config_get_bool (cli->cfg, "cbt_sync"))
    o.mode = config_get_bool (cli->cfg, "cutover") ? MIGRATE_CUTOVER : MIGRATE_SYNC;
  else if (config_get_bool (cli->cfg, "cutover")) {
    log_error ("cutover: true needs cbt_sync: true (a cutover ends a warm migration); for a "
               "cold migration set neither");
    return FERRY_EXIT_USAGE;
  }
  catch_signals ();
  r = run_migration (cli, names, &o);
  if (r == 0 && o.mode != MIGRATE_SYNC && config_get_bool (cli->cfg, "os_migrate_tear_down")
      && !o.dry_run) {
    log_info ("os_migrate_tear_down: deleting what was created");
    r = migrate_teardown (cli->cfg, names);
  }
  return r;
}

/* The last sync's bytes copied, over the named VMs (the most of any). */
static long long
last_delta (const struct config *cfg, const json_t *names)
{
  CLEANUP_JSON json_t *st = migrate_status (cfg, names);
  long long most = 0;
  size_t i;
  json_t *v;

  json_array_foreach (st, i, v) {
    json_t *syncs = json_object_get (v, "syncs");
    json_t *last = json_array_get (syncs, json_array_size (syncs) - 1);
    long long b = json_integer_value (json_object_get (last, "bytes_copied"));
    if (b > most)
      most = b;
  }
  return most;
}

int
cmd_sync (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  struct migrate_opts o = { .mode = MIGRATE_SYNC, .cancel = &cancel_flag };
  long every = 0;
  long long until = -1;
  struct selection sel = { .names = names, .dry_run = &o.dry_run, .enable_cbt = &o.enable_cbt,
                           .every = &every, .until_delta = &until, .args_file = true, PARALLEL_SEL (o) };
  int r;

  r = cli_parse_selection (cli, argc, argv, &sel);
  if (r || (r = need_vms (names)))
    return r;
  if (every == 0 && config_get (cli->cfg, "sync_interval"))
    every = (long) config_get_int (cli->cfg, "sync_interval");
  catch_signals ();
  for (int n = 1; ; n++) {
    r = run_migration (cli, names, &o);
    if (r || o.dry_run || (every <= 0 && until < 0))
      return r;
    if (until >= 0 && last_delta (cli->cfg, names) < until) {
      log_info ("sync %d copied less than %lld bytes: stopping (run ferry cutover)", n, until);
      return 0;
    }
    if (every <= 0)
      every = 60;
    log_info ("next sync in %ld s (Ctrl-C stops)", every);
    for (long t = 0; t < every * 10; t++) {
      struct timespec ts = { 0, 100 * 1000000L };
      if (atomic_load (&cancel_flag))
        return FERRY_EXIT_INTERRUPTED;
      nanosleep (&ts, NULL);
    }
  }
}

int
cmd_cutover (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  struct migrate_opts o = { .mode = MIGRATE_CUTOVER, .cancel = &cancel_flag };
  struct selection sel = { .names = names, .dry_run = &o.dry_run, .enable_cbt = &o.enable_cbt,
                           .args_file = true, PARALLEL_SEL (o) };
  int r;

  r = cli_parse_selection (cli, argc, argv, &sel);
  if (r || (r = need_vms (names)))
    return r;
  catch_signals ();
  return run_migration (cli, names, &o);
}

int
cmd_rollback (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  struct selection sel = { .names = names };
  CLEANUP_VM_SELECTION struct vm_selection vsel = { 0 };
  int r;
  size_t i;
  json_t *vm;

  r = cli_parse_selection (cli, argc, argv, &sel);
  if (r || (r = need_vms (names)))
    return r;
  /* The destination first: never two copies of a VM running at once. */
  r = migrate_teardown (cli->cfg, names);
  if (r)
    return r;
  r = select_vms (cli->cfg, names, NULL, &vsel);
  if (vsel.vs == NULL)
    return r;
  json_array_foreach (vsel.vms, i, vm) {
    const char *name = json_string_value (json_object_get (vm, "name"));
    const char *moref = json_string_value (json_object_get (vm, "moref"));
    CLEANUP_FREE char *ps = vm_power_state (vsel.vs, moref);
    if (ps && strcmp (ps, "poweredOff") == 0) {
      if (vm_power_on (vsel.vs, moref, name) == 0)
        log_info ("VM %s: powered on again on VMware", name);
      else
        r = FERRY_EXIT_SOURCE;
    }
  }
  return vsel.all == NULL ? FERRY_EXIT_SOURCE : vsel.missing ? FERRY_EXIT_FAILED : r;
}

int
cmd_status (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  CLEANUP_JSON json_t *st = NULL;
  const char *format = "table";
  struct selection sel = { .names = names, .format = &format };
  size_t i;
  json_t *v;
  int r;

  r = cli_parse_selection (cli, argc, argv, &sel);
  if (r)
    return r;
  if (strcmp (format, "table") && strcmp (format, "json")) {
    fprintf (stderr, "ferry status: --format must be table or json, not '%s'\n", format);
    return FERRY_EXIT_USAGE;
  }
  st = migrate_status (cli->cfg, names);
  if (strcmp (format, "json") == 0) {
    CLEANUP_FREE char *s = json_dumps (st, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    if (s) puts (s);
    return 0;
  }
  printf ("%-24s %-14s %14s %6s %10s %-38s %s\n", "VM", "PHASE", "COPIED", "SYNCS",
          "DOWNTIME", "SERVER", "ERROR");
  json_array_foreach (st, i, v) {
    char down[32] = "-";
    if (json_object_get (v, "downtime_s"))
      snprintf (down, sizeof down, "%.0f s", json_number_value (json_object_get (v, "downtime_s")));
    else if (json_object_get (v, "predicted_downtime_s"))
      snprintf (down, sizeof down, "~%.0f s", json_number_value (json_object_get (v, "predicted_downtime_s")));
    printf ("%-24s %-14s %14lld %6zu %10s %-38s %s\n", json_string_value (json_object_get (v, "name")),
            json_string_value (json_object_get (v, "phase")),
            (long long) json_integer_value (json_object_get (v, "bytes_copied")),
            json_array_size (json_object_get (v, "syncs")), down,
            json_string_value (json_object_get (json_object_get (v, "server"), "id")) ?: "-",
            json_string_value (json_object_get (v, "error")) ?: "");
  }
  return 0;
}

int
cmd_teardown (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  struct selection sel = { .names = names };
  int r = cli_parse_selection (cli, argc, argv, &sel);

  if (r || (r = need_vms (names)))
    return r;
  return migrate_teardown (cli->cfg, names);
}
