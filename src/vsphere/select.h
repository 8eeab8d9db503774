/* ferry: the VMs a command works on: connect to vSphere with the
 * configuration, discover the inventory (of vcenter_datacenter, if set),
 * select the VMs named. */
#ifndef FERRY_VSPHERE_SELECT_H
#define FERRY_VSPHERE_SELECT_H

#include <stdbool.h>
#include <jansson.h>

#include "config/config.h"
#include "vsphere/vsphere.h"

struct vm_select_opts {
  bool all;                   /* every VM discovered, whatever the names */
  bool logout;                /* log out once discovered: the caller needs no session */
  bool stats;                 /* log the discovery's seconds and SOAP round trips (debug;
                               * on stderr as ferry-stats: with FERRY_STATS set) */
  int keepalive_s;            /* keep the session alive (vs_keepalive_start) from before
                               * the discovery, every that many seconds; 0: don't */
};

struct vm_selection {
  struct vsphere *vs;         /* the session; NULL if not connected or logged out */
  json_t *all;                /* every VM discovered; NULL if discovery failed */
  json_t *vms;                /* the VMs named, in the order of the names */
  int missing;                /* names not found (logged with the closest names) */
};

/* Connect, discover, select the VMs named (inventory_select).  o may be
 * NULL (no options).  Returns 0, or the exit code of the step that failed,
 * after logging: vs_connect_config's (out->vs NULL), FERRY_EXIT_SOURCE if
 * discovery failed (out->all NULL).  Names not found are not an error:
 * out->missing says how many, the caller decides.  Whatever it returns,
 * vm_selection_clear releases *out. */
int select_vms (const struct config *cfg, const json_t *names, const struct vm_select_opts *o,
                struct vm_selection *out);

/* Log out (if still connected) and free. */
void vm_selection_clear (struct vm_selection *s);

#define CLEANUP_VM_SELECTION __attribute__ ((cleanup (vm_selection_clear)))

#endif
