/* ferry: option handling shared by the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/error.h"
#include "common/http.h"
#include "common/log.h"
#include "common/vector.h"

static string_vector cmd_e = empty_vector;

static void
free_cmd_e (void)
{
  string_vector_reset (&cmd_e);   /* elements point into argv */
}

int
cli_common_option (struct cli *cli, int c, const char *arg)
{
  switch (c) {
  case 'e':
    if (cmd_e.len == 0)
      atexit (free_cmd_e);
    string_vector_append (&cmd_e, (char *) arg);
    return 1;
  case 0x100:
    cli->debug = true;
    return 1;
  case 'q':
    cli->quiet = true;
    return 1;
  case 'h':
    cli_print_command_help (cli->cmd, stdout);
    exit (FERRY_EXIT_OK);
  }
  return 0;
}

int
cli_bad_option (struct cli *cli, char **argv)
{
  const char *bad = argv[optind - 1];

  if (optopt && optopt < 0x100 && optopt != '?')
    fprintf (stderr, "ferry %s: option '-%c' %s\n", cli->cmd->name, optopt,
             strchr (CLI_COMMON_SHORT, optopt) ? "needs a value" : "is not known");
  else
    fprintf (stderr, "ferry %s: option '%s' is not known or needs a value\n",
             cli->cmd->name, bad ? bad : "?");
  fprintf (stderr, "Usage: %s\nSee 'ferry %s --help'.\n", cli->cmd->usage, cli->cmd->name);
  return FERRY_EXIT_USAGE;
}

int
cli_load_config (struct cli *cli)
{
  int r = 0;

  if (cli->quiet)
    log_set_level (LOG_LEVEL_ERROR);
  if (cli->debug)
    log_set_level (LOG_LEVEL_DEBUG);
  for (size_t i = 0; i < cli->n_global_e; i++)
    if (config_add_arg (cli->cfg, cli->global_e[i]) == -1)
      r = -1;
  for (size_t i = 0; i < cmd_e.len; i++)
    if (config_add_arg (cli->cfg, cmd_e.ptr[i]) == -1)
      r = -1;
  if (r == -1 || cli->cfg->errors) {
    log_error ("configuration errors: nothing was done; fix the files or -e values above");
    return FERRY_EXIT_USAGE;
  }
  if (config_get_bool (cli->cfg, "debug") && !cli->quiet)
    log_set_level (LOG_LEVEL_DEBUG);
  /* Every HTTP handle made from now on (vCenter, OpenStack) gets them. */
  http_set_limits (config_get_int (cli->cfg, "http_max_body_mib"),
                   config_get_int (cli->cfg, "http_timeout"));
  return 0;
}

void
cli_print_command_help (const struct command *cmd, FILE *fp)
{
  fprintf (fp, "Usage: %s\n\n%s\n\n", cmd->usage, cmd->summary);
  if (cmd->help && *cmd->help)
    fprintf (fp, "%s\n", cmd->help);
  fprintf (fp,
           "Common options:\n"
           "  -e, --extra-vars @FILE|KEY=VALUE  configuration (YAML/JSON file or a YAML\n"
           "                                    scalar); repeatable, later wins\n"
           "      --debug                       more output\n"
           "  -q, --quiet                       errors only\n"
           "  -h, --help                        this help\n");
  if (cmd->run == NULL)
    fprintf (fp, "\n'ferry %s' is not built yet.\n", cmd->name);
}
