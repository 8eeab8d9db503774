/* ferry: discovery -- every VM of a vCenter with its hardware, disks,
 * NICs, snapshots, host and datastores, in a constant number of round trips
 * (one ContainerView, one property retrieval with paging), whatever the
 * number of VMs.  Each VM becomes a json object with the keys documented in
 * docs/discover.md (name, moref, uuid, ..., disks[], nics[], blockers[],
 * warnings[]). */
#ifndef FERRY_VSPHERE_INVENTORY_H
#define FERRY_VSPHERE_INVENTORY_H

#include <jansson.h>
#include "vsphere/vsphere.h"

struct inventory_opts {
  const char *datacenter;           /* restrict to this datacenter, or NULL */
  long long max_disk_bytes;         /* blocker above this size; 0: no limit */
  int max_disks;                    /* warning above this many disks (25) */
};

/* All VMs (array of VM objects, in inventory order), or NULL after logging. */
json_t *inventory_discover (struct vsphere *vs, const struct inventory_opts *opts);

/* Fill blockers[] and warnings[] of a VM object from its fields. */
void inventory_assess (json_t *vm, const struct inventory_opts *opts);

/* The guest OS family from a guest id: "linux", "windows" or NULL (unknown
 * or not convertible). */
const char *inventory_guest_family (const char *guest_id);

#endif

#ifndef FERRY_INVENTORY_SELECT
#define FERRY_INVENTORY_SELECT
/* The VMs of `all` named in `names` (array of strings), in the order of
 * names.  Names not found are logged as errors with the closest existing
 * names and counted in *missing. */
json_t *inventory_select (const json_t *all, const json_t *names, int *missing);

/* Write <dir>/<vm>/vm.json plus the files os-migrate's discovery writes
 * there (guest_info.json, disk_info.json, and nics.json when mapped or
 * macs.json) so existing tooling keeps working.  network_map may be NULL.
 * Returns 0 or -1 after logging. */
int inventory_write_files (const json_t *vm, const char *dir, bool mapped,
                           const json_t *network_map, const char *subnet);
#endif
