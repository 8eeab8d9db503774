/* ferry: pre-migration checks ("ferry check").  Each check appends rows
 *   {"check": "...", "target": "...", "status": "pass"|"warn"|"fail",
 *    "detail": "..."}
 * to a json array; `ferry check` prints them and exits 1 if any failed. */
#ifndef FERRY_MIGRATE_CHECKS_H
#define FERRY_MIGRATE_CHECKS_H

#include <stdbool.h>
#include <jansson.h>
#include "config/config.h"

void check_row (json_t *rows, const char *check, const char *target, const char *status,
                const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

/* The VMware side: login and thumbprint, DNS and TCP 443 to vCenter, the
 * selected VMs (names: array; NULL means vms_list), their blockers, CBT
 * (a failure when warm), Tools, snapshots, datastores, ESXi hosts on 443
 * and 902, and the privileges a migration needs. */
void checks_vmware (const struct config *cfg, const json_t *names, bool warm, json_t *rows);

#endif
