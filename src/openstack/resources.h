/* ferry: typed OpenStack calls the migration needs, one service per file
 * (cinder.c, nova.c, neutron.c, glance.c, quotas.c).
 *
 * Conventions: functions returning json_t * return a new reference to the
 * resource's object (the inner {"volume": {...}} member) or array, or NULL
 * after logging an error that names the call.  "get" functions take
 * quiet_404: then a missing resource returns NULL without a message and
 * sets *gone (if not NULL).  int functions return 0, or -1 after logging.
 * Waits poll as os_poll_kind does (learning how long each kind of wait
 * takes) and fail with a message naming the resource, the status awaited
 * and the last status seen. */
#ifndef FERRY_OPENSTACK_RESOURCES_H
#define FERRY_OPENSTACK_RESOURCES_H

#include <stdbool.h>
#include <jansson.h>

#include "openstack/openstack.h"

/* Every page of a list: GET path (query included), the array under key,
 * following "<key>_links" rel=next (Nova, Cinder, Neutron) and "next"
 * (Glance).  A new array, or NULL after logging. */
json_t *os_list (struct os_client *c, const char *service, const char *path, const char *key,
                 const char *what);

/* Is s a UUID (with or without dashes)? */
bool os_is_uuid (const char *s);

/* ---- Cinder v3 ---- */
struct os_volume_spec {
  const char *name;
  long long size_gb;          /* GiB, >= 1 */
  const char *volume_type;    /* or NULL: the default type */
  const char *availability_zone;
  const char *description;
  const json_t *metadata;     /* {"key": "string"}, or NULL */
  const char *image_id;       /* create from a Glance image, or NULL */
  bool bootable;              /* set the bootable flag after creation */
};
json_t *os_volume_create (struct os_client *c, const struct os_volume_spec *spec);
json_t *os_volume_get (struct os_client *c, const char *id, bool quiet_404, bool *gone);
/* Volumes (details) whose metadata has every key/value of metadata (may be
 * NULL) and, if name is not NULL, of that name. */
json_t *os_volume_list (struct os_client *c, const json_t *metadata, const char *name);
/* Add or change the given keys, keeping the others (POST, never PUT). */
int os_volume_merge_metadata (struct os_client *c, const char *id, const json_t *metadata);
int os_volume_set_bootable (struct os_client *c, const char *id, bool bootable);
/* Glance-style properties on the volume (hw_firmware_type, os_type, ...). */
int os_volume_set_image_metadata (struct os_client *c, const char *id, const json_t *metadata);
/* Delete; an already missing volume is success. */
int os_volume_delete (struct os_client *c, const char *id);
/* Wait until the volume's status is `status` ("available", "in-use"):
 * returns the volume; fails at once on an error status. */
json_t *os_volume_wait (struct os_client *c, const char *id, const char *status, int timeout_s);
int os_volume_wait_gone (struct os_client *c, const char *id, int timeout_s);
/* Volume types visible to the project: array of {id, name, ...}. */
json_t *os_volume_types (struct os_client *c);

/* Snapshots.  Create one of a volume, attached or not (force), with
 * metadata (may be NULL): returns the snapshot object (status "creating").
 * List a volume's snapshots (array).  Wait for a status ("available", or
 * "deleted" for gone): 0, -1 on an error status (not logged: the caller
 * says what it means), -2 on timeout; *last_status (if not NULL, malloc'd)
 * the last status seen.  Delete (already gone is success).  Revert a
 * detached volume to its latest snapshot (API 3.40). */
json_t *os_snapshot_create (struct os_client *c, const char *volume_id, const char *name,
                            const char *description, const json_t *metadata);
json_t *os_snapshot_list (struct os_client *c, const char *volume_id);
int os_snapshot_wait (struct os_client *c, const char *id, const char *status, int timeout_s,
                      char **last_status);
int os_snapshot_delete (struct os_client *c, const char *id);
int os_volume_revert (struct os_client *c, const char *volume_id, const char *snapshot_id);
/* {"volumes": {"limit": N, "in_use": N, ...}, "gigabytes": {...}, ...} */
json_t *os_volume_quotas (struct os_client *c);

/* ---- Nova v2.1 ---- */
json_t *os_flavor_list (struct os_client *c);   /* details, extra specs not included */
json_t *os_flavor_get (struct os_client *c, const char *id, bool quiet_404, bool *gone);
json_t *os_flavor_create (struct os_client *c, const char *name, int vcpus, long long ram_mb,
                          long long disk_gb, bool is_public);
/* The same with a description (Nova 2.55+), which ferry uses to mark what it made. */
json_t *os_flavor_create_described (struct os_client *c, const char *name, int vcpus,
                                    long long ram_mb, long long disk_gb, bool is_public,
                                    const char *description);
int os_flavor_delete (struct os_client *c, const char *id);

