/* ferry: open a vSphere session from the configuration. */
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
  return vs_connect (&o, out);
}
