/* ferry: a vSphere session from ferry's configuration keys
 * (vcenter_hostname or esxi_hostname, vcenter_username, vcenter_password,
 * vmware_insecure, vcenter_cacert, vddk_thumbprint). */
#ifndef FERRY_VSPHERE_VSCONFIG_H
#define FERRY_VSPHERE_VSCONFIG_H

#include "config/config.h"
#include "vsphere/vsphere.h"

/* As vs_connect: 0 or an exit code after logging. */
int vs_connect_config (const struct config *cfg, struct vsphere **out);

#endif
