/* ferry conversion-host deploy|status|delete: the conversion host in the
 * destination cloud (src/migrate/conversion-host.c does the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "cli/cli.h"
#include "conversion-host/conversion-host.h"
#include "config/clouds.h"
#include "config/validate.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

static void
print_deploy (const json_t *r)
{
  const json_t *fl = json_object_get (r, "flavor");
  const json_t *fip = json_object_get (r, "floating_ip");
  const json_t *srv = json_object_get (r, "server");
  const char *ssh = json_string_value (json_object_get (r, "ssh"));

  printf ("conversion host %s: server %s (%s) %s, %s\n",
          json_string_value (json_object_get (r, "name")),
          json_string_value (json_object_get (srv, "name")),
          json_string_value (json_object_get (srv, "id")),
          json_string_value (json_object_get (srv, "status")),
          json_is_true (json_object_get (r, "reused")) ? "reused" : "created");
  printf ("  flavor:  %s (%lld vCPU, %lld MiB, %lld GB)\n",
          json_string_value (json_object_get (fl, "original_name")) ?: "?",
          json_integer_value (json_object_get (fl, "vcpus")),
          json_integer_value (json_object_get (fl, "ram")),
          json_integer_value (json_object_get (fl, "disk")));
  printf ("  address: %s%s\n", json_string_value (json_object_get (r, "address")) ?: "(none)",
          json_is_object (fip) ? " (floating IP)" : "");
  printf ("  ssh:     %s%s%s\n", ssh, json_object_get (r, "ssh_detail") ? ": " : "",
          json_string_value (json_object_get (r, "ssh_detail")) ?: "");
  printf ("\n# Inventory (the seeds' format):\n%s",
          json_string_value (json_object_get (r, "inventory")));
}

static void
print_status (const json_t *r)
{
  const json_t *fl = json_object_get (r, "flavor");
  const json_t *vol = json_object_get (r, "volumes");
  const char *k;
  json_t *list, *a;
  size_t i;

  printf ("conversion host %s: server %s (%s) %s%s\n",
          json_string_value (json_object_get (r, "name")),
          json_string_value (json_object_get (r, "server_name")),
          json_string_value (json_object_get (r, "id")),
          json_string_value (json_object_get (r, "status")),
          json_is_true (json_object_get (r, "deployed_by_ferry")) ? "" : " (instance_uuid)");
  printf ("  flavor:    %s (%lld vCPU, %lld MiB, %lld GB): %lld migrations at once\n",
          json_string_value (json_object_get (fl, "original_name")) ?: "?",
          json_integer_value (json_object_get (fl, "vcpus")),
          json_integer_value (json_object_get (fl, "ram")),
          json_integer_value (json_object_get (fl, "disk")),
          json_integer_value (json_object_get (r, "parallel_capacity")));
  printf ("  volumes:   %lld attached of %lld\n",
          json_integer_value (json_object_get (vol, "attached")),
          json_integer_value (json_object_get (vol, "limit")));
  json_object_foreach ((json_t *) json_object_get (r, "addresses"), k, list)
    json_array_foreach (list, i, a)
      printf ("  address:   %s on %s (%s)\n", json_string_value (json_object_get (a, "addr")), k,
              json_string_value (json_object_get (a, "OS-EXT-IPS:type")) ?: "?");
}

static void
print_delete (const json_t *r)
{
  const json_t *srv = json_object_get (r, "server");
  const char *kinds[] = { "floating_ips", "security_groups", "flavors", NULL };
  size_t i;
  json_t *e;
  bool any = json_is_object (srv);

  if (any)
    printf ("deleted server %s (%s)\n", json_string_value (json_object_get (srv, "name")),
            json_string_value (json_object_get (srv, "id")));
  for (int k = 0; kinds[k]; k++)
    json_array_foreach (json_object_get (r, kinds[k]), i, e) {
      printf ("deleted %.*s %s\n", (int) strlen (kinds[k]) - 1, kinds[k], json_string_value (e));
      any = true;
    }
  if (!any)
    printf ("nothing to delete: no conversion host of ferry's by that name\n");
}

int
cmd_conversion_host (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "name", required_argument, NULL, 'n' },
    { "parallel", required_argument, NULL, 'p' },
    { "no-wait-ssh", no_argument, NULL, 'S' },
    { "wait-ssh", no_argument, NULL, 's' },
    { "format", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 }
  };
  struct conversion_host_opts o = { .wait_ssh = -1 };
  const char *format = "text", *action;
  CLEANUP_JSON json_t *cloud = NULL;
  CLEANUP_JSON json_t *res = NULL;
  CLEANUP_FREE char *err = NULL;
  struct os_client *os;
  int c, r;

  opterr = 0;
  while ((c = getopt_long (argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    switch (c) {
    case 'n': {
      /* The same rule as the key conversion_host_name: it goes into server names. */
      CLEANUP_JSON json_t *v = json_string (optarg);
      CLEANUP_FREE char *why = v ? config_check_value ("conversion_host_name", "--name", v)
                                 : strdup ("not valid UTF-8");
      if (why) {
        const char *rest = strstr (why, "': ");
        fprintf (stderr, "ferry conversion-host: option --name: %s\n", rest ? rest + 3 : why);
        return FERRY_EXIT_USAGE;
      }
      o.name = optarg;
      break;
    }
    case 'p': {
      long long v;
      if (parse_int_range (optarg, 1, 1000, &v) == -1) {
        fprintf (stderr, "ferry conversion-host: --parallel needs a number from 1 to 1000, "
                 "not '%s'\n", optarg);
        return FERRY_EXIT_USAGE;
      }
      o.parallel = v;
      break;
    }
    case 'S': o.wait_ssh = 0; break;
    case 's': o.wait_ssh = 1; break;
    case 'f': format = optarg; break;
    default: return cli_bad_option (cli, argv);
    }
  }
  /* GNU getopt permutes: the action may come before or after the options. */
  if (optind >= argc) {
    fprintf (stderr, "ferry conversion-host: say deploy, status or delete\nUsage: %s\n",
             cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  action = argv[optind++];
  if (optind < argc || (strcmp (action, "deploy") && strcmp (action, "status")
                        && strcmp (action, "delete"))) {
    fprintf (stderr, "ferry conversion-host: unexpected '%s': say deploy, status or delete\n"
             "Usage: %s\n", optind < argc ? argv[optind] : action, cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  if (strcmp (format, "text") && strcmp (format, "json")) {
    fprintf (stderr, "ferry conversion-host: --format must be text or json, not '%s'\n", format);
    return FERRY_EXIT_USAGE;
  }
  r = cli_load_config (cli);
  if (r)
    return r;
  cloud = clouds_resolve (cli->cfg, &err);
  if (cloud == NULL) {
    log_error ("%s", err ? err : "no OpenStack destination: set dst_cloud (or OS_CLOUD)");
    return FERRY_EXIT_USAGE;
  }
  os = os_connect (cloud, &r);
  if (os == NULL)
    return r;
  if (!strcmp (action, "deploy"))
    r = conversion_host_deploy (cli->cfg, os, &o, &res);
  else if (!strcmp (action, "status"))
    r = conversion_host_status (cli->cfg, os, &o, &res);
  else
    r = conversion_host_delete (cli->cfg, os, &o, &res);
  os_disconnect (os);
  if (res && !strcmp (format, "json")) {
    CLEANUP_FREE char *s = json_dumps (res, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    if (s)
      puts (s);
  }
  else if (res && !strcmp (action, "deploy"))
    print_deploy (res);
  else if (res && !strcmp (action, "status"))
    print_status (res);
  else if (res)
    print_delete (res);
  return r;
}
