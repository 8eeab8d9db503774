/* ferry check: check both sides before touching anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "cli/cli.h"
#include "checks/checks.h"
#include "config/validate.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

int
cmd_check (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "vm", required_argument, NULL, 'v' },
    { "format", required_argument, NULL, 'f' },
    { "warm", no_argument, NULL, 'w' },
    { "parallel", required_argument, NULL, 'P' },
    { NULL, 0, NULL, 0 }
  };
  const char *format = "table";
  CLEANUP_JSON json_t *names = json_array ();
  CLEANUP_JSON json_t *rows = json_array ();
  CLEANUP_JSON json_t *vms = json_array ();
  bool warm;
  int c, r, fails = 0, warns = 0, parallel = 0;
  long long n;
  size_t i;
  json_t *row;

  opterr = 0;
  warm = false;
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    switch (c) {
    case 'v': json_array_append_new (names, json_string (optarg)); break;
    case 'f': format = optarg; break;
    case 'w': warm = true; break;
    case 'P':
      if (parse_int_range (optarg, 1, 1000, &n) == -1) {
        fprintf (stderr, "ferry check: --parallel needs a number from 1 to 1000, not '%s'\n",
                 optarg);
        return FERRY_EXIT_USAGE;
      }
      parallel = (int) n;
      break;
    default: return cli_bad_option (cli, argv);
    }
  }
  if (optind < argc) {
    fprintf (stderr, "ferry check: unexpected argument '%s'\nUsage: %s\n", argv[optind],
             cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  if (strcmp (format, "table") && strcmp (format, "json")) {
    fprintf (stderr, "ferry check: --format must be table or json, not '%s'\n", format);
    return FERRY_EXIT_USAGE;
  }
  r = cli_load_config (cli);
  if (r)
    return r;
  warm = warm || config_get_bool (cli->cfg, "cbt_sync");
  if (json_array_size (names) == 0 && json_array_size (config_get (cli->cfg, "vms_list")) == 0) {
    log_error ("no VMs selected: set vms_list or give --vm NAME");
    return FERRY_EXIT_USAGE;
  }

  checks_vmware (cli->cfg, json_array_size (names) ? names : NULL, warm, rows, vms);
  checks_openstack (cli->cfg, vms, rows);
  checks_conversion (cli->cfg, vms, rows);
  checks_sizing (cli->cfg, parallel ? parallel : (int) config_get_int (cli->cfg, "ferry_parallel"),
                 vms, rows);

  json_array_foreach (rows, i, row) {
    const char *st = json_string_value (json_object_get (row, "status"));
    fails += strcmp (st, "fail") == 0;
    warns += strcmp (st, "warn") == 0;
  }
  if (strcmp (format, "json") == 0) {
    CLEANUP_FREE char *s = json_dumps (rows, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    if (s) puts (s);
  }
  else {
    printf ("%-6s %-12s %-24s %s\n", "RESULT", "CHECK", "TARGET", "DETAIL");
    json_array_foreach (rows, i, row)
      printf ("%-6s %-12s %-24s %s\n", json_string_value (json_object_get (row, "status")),
              json_string_value (json_object_get (row, "check")),
              json_string_value (json_object_get (row, "target")),
              json_string_value (json_object_get (row, "detail")));
    printf ("%zu checks: %zu passed, %d warnings, %d failed\n", json_array_size (rows),
            json_array_size (rows) - fails - warns, warns, fails);
  }
  return fails ? FERRY_EXIT_FAILED : FERRY_EXIT_OK;
}
