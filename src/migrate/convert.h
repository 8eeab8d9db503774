/* ferry: guest conversion with virt-v2v-in-place on the volumes attached
 * to the conversion host (virtio drivers, VMware Tools removed, bootloader
 * fixed), run after the last copy and before the instance is created. */
#ifndef FERRY_MIGRATE_CONVERT_H
#define FERRY_MIGRATE_CONVERT_H

#include <jansson.h>
#include "config/config.h"

/* The virt-v2v-in-place program, or NULL if not installed (not logged). */
const char *convert_program (void);

/* Convert the VM whose disks are attached at devices (array of paths in
 * disk order).  workdir receives the domain XML for multi-disk guests;
 * log_path virt-v2v's output.  Returns 0 or FERRY_EXIT_CONVERSION after
 * logging (with the last lines of virt-v2v's log). */
int convert_guest (const struct config *cfg, const json_t *vm, const json_t *devices,
                   const char *workdir, const char *log_path);

#endif
