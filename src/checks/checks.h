/* ferry: pre-migration checks ("ferry check").  Each check appends rows
 *   {"check": "...", "target": "...", "status": "pass"|"warn"|"fail",
 *    "detail": "..."}
 * to a json array; `ferry check` prints them and exits 1 if any failed. */
#ifndef FERRY_CHECKS_CHECKS_H
#define FERRY_CHECKS_CHECKS_H

#include <stdbool.h>
#include <jansson.h>
#include "config/config.h"

/* A conversion host should not carry more volumes than this (virtio-blk
 * and the PCI slots of a q35/i440fx guest). */
#define CONVERSION_HOST_MAX_VOLUMES 25

void check_row (json_t *rows, const char *check, const char *target, const char *status,
                const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

/* The VMware side: login and thumbprint, DNS and TCP 443 to vCenter, the
 * selected VMs (names: array; NULL means vms_list), their blockers, CBT
 * (a failure when warm), Tools, snapshots, datastores, ESXi hosts on 443
 * and 902, and the privileges a migration needs.  If selected is not NULL,
 * the discovered VM objects of the selection are appended to it. */
void checks_vmware (const struct config *cfg, const json_t *names, bool warm, json_t *rows,
                    json_t *selected);

/* The OpenStack side: auth, project and catalog endpoints, Nova's
 * microversion, quotas (volumes, gigabytes, instances, cores, ram, ports)
 * against plan_vms (the discovered VMs: num_cpu, memory_mb,
 * disks[].capacity_bytes, nics[]; may be NULL), the network map, flavors,
 * volume types, key pair, security groups, the conversion host and its
 * attached volumes. */
void checks_openstack (const struct config *cfg, const json_t *plan_vms, json_t *rows);

/* The conversion host (this machine): virt-v2v-in-place and its version,
 * virt-customize, libguestfs launching its appliance (a success is
 * remembered for a day in the data dir), the guest OS of each VM (vms:
 * discovered objects), virtio-win for Windows guests, free space in
 * TMPDIR and available memory for ferry_parallel conversions (2 GB each).
 * One pass row when skip_conversion. */
void checks_conversion (const struct config *cfg, const json_t *vms, json_t *rows);

/* The conversion host against `parallel` migrations at once: the seeds'
 * rule of 1 vCPU and 2 GiB of RAM per concurrent migration, checked
 * against the conversion host's flavor (Nova, when instance_uuid names
 * it) and against this machine (nproc, MemAvailable: ferry runs on the
 * conversion host, the copies and conversions are its processes), and
 * the volumes the disks of `parallel` VMs (the largest of plan_vms) put
 * on it at once against CONVERSION_HOST_MAX_VOLUMES.  A warning says how
 * many at once would fit. */
void checks_sizing (const struct config *cfg, int parallel, const json_t *plan_vms,
                    json_t *rows);

/* The arithmetic behind the sizing rows.  How many migrations at once a
 * machine of vcpus and ram_mib holds (0: not even one). */
long long sizing_fit_machine (long long vcpus, long long ram_mib);
/* VMs whose disk counts are disks[0..n): *peak is the volumes the at_once
 * VMs with the most disks attach together; returns how many VMs at once
 * fit beside `attached` volumes within limit in the worst case (at_once
 * or more when all do, 0 when not even the largest VM does). */
size_t sizing_fit_attachments (const size_t *disks, size_t n, size_t at_once,
                               long long attached, long long limit, size_t *peak);

#endif
