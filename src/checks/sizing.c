/* ferry check: the conversion host's size against parallel migrations,
 * see checks_sizing in checks.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/checks.h"
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

long long
sizing_fit_machine (long long vcpus, long long ram_mib)
{
  long long a = vcpus / VCPUS_PER_MIGRATION, b = ram_mib / RAM_MIB_PER_MIGRATION;
  return a < 0 || b < 0 ? 0 : a < b ? a : b;
}

static const char *
plural (long long n)
{
  return n == 1 ? "" : "s";
}

/* One row for a machine of vcpus and ram_mib (what: "this machine"). */
static void
size_row (json_t *rows, const char *target, const char *what, int parallel, const char *plan,
          long long vcpus, long long ram_mib)
{
  long long n = sizing_fit_machine (vcpus, ram_mib);

  if (parallel <= n)
    check_row (rows, "sizing", target, "pass", "%s: %lld vCPU%s, %.1f GiB of RAM: room for %lld "
               "migration%s at once (%d planned%s%s; 1 vCPU + 2 GiB each)", what, vcpus,
               plural (vcpus), ram_mib / 1024.0, n, plural (n), parallel, *plan ? ": " : "",
               plan);
  else if (n < 1)
    check_row (rows, "sizing", target, "warn", "%d migration%s at once%s%s%s need%s %d vCPU%s "
               "and %d GiB of RAM (1 vCPU + 2 GiB each); %s has %lld vCPU%s and %.1f GiB, too "
               "little for even one: give it a bigger flavor", parallel, plural (parallel),
               *plan ? " (" : "", plan, *plan ? ")" : "", parallel == 1 ? "s" : "", parallel * VCPUS_PER_MIGRATION,
               plural (parallel * VCPUS_PER_MIGRATION),
               (int) (parallel * RAM_MIB_PER_MIGRATION / 1024), what, vcpus, plural (vcpus),
               ram_mib / 1024.0);
  else
    check_row (rows, "sizing", target, "warn", "%d migrations at once%s%s%s need %d vCPUs and "
               "%d GiB of RAM (1 vCPU + 2 GiB each); %s has %lld vCPU%s and %.1f GiB: "
               "--parallel %lld fits, or give it a bigger flavor", parallel, *plan ? " (" : "",
               plan, *plan ? ")" : "",
               parallel * VCPUS_PER_MIGRATION,
               (int) (parallel * RAM_MIB_PER_MIGRATION / 1024), what, vcpus, plural (vcpus),
               ram_mib / 1024.0, n);
}

static int
cmp_desc (const void *a, const void *b)
{
  size_t x = *(const size_t *) a, y = *(const size_t *) b;
  return x < y ? 1 : x > y ? -1 : 0;
}

size_t
sizing_fit_attachments (const size_t *disks, size_t n, size_t at_once, long long attached,
                        long long limit, size_t *peak)
{
  CLEANUP_FREE size_t *d = calloc (n + 1, sizeof *d);
  size_t fit = 0, sum = 0, k;

  *peak = 0;
  if (d == NULL)
    return 0;
  if (n)
    memcpy (d, disks, n * sizeof *d);
  qsort (d, n, sizeof *d, cmp_desc);
  for (k = 0; k < n && k < at_once; k++)
    *peak += d[k];
  while (fit < n && (long long) (sum + d[fit]) + attached <= limit)
    sum += d[fit++];
  /* Fewer VMs than at_once: all of them fit. */
  return fit == n ? (at_once > n ? at_once : n) : fit;
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
  bool convhost = config_get_bool (cfg, "use_conversion_host");
  long long vcpus = 0, ram = 0, attached = 0;
  CLEANUP_FREE char *flavor = NULL;
  CLEANUP_FREE size_t *counts = NULL;
  size_t n = json_array_size (plan_vms), i, fit, peak;
  int at_once;
  char plan[96] = "";
  json_t *vm;

  if (parallel < 1)
    parallel = 1;
  /* No more run at once than there are VMs to migrate. */
  at_once = n > 0 && (size_t) parallel > n ? (int) n : parallel;
  if (at_once < parallel)
    snprintf (plan, sizeof plan, "--parallel %d, %zu VM%s", parallel, n,
              plural ((long long) n));
  /* The conversion host's flavor. */
  if (convhost && id && *id) {
    if (nova_host (cfg, id, &vcpus, &ram, &flavor, &attached) == 0) {
      CLEANUP_FREE char *what = NULL;
      if (asprintf (&what, "the conversion host's flavor %s", flavor) == -1)
        what = NULL;
      size_row (rows, id, what ? what : "the conversion host", at_once, plan, vcpus, ram);
    }
    else
      check_row (rows, "sizing", id, "warn", "cannot read the conversion host's flavor from "
                 "Nova: its vCPUs and RAM are not compared with %d migrations at once", at_once);
  }
  /* This machine: where the copies and conversions run (with or without
   * a conversion host). */
  {
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    long long avail = mem_available_mib ();
    char host[256] = "this machine";
    if (gethostname (host, sizeof host) != 0)
      snprintf (host, sizeof host, "this machine");
    host[sizeof host - 1] = '\0';
    if (cpus > 0 && avail > 0)
      size_row (rows, host, "this machine (nproc, MemAvailable)", at_once, plan, cpus,
                avail);
  }
  if (!convhost)
    return;
  /* Attachments: the disks of the `at_once` VMs with the most disks. */
  counts = calloc (n + 1, sizeof *counts);
  if (counts == NULL)
    return;
  json_array_foreach (plan_vms, i, vm)
    counts[i] = json_array_size (json_object_get (vm, "disks"));
  fit = sizing_fit_attachments (counts, n, (size_t) at_once, attached,
                                CONVERSION_HOST_MAX_VOLUMES, &peak);
  if (fit >= (size_t) at_once) {
    if (n)
      check_row (rows, "sizing", "attachments", "pass", "%d VM%s at once attach%s at most %zu "
                 "volume%s (%lld attached now; limit ~%d)", at_once, plural (at_once),
                 at_once == 1 ? "es" : "", peak, plural ((long long) peak), attached,
                 CONVERSION_HOST_MAX_VOLUMES);
  }
  else if (fit)
    check_row (rows, "sizing", "attachments", "warn", "%d VMs at once attach up to %zu "
               "volumes%s, over the ~%d a conversion host takes: --parallel %zu fits",
               at_once, peak, attached ? " besides the ones attached now" : "",
               CONVERSION_HOST_MAX_VOLUMES, fit);
  else
    check_row (rows, "sizing", "attachments", "warn", "%lld volumes are attached to the "
               "conversion host now: with the disks of the largest VM that is over the ~%d "
               "it takes; detach the ones no migration uses", attached,
               CONVERSION_HOST_MAX_VOLUMES);
}
