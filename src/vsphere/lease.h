/* ferry: export leases (ExportVm's HttpNfcLease): the VM's disks as
 * streamOptimized VMDKs served over HTTPS by vCenter/ESXi, readable with
 * the session cookie while the lease lives.
 *
 * A lease times out (info.leaseTimeout, 300 s on vCenter) unless its
 * holder reports progress: call export_lease_progress at least every
 * minute or so while reading.  It must end with export_lease_complete
 * (the export succeeded) or export_lease_abort (anything else): until
 * then the VM is locked (no power-on, no reconfiguration).  Both are
 * idempotent; export_lease_free aborts a lease still open. */
#ifndef FERRY_VSPHERE_LEASE_H
#define FERRY_VSPHERE_LEASE_H

#include "vsphere/vsphere.h"

struct export_lease;

/* ExportVm on the VM (which must be powered off) and wait until the lease
 * is ready (at most 10 minutes: vCenter prepares the export first).
 * Returns the lease, or NULL after logging (the lease aborted). */
struct export_lease *vm_export_start (struct vsphere *vs, const char *vm_moref,
                                      const char *vm_name);
/* Number of disk URLs, and the URL of disk i (0-based, in the VM's disk
 * order), with a "*" host replaced by vCenter's; NULL if out of range. */
int export_lease_disk_count (const struct export_lease *l);
const char *export_lease_disk_url (const struct export_lease *l, int disk_index);
/* The SHA-1 thumbprint the lease gives for the disk's server, or NULL. */
const char *export_lease_disk_thumbprint (const struct export_lease *l, int disk_index);
/* The lease's moref value ("lease-1", "session[...]..."). */
const char *export_lease_id (const struct export_lease *l);
/* info.leaseTimeout in seconds (0 if not given). */
int export_lease_timeout (const struct export_lease *l);

/* Keep-alive: HttpNfcLeaseProgress(percent).  0 or -1 after logging. */
int export_lease_progress (struct vsphere *vs, struct export_lease *l, int percent);
/* HttpNfcLeaseComplete / HttpNfcLeaseAbort, once; later calls do nothing.
 * 0 or -1 after logging. */
int export_lease_complete (struct vsphere *vs, struct export_lease *l);
int export_lease_abort (struct vsphere *vs, struct export_lease *l);
/* Abort if still open, and free.  NULL-safe. */
void export_lease_free (struct vsphere *vs, struct export_lease *l);

#endif
