/* ferry config: show the effective configuration, list the keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "cli/cli.h"
#include "config/yaml.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/redact.h"

static const char *
type_name (enum cfg_type t)
{
  switch (t) {
  case CFG_ANY: return "any";
  case CFG_STRING: return "string";
  case CFG_BOOL: return "bool";
  case CFG_INT: return "int";
  case CFG_STRING_LIST: return "list";
  case CFG_STRING_OR_LIST: return "string|list";
  case CFG_DICT: return "dict";
  case CFG_LIST: return "list";
  case CFG_CLOUD: return "dict|name";
  }
  return "?";
}

static int
show_keys (void)
{
  for (size_t i = 0; i < config_nkeys; i++) {
    const struct cfg_key *k = &config_keys[i];
    printf ("%-42s %-11s %-14s %s", k->name, type_name (k->type),
            k->deflt ? k->deflt : "-", k->help);
    if (k->prefixed || k->aliases[0]) {
      printf (" [also:");
      if (k->prefixed)
        printf (" import_workloads_%s", k->name);
      for (size_t a = 0; a < 3 && k->aliases[a]; a++)
        printf (" %s", k->aliases[a]);
      printf ("]");
    }
    printf ("\n");
  }
  return FERRY_EXIT_OK;
}

int
cmd_config (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "format", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 }
  };
  const char *format = "yaml";
  const char *action;
  CLEANUP_JSON json_t *eff = NULL;
  CLEANUP_JSON json_t *masked = NULL;
  CLEANUP_FREE char *err = NULL;
  CLEANUP_FREE char *out = NULL;
  int c, r;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT "f:", opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    if (c == 'f')
      format = optarg;
    else
      return cli_bad_option (cli, argv);
  }
  /* Options may also follow the action: ferry config show --format json */
  if (optind >= argc) {
    fprintf (stderr, "ferry config: say 'show' or 'keys'.\nUsage: %s\n", cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  action = argv[optind++];
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT "f:", opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    if (c == 'f')
      format = optarg;
    else
      return cli_bad_option (cli, argv);
  }
  if (optind < argc) {
    fprintf (stderr, "ferry config: unexpected argument '%s'\nUsage: %s\n",
             argv[optind], cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  if (strcmp (format, "yaml") && strcmp (format, "json")) {
    fprintf (stderr, "ferry config: --format must be yaml or json, not '%s'\n", format);
    return FERRY_EXIT_USAGE;
  }

  if (strcmp (action, "keys") == 0)
    return show_keys ();
  if (strcmp (action, "show") != 0) {
    fprintf (stderr, "ferry config: unknown action '%s': say 'show' or 'keys'\n", action);
    return FERRY_EXIT_USAGE;
  }

  r = cli_load_config (cli);
  if (r)
    return r;
  eff = config_effective (cli->cfg, true, &err);
  if (eff == NULL) {
    log_error ("%s", err ? err : "cannot build the effective configuration");
    return FERRY_EXIT_USAGE;
  }
  masked = redact_json (eff);
  if (strcmp (format, "json") == 0)
    out = json_dumps (masked, JSON_INDENT (2) | JSON_SORT_KEYS);
  else
    out = yaml_dump (masked);
  if (out == NULL) {
    log_error ("out of memory formatting the configuration");
    return FERRY_EXIT_FAILED;
  }
  fputs (out, stdout);
  if (strcmp (format, "json") == 0)
    putchar ('\n');
  return FERRY_EXIT_OK;
}
