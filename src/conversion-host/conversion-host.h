/* ferry: deploying the conversion host (`ferry conversion-host`).
 *
 * An instance in the destination cloud sized for the planned parallel
 * migrations (ferry_parallel: 1 vCPU and 2 GiB per migration, at least
 * 2 vCPU / 4 GiB / 16 GB), on the migration network, with its own security
 * group allowing SSH from the migrator, the configured key pair, a floating
 * IP when asked, and cloud-init user data installing the data path's tools
 * and ferry and writing ferry's configuration with the instance's own id.
 *
 * Everything deploy makes is marked so that a second deploy finds and
 * reuses it and delete removes exactly that: the server is named
 * ferry-conversion-host-<name> with metadata ferry-created=conversion-host;
 * the security group, floating IP and flavor it creates carry the
 * description "ferry-created conversion-host <name>".  A flavor, security
 * group or floating IP that existed before is used, never deleted. */
#ifndef FERRY_CONVERSION_HOST_CONVERSION_HOST_H
#define FERRY_CONVERSION_HOST_CONVERSION_HOST_H

#include <stdbool.h>
#include <jansson.h>
#include "config/config.h"
#include "openstack/resources.h"

#define CONVERSION_HOST_PREFIX "ferry-conversion-host-"
#define CONVERSION_HOST_MARK "ferry-created conversion-host"

struct conversion_host_opts {
  const char *name;           /* NULL: conversion_host_name */
  long parallel;              /* <= 0: ferry_parallel */
  int wait_ssh;               /* -1: conversion_host_wait_ssh, 0 no, 1 yes */
};

/* The flavor shape for parallel concurrent migrations. */
struct conversion_host_size { int vcpus; long long ram_mb; long long disk_gb; };
struct conversion_host_size conversion_host_size (long parallel, long long min_disk_gb);

/* The distribution an image holds, from its os_distro property or its
 * name: "centos", "rhel", "fedora", "debian", "ubuntu", or NULL. */
const char *conversion_host_image_distro (const json_t *image);

/* The cloud-init user data (a shell script) for a host: installs the tools
 * (detecting the distribution from /etc/os-release at boot) and ferry, and
 * writes /etc/ferry/conversion-host.yml with the instance's own id from the
 * metadata service.  malloc'd. */
char *conversion_host_user_data (const struct config *cfg, const char *name);

/* The inventory snippet in the seeds' format (migrator and conversion_host
 * groups) for a host at address.  malloc'd. */
char *conversion_host_inventory (const struct config *cfg, const char *address,
                                 const char *distro);

/* `ferry conversion-host deploy`: create or reuse; *result gets a report
 * object (see docs/conversion-host.md).  Returns an exit code. */
int conversion_host_deploy (const struct config *cfg, struct os_client *os,
                            const struct conversion_host_opts *o, json_t **result);
/* `ferry conversion-host status`: the deployed host (or instance_uuid's). */
int conversion_host_status (const struct config *cfg, struct os_client *os,
                            const struct conversion_host_opts *o, json_t **result);
/* `ferry conversion-host delete`: what deploy made, nothing else. */
int conversion_host_delete (const struct config *cfg, struct os_client *os,
                            const struct conversion_host_opts *o, json_t **result);

/* The hook of `ferry migrate`: when already_deploy_conversion_host is
 * false, deploy (or reuse) the host and report it.  0 or an exit code. */
int conversion_host_auto (const struct config *cfg, struct os_client *os);

#endif
