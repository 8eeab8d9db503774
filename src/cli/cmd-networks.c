/* ferry networks plan|create: destination networks for the source port
 * groups (src/migrate/networks.c does the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <getopt.h>

#include "cli/cli.h"
#include "networks/networks.h"
#include "config/clouds.h"
#include "vsphere/select.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

static void
print_plan (const json_t *plan)
{
  size_t i, j;
  json_t *n, *e;

  json_array_foreach (json_object_get (plan, "networks"), i, n) {
    const json_t *neutron = json_object_get (n, "neutron");
    const json_t *vlan = json_object_get (n, "vlan");
    const json_t *sg = json_object_get (n, "security_group");
    printf ("%s port group '%s' (%s%s", json_string_value (json_object_get (n, "kind")),
            json_string_value (json_object_get (n, "name")),
            json_string_value (json_object_get (n, "key")),
            json_is_integer (vlan) ? ", VLAN " : "");
    if (json_is_integer (vlan))
      printf ("%lld", json_integer_value (vlan));
    printf ("): %s %s%s%s\n", json_string_value (json_object_get (n, "action")),
            json_string_value (json_object_get (neutron, "name")),
            json_string_value (json_object_get (neutron, "id")) ? " " : "",
            json_string_value (json_object_get (neutron, "id")) ?: "");
    printf ("  VMs: ");
    json_array_foreach (json_object_get (n, "vms"), j, e)
      printf ("%s%s", j ? ", " : "", json_string_value (e));
    printf ("\n  subnets (%s):", json_string_value (json_object_get (n, "subnets_from")));
    json_array_foreach (json_object_get (n, "subnets"), j, e)
      printf (" %s", json_string_value (e));
    printf ("\n");
    if (json_object_get (neutron, "provider"))
      printf ("  provider: vlan %lld on %s\n",
              json_integer_value (json_object_get (json_object_get (neutron, "provider"),
                                                   "segmentation_id")),
              json_string_value (json_object_get (json_object_get (neutron, "provider"),
                                                  "physical_network")));
    if (sg)
      printf ("  security group %s: %zu ingress rules\n",
              json_string_value (json_object_get (sg, "name")),
              json_array_size (json_object_get (sg, "rules")));
    if (json_object_get (n, "note"))
      printf ("  note: %s\n", json_string_value (json_object_get (n, "note")));
  }
}

int
cmd_networks (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "vm", required_argument, NULL, 'v' },
    { "format", required_argument, NULL, 'f' },
    { "write", required_argument, NULL, 'w' },
    { NULL, 0, NULL, 0 }
  };
  const char *format = "text", *write_file = NULL, *action;
  CLEANUP_JSON json_t *names = json_array ();
  CLEANUP_JSON json_t *cloud = NULL;
  CLEANUP_VM_SELECTION struct vm_selection sel = { 0 };
  struct vm_select_opts so = { .logout = true };
  CLEANUP_JSON json_t *plan = NULL;
  CLEANUP_FREE char *err = NULL;
  CLEANUP_FREE char *yaml = NULL;
  struct os_client *os;
  int c, r, errors = 0;

  opterr = 0;
  while ((c = getopt_long (argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    switch (c) {
    case 'v': json_array_append_new (names, json_string (optarg)); break;
    case 'f': format = optarg; break;
    case 'w': write_file = optarg; break;
    default: return cli_bad_option (cli, argv);
    }
  }
  if (optind + 1 != argc || (strcmp (argv[optind], "plan") && strcmp (argv[optind], "create"))) {
    fprintf (stderr, "ferry networks: say plan or create%s%s\nUsage: %s\n",
             optind < argc ? ", not " : "", optind < argc ? argv[argc - 1] : "",
             cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  action = argv[optind];
  if (strcmp (format, "text") && strcmp (format, "json")) {
    fprintf (stderr, "ferry networks: --format must be text or json, not '%s'\n", format);
    return FERRY_EXIT_USAGE;
  }
  if (write_file && strcmp (action, "create")) {
    fprintf (stderr, "ferry networks: --write goes with create\n");
    return FERRY_EXIT_USAGE;
  }
  r = cli_load_config (cli);
  if (r)
    return r;
  if (json_array_size (names) == 0)
    json_array_extend (names, config_get (cli->cfg, "vms_list"));
  if (json_array_size (names) == 0) {
    log_error ("no VMs selected: set vms_list or give --vm NAME");
    return FERRY_EXIT_USAGE;
  }
  cloud = clouds_resolve (cli->cfg, &err);
  if (cloud == NULL) {
    log_error ("%s", err ? err : "no OpenStack destination: set dst_cloud (or OS_CLOUD)");
    return FERRY_EXIT_USAGE;
  }
  r = select_vms (cli->cfg, names, &so, &sel);
  if (r)
    return r;
  if (sel.missing)
    return FERRY_EXIT_USAGE;
  os = os_connect (cloud, &r);
  if (os == NULL)
    return r;
  plan = networks_plan (cli->cfg, os, sel.vms, &errors);
  r = errors ? FERRY_EXIT_USAGE : 0;
  if (r == 0 && !strcmp (action, "create"))
    r = networks_create (cli->cfg, os, plan);
  os_disconnect (os);
  if (!strcmp (format, "json")) {
    CLEANUP_FREE char *s = json_dumps (plan, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    if (s)
      puts (s);
  }
  else
    print_plan (plan);
  if (!strcmp (action, "create") && r == 0) {
    yaml = networks_map_yaml (plan);
    if (yaml == NULL)
      return FERRY_EXIT_FAILED;
    if (strcmp (format, "json"))
      printf ("\n%s", yaml);
    if (write_file) {
      FILE *f = fopen (write_file, "w");
      if (f == NULL || fputs (yaml, f) == EOF || fclose (f) != 0) {
        log_error ("cannot write %s: %s; check the path", write_file, strerror (errno));
        return FERRY_EXIT_FAILED;
      }
      log_info ("network_map written to %s: use it with -e @%s", write_file, write_file);
    }
  }
  return r;
}
