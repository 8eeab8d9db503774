/* ferry discover: inventory VMs and flag what blocks their migration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "cli/cli.h"
#include "config/yaml.h"
#include "vsphere/inventory.h"
#include "vsphere/select.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

static long long
provisioned (const json_t *vm)
{
  long long t = 0;
  json_t *d;
  size_t i;
  json_array_foreach (json_object_get (vm, "disks"), i, d)
    t += json_integer_value (json_object_get (d, "capacity_bytes"));
  return t;
}

static void
human (long long b, char *buf, size_t n)
{
  const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = b;
  int i = 0;
  while (v >= 1024 && i < 5) { v /= 1024; i++; }
  snprintf (buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void
print_table (const json_t *vms)
{
  long long cpus = 0, mem = 0, prov = 0;
  json_t *vm;
  size_t i;

  printf ("%-28s %-10s %4s %8s %5s %10s %-5s %-24s %-4s %s\n", "NAME", "POWER", "CPU",
          "MEM-MiB", "DISKS", "SIZE", "FW", "GUEST", "CBT", "ASSESSMENT");
  json_array_foreach (vms, i, vm) {
    char size[32];
    const char *ps = json_string_value (json_object_get (vm, "power_state"));
    size_t nb = json_array_size (json_object_get (vm, "blockers"));
    size_t nw = json_array_size (json_object_get (vm, "warnings"));
    long long p = provisioned (vm);
    human (p, size, sizeof size);
    printf ("%-28s %-10s %4lld %8lld %5zu %10s %-5s %-24.24s %-4s %s\n",
            json_string_value (json_object_get (vm, "name")),
            ps && strncmp (ps, "powered", 7) == 0 ? ps + 7 : (ps ? ps : "?"),
            json_integer_value (json_object_get (vm, "num_cpu")),
            json_integer_value (json_object_get (vm, "memory_mb")),
            json_array_size (json_object_get (vm, "disks")), size,
            json_string_value (json_object_get (vm, "firmware")),
            json_string_value (json_object_get (vm, "guest_id"))
              ? json_string_value (json_object_get (vm, "guest_id")) : "-",
            json_is_true (json_object_get (vm, "cbt_enabled")) ? "on" : "off",
            nb ? "BLOCKED" : nw ? "warnings" : "ok");
    cpus += json_integer_value (json_object_get (vm, "num_cpu"));
    mem += json_integer_value (json_object_get (vm, "memory_mb"));
    prov += p;
  }
  {
    char size[32];
    human (prov, size, sizeof size);
    printf ("Total: %zu VMs, %lld vCPUs, %lld MiB memory, %s provisioned\n",
            json_array_size (vms), cpus, mem, size);
  }
  json_array_foreach (vms, i, vm) {
    json_t *m;
    size_t k;
    json_array_foreach (json_object_get (vm, "blockers"), k, m)
      printf ("%s: blocker: %s\n", json_string_value (json_object_get (vm, "name")),
              json_string_value (m));
    json_array_foreach (json_object_get (vm, "warnings"), k, m)
      printf ("%s: warning: %s\n", json_string_value (json_object_get (vm, "name")),
              json_string_value (m));
  }
}

static void
csv_field (const char *s, bool last)
{
  if (s == NULL)
    s = "";
  if (strpbrk (s, ",\"\n")) {
    putchar ('"');
    for (const char *p = s; *p; p++) {
      if (*p == '"') putchar ('"');
      putchar (*p);
    }
    putchar ('"');
  }
  else
    fputs (s, stdout);
  putchar (last ? '\n' : ',');
}

static char *
joined (const json_t *arr, const char *sep)
{
  size_t n = 1, i;
  json_t *v;
  char *out;
  json_array_foreach (arr, i, v)
    n += strlen (json_string_value (v) ? json_string_value (v) : "") + strlen (sep);
  out = calloc (1, n);
  json_array_foreach (arr, i, v) {
    if (i) strcat (out, sep);
    strcat (out, json_string_value (v) ? json_string_value (v) : "");
  }
  return out;
}

static void
print_csv (const json_t *vms)
{
  json_t *vm;
  size_t i;

  printf ("name,moref,power_state,num_cpu,memory_mb,firmware,guest_id,host,cluster,"
          "datastores,disks,provisioned_bytes,nics,cbt_enabled,blockers,warnings\n");
  json_array_foreach (vms, i, vm) {
    char num[64];
    CLEANUP_FREE char *ds = joined (json_object_get (vm, "datastores"), ";");
    CLEANUP_FREE char *bl = joined (json_object_get (vm, "blockers"), "; ");
    CLEANUP_FREE char *wa = joined (json_object_get (vm, "warnings"), "; ");
    csv_field (json_string_value (json_object_get (vm, "name")), false);
    csv_field (json_string_value (json_object_get (vm, "moref")), false);
    csv_field (json_string_value (json_object_get (vm, "power_state")), false);
    snprintf (num, sizeof num, "%lld", (long long) json_integer_value (json_object_get (vm, "num_cpu")));
    csv_field (num, false);
    snprintf (num, sizeof num, "%lld", (long long) json_integer_value (json_object_get (vm, "memory_mb")));
    csv_field (num, false);
    csv_field (json_string_value (json_object_get (vm, "firmware")), false);
    csv_field (json_string_value (json_object_get (vm, "guest_id")), false);
    csv_field (json_string_value (json_object_get (json_object_get (vm, "host"), "name")), false);
    csv_field (json_string_value (json_object_get (vm, "cluster")), false);
    csv_field (ds, false);
    snprintf (num, sizeof num, "%zu", json_array_size (json_object_get (vm, "disks")));
    csv_field (num, false);
    snprintf (num, sizeof num, "%lld", provisioned (vm));
    csv_field (num, false);
    snprintf (num, sizeof num, "%zu", json_array_size (json_object_get (vm, "nics")));
    csv_field (num, false);
    csv_field (json_is_true (json_object_get (vm, "cbt_enabled")) ? "true" : "false", false);
    csv_field (bl, false);
    csv_field (wa, true);
  }
}

int
cmd_discover (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    CLI_COMMON_LONG,
    { "vm", required_argument, NULL, 'v' },
    { "all", no_argument, NULL, 'a' },
    { "format", required_argument, NULL, 'f' },
    { "output-dir", required_argument, NULL, 'o' },
    { "no-write", no_argument, NULL, 'n' },
    { NULL, 0, NULL, 0 }
  };
  const char *format = "table", *outdir = NULL;
  bool all = false, write = true;
  CLEANUP_JSON json_t *names = json_array ();
  CLEANUP_VM_SELECTION struct vm_selection sel = { 0 };
  struct vm_select_opts so = { .logout = true, .stats = true };
  const json_t *vms;
  int c, r, rc = FERRY_EXIT_OK;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+" CLI_COMMON_SHORT, opts, NULL)) != -1) {
    if (cli_common_option (cli, c, optarg))
      continue;
    switch (c) {
    case 'v': json_array_append_new (names, json_string (optarg)); break;
    case 'a': all = true; break;
    case 'f': format = optarg; break;
    case 'o': outdir = optarg; break;
    case 'n': write = false; break;
    default: return cli_bad_option (cli, argv);
    }
  }
  if (optind < argc) {
    fprintf (stderr, "ferry discover: unexpected argument '%s' (use --vm NAME)\nUsage: %s\n",
             argv[optind], cli->cmd->usage);
    return FERRY_EXIT_USAGE;
  }
  if (strcmp (format, "table") && strcmp (format, "json") && strcmp (format, "yaml")
      && strcmp (format, "csv")) {
    fprintf (stderr, "ferry discover: --format must be table, json, yaml or csv, not '%s'\n",
             format);
    return FERRY_EXIT_USAGE;
  }
  r = cli_load_config (cli);
  if (r)
    return r;
  if (!all && json_array_size (names) == 0) {
    json_t *l = config_get (cli->cfg, "vms_list");
    if (json_array_size (l))
      json_array_extend (names, l);
  }
  if (!all && json_array_size (names) == 0) {
    log_error ("no VMs selected: set vms_list, or give --vm NAME or --all");
    return FERRY_EXIT_USAGE;
  }
  if (outdir == NULL)
    outdir = config_get_string (cli->cfg, "os_migrate_vmw_data_dir");

  so.all = all;
  r = select_vms (cli->cfg, names, &so, &sel);
  if (r)
    return r;
  vms = sel.vms;
  if (sel.missing)
    rc = FERRY_EXIT_FAILED;

  if (write) {
    bool mapped = config_get_bool (cli->cfg, "used_mapped_networks");
    json_t *vm;
    size_t i;
    json_array_foreach (vms, i, vm)
      if (inventory_write_files (vm, outdir, mapped, config_get (cli->cfg, "network_map"),
                                 config_get_string (cli->cfg, "export_metadata_subnet_uuid")) == -1)
        rc = FERRY_EXIT_FAILED;
  }

  if (strcmp (format, "json") == 0) {
    /* Written as it is made: the text of 10,000 VMs is 18 MB. */
    if (json_dumpf (vms, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) == 0)
      putchar ('\n');
  }
  else if (strcmp (format, "yaml") == 0) {
    CLEANUP_FREE char *s = yaml_dump (vms);
    if (s) fputs (s, stdout);
  }
  else if (strcmp (format, "csv") == 0)
    print_csv (vms);
  else
    print_table (vms);
  return rc;
}
