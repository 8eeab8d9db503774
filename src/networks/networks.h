/* ferry: destination networks for the source port groups
 * (`ferry networks plan|create`, docs/networks.md).
 *
 * From discovery of the selected VMs: each source network (standard or
 * distributed port group, its VLAN id when vSphere says it, the subnets
 * seen in the guests' addresses: a /networks_prefix_length, 24 by default,
 * around each IPv4 address unless networks_subnets gives the CIDRs) is
 * either mapped by network_map to an existing Neutron network, or planned
 * as a new network named networks_name_prefix + the port group's name,
 * with one subnet per CIDR and, when networks_provider_vlan, a VLAN
 * provider segment.  What ferry creates carries the tag "ferry-created",
 * so a second `create` finds it instead of making another. */
#ifndef FERRY_NETWORKS_NETWORKS_H
#define FERRY_NETWORKS_NETWORKS_H

#include <jansson.h>
#include "config/config.h"
#include "openstack/resources.h"

/* The CIDR of the /prefix around an IPv4 address ("192.168.100.0/24"),
 * malloc'd, or NULL if addr is not IPv4 (or is link-local/loopback). */
char *networks_cidr_around (const char *addr, int prefix);

/* The plan for the VMs (discovery objects): {"networks": [...]} as in
 * docs/networks.md.  os may be NULL (nothing looked up).  Problems (a
 * mapping to a network that does not exist, a VLAN segment asked without a
 * physical network) are logged and counted in *errors. */
json_t *networks_plan (const struct config *cfg, struct os_client *os, const json_t *vms,
                       int *errors);

/* Apply a plan: create the planned networks, subnets and security groups
 * (finding them again when they exist).  Fills each entry's neutron.id and
 * subnets' ids.  0 or an exit code. */
int networks_create (const struct config *cfg, struct os_client *os, json_t *plan);

/* The network_map snippet (YAML) mapping every port group of the plan. */
char *networks_map_yaml (const json_t *plan);

#endif
