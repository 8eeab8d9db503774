/* ferry: open a vSphere session from the configuration. */
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/log.h"
#include "vsphere/vsphere.h"
#include "vsphere/vsconfig.h"

int
vs_connect_config (const struct config *cfg, struct vsphere **out)
{
  struct vs_opts o = { 0 };

  o.host = config_get_string (cfg, "vcenter_hostname");
  if (o.host == NULL || *o.host == '\0')
    o.host = config_get_string (cfg, "esxi_hostname");
  o.user = config_get_string (cfg, "vcenter_username");
  o.password = config_get_string (cfg, "vcenter_password");
  o.insecure = config_get_bool (cfg, "vmware_insecure");
  o.cacert = config_get_string (cfg, "vcenter_cacert");
  o.thumbprint = config_get_string (cfg, "vddk_thumbprint");
  /* vCenter and ESXi serve their API over HTTPS only, unless someone
   * changed that on purpose: plain http:// would send the password in clear. */
  if (o.host && strncasecmp (o.host, "http://", 7) == 0) {
    if (!config_get_bool (cfg, "allow_insecure_http")) {
      *out = NULL;
      log_error ("vcenter_hostname %s is plain http://: the vCenter password would cross the "
                 "network in clear (vCenter serves its API over HTTPS): give the host name "
                 "(https is used), or set allow_insecure_http: true if you really must", o.host);
      return FERRY_EXIT_USAGE;
    }
    log_warn ("%s: plain http:// (allow_insecure_http): the vCenter password and session "
              "cross the network in clear", o.host);
  }
  return vs_connect (&o, out);
}
