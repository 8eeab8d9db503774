/* ferry: the quotas that bound a migration, from three services. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/resources.h"
#include "openstack/internal.h"
#include "common/cleanup.h"
#include "common/log.h"

static void
put (json_t *out, const char *name, json_int_t limit, json_int_t in_use)
{
  json_object_set_new (out, name, json_pack ("{s:I, s:I}", "limit", limit, "in_use", in_use));
}

json_t *
os_quotas (struct os_client *c)
{
  json_t *out = json_object ();
  CLEANUP_JSON json_t *vq = os_volume_quotas (c);
  CLEANUP_JSON json_t *lim = os_nova_limits (c);
  CLEANUP_JSON json_t *nq = os_endpoint (c, OS_NETWORK) ? os_network_quotas (c) : NULL;
  static const char *const vkeys[] = { "volumes", "gigabytes", NULL };
  static const struct { const char *name, *max, *used; } nkeys[] = {
    { "instances", "maxTotalInstances", "totalInstancesUsed" },
    { "cores", "maxTotalCores", "totalCoresUsed" },
    { "ram", "maxTotalRAMSize", "totalRAMUsed" },
    { NULL, NULL, NULL }
  };

  if (out == NULL)
    return NULL;
  for (size_t i = 0; vq && vkeys[i]; i++) {
    const json_t *q = json_object_get (vq, vkeys[i]);
    if (json_is_object (q))
      put (out, vkeys[i], json_integer_value (json_object_get (q, "limit")),
           json_integer_value (json_object_get (q, "in_use"))
           + json_integer_value (json_object_get (q, "reserved")));
    else if (json_is_integer (q))
      put (out, vkeys[i], json_integer_value (q), 0);
  }
  for (size_t i = 0; lim && nkeys[i].name; i++)
    if (json_object_get (lim, nkeys[i].max))
      put (out, nkeys[i].name, json_integer_value (json_object_get (lim, nkeys[i].max)),
           json_integer_value (json_object_get (lim, nkeys[i].used)));
  if (nq && json_is_object (json_object_get (nq, "port"))) {
    const json_t *p = json_object_get (nq, "port");
    put (out, "ports", json_integer_value (json_object_get (p, "limit")),
         json_integer_value (json_object_get (p, "used"))
         + json_integer_value (json_object_get (p, "reserved")));
  }
  return out;
}
