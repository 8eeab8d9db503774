/* ferry: mapping a VMware VM onto OpenStack -- flavor, networks, volume
 * types, image properties.  Pure functions over the discovery's VM object
 * (docs/discover.md), the configuration and lists read from the cloud, so
 * `ferry migrate --dry-run` shows exactly what a run would do. */
#ifndef FERRY_WORKFLOW_PLAN_H
#define FERRY_WORKFLOW_PLAN_H

#include <jansson.h>
#include "config/config.h"

/* The smallest flavor of `flavors` (Nova's list: id, name, vcpus, ram,
 * disk, OS-FLV-DISABLED:disabled) with at least vcpus and ram_mb: never a
 * smaller one.  Least relative waste of CPU and RAM wins, ties broken by the
 * smaller disk, then the name.  Borrowed from flavors, or NULL if none fits. */
const json_t *plan_pick_flavor (const json_t *flavors, long long vcpus, long long ram_mb);

/* The name ferry gives a flavor it creates for a shape: "ferry-4cpu-8192mb". */
char *plan_flavor_name (long long vcpus, long long ram_mb);

/* Where each NIC goes: [{"key", "mac", "network" (name or id as
 * configured), "subnet" (or null), "ips": [...], "from": "network_map[...]"
 * | "openstack_private_network"}], in NIC order.  With used_mapped_networks,
 * network_map is looked up by the NIC's distributed port group key, then by
 * its network name; a NIC that maps nowhere is an error (logged, naming the
 * VM and the NIC, counted in *errors) -- never a silent drop.  Without it,
 * every NIC goes to openstack_private_network. */
json_t *plan_networks (const json_t *vm, const struct config *cfg, int *errors);

/* The volume type for a disk on datastore ds: volume_type_mapping, else
 * cinder_volume_type, else NULL (the cloud's default).  Borrowed. */
const char *plan_volume_type (const struct config *cfg, const char *datastore);

/* Image properties for the boot volume, from the VM: firmware (efi ->
 * hw_firmware_type=uefi, hw_machine_type=q35; secure boot ->
 * os_secure_boot=required), hw_disk_bus=virtio, hw_vif_model=virtio,
 * os_type=linux|windows, plus image_metadata from the configuration. */
json_t *plan_image_properties (const json_t *vm, const struct config *cfg);

/* Volume size in GiB for a disk of capacity bytes (rounded up, at least 1). */
long long plan_volume_gib (long long capacity_bytes);

#endif
