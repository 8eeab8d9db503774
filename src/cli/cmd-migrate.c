/* ferry migrate: move the selected VMs (cold). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <getopt.h>
#include <stdatomic.h>

#include "cli/cli.h"
#include "migrate/migrate.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

static atomic_bool cancel_flag;

static void
on_signal (int sig)
{
  (void) sig;
  atomic_store (&cancel_flag, true);
}

/* Options shared by the commands that take a VM selection. */
int
cli_parse_selection (struct cli *cli, int argc, char **argv, json_t *names, bool *dry_run,
                     const char **format)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "vm", required_argument, NULL, 'v' },
    { "dry-run", no_argument, NULL, 'n' },
    { "format", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 }
  };
  int c, r;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    switch (c) {
    case 'v': json_array_append_new (names, json_string (optarg)); break;
    case 'n':
      if (dry_run == NULL)
        return cli_bad_option (cli, argv);
      *dry_run = true;
      break;
    case 'f':
      if (format == NULL)
        return cli_bad_option (cli, argv);
      *format = optarg;
      break;
    default: return cli_bad_option (cli, argv);
    }
  }
  if (optind < argc) {
    fprintf (stderr, "ferry %s: unexpected argument '%s' (use --vm NAME)\nUsage: %s\n",
             cli->cmd->name, argv[optind], cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  r = cli_load_config (cli);
  if (r)
    return r;
  if (json_array_size (names) == 0 && json_array_size (config_get (cli->cfg, "vms_list")))
    json_array_extend (names, config_get (cli->cfg, "vms_list"));
  return 0;
}

int
cmd_migrate (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  struct migrate_opts o = { .cancel = &cancel_flag };
  struct sigaction sa = { .sa_handler = on_signal };
  int r;

  r = cli_parse_selection (cli, argc, argv, names, &o.dry_run, NULL);
  if (r)
    return r;
  if (json_array_size (names) == 0) {
    log_error ("no VMs selected: set vms_list or give --vm NAME");
    return FERRY_EXIT_USAGE;
  }
  o.dry_run = o.dry_run || config_get_bool (cli->cfg, "dry_run");
  if (config_get_bool (cli->cfg, "cbt_sync")) {
    log_error ("cbt_sync is set: warm migration (ferry sync / ferry cutover) is not built yet "
               "in this version; unset cbt_sync for a cold migration");
    return FERRY_EXIT_USAGE;
  }
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  r = migrate_vms (cli->cfg, names, &o);
  if (r == 0 && config_get_bool (cli->cfg, "os_migrate_tear_down") && !o.dry_run) {
    log_info ("os_migrate_tear_down: deleting what was created");
    r = migrate_teardown (cli->cfg, names);
  }
  return r;
}

int
cmd_status (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  CLEANUP_JSON json_t *st = NULL;
  const char *format = "table";
  size_t i;
  json_t *v;
  int r;

  r = cli_parse_selection (cli, argc, argv, names, NULL, &format);
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
  printf ("%-28s %-18s %14s %9s %-38s %s\n", "VM", "PHASE", "COPIED", "SECONDS", "SERVER", "ERROR");
  json_array_foreach (st, i, v) {
    const json_t *dur = json_object_get (v, "durations");
    printf ("%-28s %-18s %14lld %9.1f %-38s %s\n", json_string_value (json_object_get (v, "name")),
            json_string_value (json_object_get (v, "phase")),
            (long long) json_integer_value (json_object_get (v, "bytes_copied")),
            json_number_value (json_object_get (dur, "total_s")),
            json_string_value (json_object_get (json_object_get (v, "server"), "id")) ?: "-",
            json_string_value (json_object_get (v, "error")) ?: "");
  }
  return 0;
}

int
cmd_teardown (struct cli *cli, int argc, char **argv)
{
  CLEANUP_JSON json_t *names = json_array ();
  int r = cli_parse_selection (cli, argc, argv, names, NULL, NULL);

  if (r)
    return r;
  return migrate_teardown (cli->cfg, names);
}
