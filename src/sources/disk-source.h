/* ferry: choosing and setting up the source of a VM disk's bytes from the
 * configuration (disk_source: auto | vddk | https | local | export; libdir,
 * vddk_thumbprint, local_disk_path, ...), for the migration workflow and
 * `ferry disk-server`. */
#ifndef FERRY_SOURCES_DISK_SOURCE_H
#define FERRY_SOURCES_DISK_SOURCE_H

#include <jansson.h>
#include "config/config.h"
#include "sources/nbd-server.h"
#include "vsphere/lease.h"
#include "vsphere/vsphere.h"

/* The strings a disk_source_req points to. */
struct disk_source_plan {
  struct disk_source_req req;
  json_t *keep;               /* owns the strings */
  /* disk_source export: the VM's export lease, started by disk_source_plan
   * (the VM must be powered off), ready; the disk's URL is req.url.  It
   * must be kept alive (disk_source_plan_progress, within its timeout,
   * 300 s on vCenter) while the disk is read, then completed with
   * disk_source_plan_complete; disk_source_plan_free aborts it if it is
   * still open, so every other exit path aborts it.  One lease covers all
   * of a VM's disks and a VM can have only one: plan one disk at a time. */
  struct export_lease *lease;
  struct vsphere *vs;
};

/* Fill plan for disk (a discover.md disk object) of vm (a VM object),
 * reading it as of snapshot_moref (NULL: the current state).  Returns 0
 * or an exit code after logging. */
int disk_source_plan (struct vsphere *vs, const struct config *cfg, const json_t *vm,
                      const json_t *disk, const char *snapshot_moref, const char *workdir,
                      const char *log_path, struct disk_source_plan *plan);
/* Aborts an export lease still open. */
void disk_source_plan_free (struct disk_source_plan *plan);
/* Export lease keep-alive (HttpNfcLeaseProgress) and completion; both do
 * nothing for the other kinds.  0 or -1 after logging. */
int disk_source_plan_progress (struct disk_source_plan *plan, int percent);
int disk_source_plan_complete (struct disk_source_plan *plan);

#endif
