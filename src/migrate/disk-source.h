/* ferry: choosing and setting up the source of a VM disk's bytes from the
 * configuration (disk_source: auto | vddk | https | local; libdir,
 * vddk_thumbprint, local_disk_path, ...), for the migration workflow and
 * `ferry disk-server`. */
#ifndef FERRY_MIGRATE_DISK_SOURCE_H
#define FERRY_MIGRATE_DISK_SOURCE_H

#include <jansson.h>
#include "config/config.h"
#include "copy/source.h"
#include "vsphere/vsphere.h"

/* The strings a disk_source_req points to. */
struct disk_source_plan {
  struct disk_source_req req;
  json_t *keep;               /* owns the strings */
};

/* Fill plan for disk (a discover.md disk object) of vm (a VM object),
 * reading it as of snapshot_moref (NULL: the current state).  Returns 0
 * or an exit code after logging. */
int disk_source_plan (struct vsphere *vs, const struct config *cfg, const json_t *vm,
                      const json_t *disk, const char *snapshot_moref, const char *workdir,
                      const char *log_path, struct disk_source_plan *plan);
void disk_source_plan_free (struct disk_source_plan *plan);

#endif
