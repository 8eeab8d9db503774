/* ferry check: the conversion host's size against parallel migrations,
 * see checks_sizing in checks.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/checks.h"
#include "openstack/openstack.h"
#include "openstack/resources.h"
#include "config/clouds.h"
#include "common/cleanup.h"
#include "common/log.h"

/* The seeds' rule, per concurrent migration. */
#define VCPUS_PER_MIGRATION 1
#define RAM_MIB_PER_MIGRATION 2048LL

/* MemAvailable of this machine in MiB, or -1. */
static long long
mem_available_mib (void)
{
  FILE *fp = fopen ("/proc/meminfo", "re");
  char line[256];
  long long kib = -1;

  if (fp == NULL)
    return -1;
  while (fgets (line, sizeof line, fp))
    if (sscanf (line, "MemAvailable: %lld kB", &kib) == 1)
      break;
  fclose (fp);
  return kib < 0 ? -1 : kib / 1024;
}

static int
fits (long long vcpus, long long ram_mib)
{
  long long a = vcpus / VCPUS_PER_MIGRATION, b = ram_mib / RAM_MIB_PER_MIGRATION;
  long long n = a < b ? a : b;
  return n < 1 ? 1 : n > 1000 ? 1000 : (int) n;
}

/* One row for a machine of vcpus and ram_mib (what: "this machine"). */
static void
size_row (json_t *rows, const char *target, const char *what, int parallel, long long vcpus,
          long long ram_mib)
{
  int n = fits (vcpus, ram_mib);
  bool ok = parallel * VCPUS_PER_MIGRATION <= vcpus
    && parallel * RAM_MIB_PER_MIGRATION <= ram_mib;

  if (ok)
    check_row (rows, "sizing", target, "pass", "%s: %lld vCPUs, %.1f GiB of RAM: room for %d "
               "migrations at once (ferry_parallel %d; 1 vCPU + 2 GiB each)", what, vcpus,
               ram_mib / 1024.0, n, parallel);
  else
    check_row (rows, "sizing", target, "warn", "ferry_parallel %d needs %d vCPUs and %d GiB "
               "of RAM (1 vCPU + 2 GiB per migration at once); %s has %lld vCPUs and %.1f "
               "GiB: --parallel %d fits, or give it a bigger flavor", parallel,
               parallel * VCPUS_PER_MIGRATION, (int) (parallel * RAM_MIB_PER_MIGRATION / 1024),
               what, vcpus, ram_mib / 1024.0, n);
}

static int
cmp_desc (const void *a, const void *b)
{
  size_t x = *(const size_t *) a, y = *(const size_t *) b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* The conversion host's flavor (vcpus, ram MiB) from Nova, and how many
 * volumes it has attached.  0, or -1 if it could not be read. */
static int
nova_host (const struct config *cfg, const char *id, long long *vcpus, long long *ram,
           char **flavor_name, long long *attached)
{
  CLEANUP_FREE char *err = NULL;
  CLEANUP_JSON json_t *cloud = clouds_resolve (cfg, &err);
  CLEANUP_JSON json_t *srv = NULL;
  CLEANUP_JSON json_t *fl = NULL;
  CLEANUP_JSON json_t *att = NULL;
  struct os_client *c;
  const json_t *f;
  int rc = 0;

  if (cloud == NULL || (c = os_connect (cloud, &rc)) == NULL)
    return -1;
  srv = os_server_get (c, id, true, NULL);
  f = json_object_get (srv, "flavor");
  /* Microversion 2.47 and later embed the flavor; earlier ones give its id. */
  if (f && !json_object_get (f, "vcpus") && json_string_value (json_object_get (f, "id")))
    f = fl = os_flavor_get (c, json_string_value (json_object_get (f, "id")), true, NULL);
  if (f && json_object_get (f, "vcpus")) {
    *vcpus = json_integer_value (json_object_get (f, "vcpus"));
    *ram = json_integer_value (json_object_get (f, "ram"));
    *flavor_name = strdup (json_string_value (json_object_get (f, "original_name"))
                           ?: json_string_value (json_object_get (f, "name")) ?: "?");
    rc = 1;
  }
  att = srv ? os_server_attachments (c, id) : NULL;
  *attached = att ? (long long) json_array_size (att) : 0;
  os_disconnect (c);
  return rc == 1 ? 0 : -1;
}

void
checks_sizing (const struct config *cfg, int parallel, const json_t *plan_vms, json_t *rows)
{
  const char *id = config_get_string (cfg, "instance_uuid");
  long long vcpus = 0, ram = 0, attached = 0;
  CLEANUP_FREE char *flavor = NULL;
  CLEANUP_FREE size_t *counts = NULL;
  size_t n = json_array_size (plan_vms), i, sum = 0, k;
  json_t *vm;

  if (parallel < 1)
    parallel = 1;
  if (!config_get_bool (cfg, "use_conversion_host")) {
    check_row (rows, "sizing", "", "pass", "no conversion host (use_conversion_host: false): "
               "the copies run on this machine");
    return;
  }
  /* The conversion host's flavor. */
  if (id && *id) {
    if (nova_host (cfg, id, &vcpus, &ram, &flavor, &attached) == 0) {
      CLEANUP_FREE char *what = NULL;
      if (asprintf (&what, "the conversion host's flavor %s", flavor) == -1)
        what = NULL;
      size_row (rows, id, what ? what : "the conversion host", parallel, vcpus, ram);
    }
    else
      check_row (rows, "sizing", id, "warn", "cannot read the conversion host's flavor from "
                 "Nova: its vCPUs and RAM are not compared with ferry_parallel %d", parallel);
  }
  /* This machine: where the copies and conversions run. */
  {
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    long long avail = mem_available_mib ();
    char host[256] = "this machine";
    if (gethostname (host, sizeof host) != 0)
      snprintf (host, sizeof host, "this machine");
    host[sizeof host - 1] = '\0';
    if (cpus > 0 && avail > 0)
      size_row (rows, host, "this machine (nproc, MemAvailable)", parallel, cpus, avail);
  }
  /* Attachments: the disks of the `parallel` VMs with the most disks. */
  counts = calloc (n + 1, sizeof *counts);
  if (counts == NULL)
    return;
  json_array_foreach (plan_vms, i, vm)
    counts[i] = json_array_size (json_object_get (vm, "disks"));
  qsort (counts, n, sizeof *counts, cmp_desc);
  for (k = 0; k < n && k < (size_t) parallel; k++)
    sum += counts[k];
  if ((long long) sum + attached > CONVERSION_HOST_MAX_VOLUMES) {
    size_t fit = 0, s = 0;
    while (fit < n && (long long) (s + counts[fit]) + attached <= CONVERSION_HOST_MAX_VOLUMES)
      s += counts[fit++];
    check_row (rows, "sizing", "attachments", "warn", "%d VMs at once attach up to %zu "
               "volumes%s, over the ~%d a conversion host takes: --parallel %zu fits",
               parallel, sum, attached ? " besides those attached now" : "",
               CONVERSION_HOST_MAX_VOLUMES, fit ? fit : 1);
  }
  else if (n)
    check_row (rows, "sizing", "attachments", "pass", "%d VMs at once attach at most %zu "
               "volumes (%lld attached now; limit ~%d)", parallel, sum, attached,
               CONVERSION_HOST_MAX_VOLUMES);
}
