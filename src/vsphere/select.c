/* ferry: the VMs a command works on, see select.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsphere/select.h"
#include "vsphere/inventory.h"
#include "vsphere/vsconfig.h"
#include "common/error.h"
#include "common/log.h"

static void
report_discovery (struct vsphere *vs, const json_t *all, const struct timespec *t0)
{
  struct timespec t1;

  clock_gettime (CLOCK_MONOTONIC, &t1);
  log_debug ("discovery: %zu VMs in %.3f s, %u SOAP round trips",
             all ? json_array_size (all) : 0,
             (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9, vs_round_trips (vs));
  if (getenv ("FERRY_STATS"))
    fprintf (stderr, "ferry-stats: vms=%zu seconds=%.3f round_trips=%u\n",
             all ? json_array_size (all) : 0,
             (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9, vs_round_trips (vs));
}

int
select_vms (const struct config *cfg, const json_t *names, const struct vm_select_opts *o,
            struct vm_selection *out)
{
  static const struct vm_select_opts none = { 0 };
  struct inventory_opts iopts = { .max_disks = 25 };
  struct timespec t0;
  int r;

  if (o == NULL)
    o = &none;
  memset (out, 0, sizeof *out);
  iopts.datacenter = config_get_string (cfg, "vcenter_datacenter");
  clock_gettime (CLOCK_MONOTONIC, &t0);
  r = vs_connect_config (cfg, &out->vs);
  if (r) {
    out->vs = NULL;
    return r;
  }
  if (o->keepalive_s > 0)
    vs_keepalive_start (out->vs, o->keepalive_s);
  out->all = inventory_discover (out->vs, &iopts);
  if (o->stats)
    report_discovery (out->vs, out->all, &t0);
  if (o->logout) {
    vs_disconnect (out->vs);
    out->vs = NULL;
  }
  if (out->all == NULL)
    return FERRY_EXIT_SOURCE;
  if (o->all)
    out->vms = json_incref (out->all);
  else
    out->vms = inventory_select (out->all, names, &out->missing);
  return 0;
}

void
vm_selection_clear (struct vm_selection *s)
{
  vs_disconnect (s->vs);
  json_decref (s->all);
  json_decref (s->vms);
  memset (s, 0, sizeof *s);
}