struct os_server_spec {
  const char *name;
  const char *flavor_id;
  const json_t *block_devices;  /* block_device_mapping_v2 array */
  const json_t *ports;          /* array of port ids (strings) */
  const json_t *networks;       /* or: array of network ids, Nova makes the ports */
  const char *image_ref;        /* boot from this Glance image (no block_devices) */
  const char *key_name;
  const json_t *security_groups; /* array of names (ignored by Nova for given ports) */
  const char *availability_zone;
  const char *user_data;        /* raw; base64-encoded here */
  const json_t *metadata;       /* {"key": "string"} */
  const json_t *tags;           /* array of strings */
};
json_t *os_server_create (struct os_client *c, const struct os_server_spec *spec);
json_t *os_server_get (struct os_client *c, const char *id, bool quiet_404, bool *gone);
/* Add or change metadata keys of a server (POST: the others are kept). */
int os_server_set_metadata (struct os_client *c, const char *id, const json_t *metadata);
/* Servers matching a query ("name=^web$"), details. */
json_t *os_server_list (struct os_client *c, const char *query);
/* Wait for ACTIVE; on ERROR logs Nova's fault message and returns NULL. */
json_t *os_server_wait_active (struct os_client *c, const char *id, int timeout_s);
int os_server_delete (struct os_client *c, const char *id);
int os_server_wait_gone (struct os_client *c, const char *id, int timeout_s);
/* os-volume_attachments of a server (the conversion host). */
json_t *os_server_attach_volume (struct os_client *c, const char *server_id,
                                 const char *volume_id);
json_t *os_server_attachments (struct os_client *c, const char *server_id);
int os_server_detach_volume (struct os_client *c, const char *server_id, const char *volume_id);
/* GET /limits: the "absolute" object (maxTotalCores, totalCoresUsed, ...). */
json_t *os_nova_limits (struct os_client *c);
json_t *os_keypair_get (struct os_client *c, const char *name, bool quiet_404, bool *gone);
/* The highest microversion Nova supports ("2.93"), malloc'd, or NULL. */
char *os_nova_max_microversion (struct os_client *c);
/* Compare "2.67" and "2.100" numerically: <0, 0, >0. */
int os_microversion_cmp (const char *a, const char *b);
/* This machine's instance uuid from the metadata service
 * (http://169.254.169.254/openstack/latest/meta_data.json), or NULL (not
 * logged as an error) if there is none within timeout_s. */
char *os_metadata_instance_uuid (int timeout_s);

/* ---- Neutron v2 ---- */
/* Find by id or by (unique) name.  0 and *out (with a "subnet_details"
 * array for networks), 1 if there is none or the name is ambiguous
 * (message in *why, malloc'd), -1 on error (logged). */
int os_network_find (struct os_client *c, const char *ref, json_t **out, char **why);
int os_subnet_find (struct os_client *c, const char *network_id, const char *ref,
                    json_t **out, char **why);
int os_security_group_find (struct os_client *c, const char *ref, json_t **out, char **why);

struct os_port_spec {
  const char *network_id;
  const char *name;
  const char *description;
  const char *mac_address;
  const json_t *fixed_ips;       /* [{"subnet_id": .., "ip_address": ..}] or NULL */
  const json_t *security_groups; /* array of ids, or NULL for the default */
  const char *device_owner;
  const json_t *tags;            /* array of strings, set after creation */
};
json_t *os_port_create (struct os_client *c, const struct os_port_spec *spec);
json_t *os_port_get (struct os_client *c, const char *id, bool quiet_404, bool *gone);
/* Ports matching a query ("name=x", "tags=a,b", "mac_address=..."). */
json_t *os_port_list (struct os_client *c, const char *query);
int os_port_set_tags (struct os_client *c, const char *id, const json_t *tags);
int os_port_delete (struct os_client *c, const char *id);
/* Any Neutron collection ("security-groups", "security-group-rules",
 * "floatingips", "networks", "subnets", "routers"): list with a query
 * (may be NULL), create from attrs ({"name": ...}, the body's inner
 * member), delete by id (gone already is success), replace the tags. */
json_t *os_neutron_list (struct os_client *c, const char *collection, const char *query);
json_t *os_neutron_create (struct os_client *c, const char *collection, const json_t *attrs,
                           const char *what);
int os_neutron_delete (struct os_client *c, const char *collection, const char *id);
int os_neutron_set_tags (struct os_client *c, const char *collection, const char *id,
                         const json_t *tags);
/* GET /quotas/{project}/details: {"port": {"limit", "used", ...}, ...} */
json_t *os_network_quotas (struct os_client *c);

/* ---- Glance v2 ---- */
/* properties: extra image properties (strings), e.g. hw_firmware_type. */
json_t *os_image_create (struct os_client *c, const char *name, const char *disk_format,
                         const char *container_format, const json_t *properties);
/* Upload the data: size bytes of fd from offset 0 (pread: can be resent),
 * or with size < 0 read() until end of file, sent chunked (a pipe). */
int os_image_upload (struct os_client *c, const char *id, int fd, long long size);
json_t *os_image_get (struct os_client *c, const char *id, bool quiet_404, bool *gone);
json_t *os_image_wait_active (struct os_client *c, const char *id, int timeout_s);
int os_image_delete (struct os_client *c, const char *id);
/* Find an image by id or by (unique) name: as os_network_find. */
int os_image_find (struct os_client *c, const char *ref, json_t **out, char **why);

/* ---- quotas.c ---- */
/* The quotas that bound a migration, from Cinder, Nova and Neutron:
 * {"volumes"|"gigabytes"|"instances"|"cores"|"ram"|"ports":
 *   {"limit": N (-1 unlimited), "in_use": N}}; a service whose quotas
 * can't be read is left out (with a warning). */
json_t *os_quotas (struct os_client *c);

#endif
