/* ferry: Neutron v2 -- networks, subnets, ports, security groups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/resources.h"
#include "openstack/internal.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

static json_t *
member (json_t *ans, const char *key)
{
  json_t *m = json_incref (json_object_get (ans, key));
  json_decref (ans);
  return m;
}

/* Find a resource of collection (networks) by id, else by name, with an
 * extra query (may be ""). */
static int
find (struct os_client *c, const char *collection, const char *key, const char *singular,
      const char *label, const char *ref, const char *extra, json_t **out, char **why)
{
  CLEANUP_JSON json_t *list = NULL;
  CLEANUP_FREE char *eref = os_url_escape (ref);
  CLEANUP_FREE char *path = NULL;
  CLEANUP_FREE char *what = xasprintf ("Neutron find %s '%s'", label, ref);

  *out = NULL;
  *why = NULL;
  if (os_is_uuid (ref)) {
    CLEANUP_FREE char *p = xasprintf ("/%s/%s", collection, ref);
    struct os_call call = { .service = OS_NETWORK, .method = "GET", .path = p, .what = what,
                            .quiet_404 = true };
    long st = 0;
    json_t *r = member (os_call (c, &call, &st), singular);
    if (r) {
      *out = r;
      return 0;
    }
    if (st != 404)
      return -1;
  }
  path = xasprintf ("/%s?name=%s%s", collection, eref, extra);
  list = os_list (c, OS_NETWORK, path, key, what);
  if (list == NULL)
    return -1;
  if (json_array_size (list) == 1) {
    *out = json_incref (json_array_get (list, 0));
    return 0;
  }
  if (json_array_size (list) == 0)
    *why = xasprintf ("no %s named or with id '%s' is visible to project %s", label, ref,
                      os_project_name (c));
  else
    *why = xasprintf ("%zu %ss are named '%s': give the id instead", json_array_size (list),
                      label, ref);
  return 1;
}

int
os_network_find (struct os_client *c, const char *ref, json_t **out, char **why)
{
  int r = find (c, "networks", "networks", "network", "network", ref, "", out, why);
  CLEANUP_FREE char *path = NULL;
  json_t *subnets;

  if (r != 0)
    return r;
  path = xasprintf ("/subnets?network_id=%s",
                    json_string_value (json_object_get (*out, "id")));
  subnets = os_list (c, OS_NETWORK, path, "subnets", "Neutron list subnets");
  if (subnets == NULL) {
    json_decref (*out);
    *out = NULL;
    return -1;
  }
  json_object_set_new (*out, "subnet_details", subnets);
  return 0;
}

int
os_subnet_find (struct os_client *c, const char *network_id, const char *ref,
                json_t **out, char **why)
{
  CLEANUP_FREE char *extra = network_id ? xasprintf ("&network_id=%s", network_id) : strdup ("");
  int r = find (c, "subnets", "subnets", "subnet", "subnet", ref, extra, out, why);

  if (r == 0 && network_id
      && strcmp (json_string_value (json_object_get (*out, "network_id")) ?: "", network_id)) {
    /* Neutron's answer may lack the field: then it is not shown to be on it. */
    *why = xasprintf ("subnet '%s' is not on network %s", ref, network_id);
    json_decref (*out);
    *out = NULL;
    return 1;
  }
  return r;
}

int
os_security_group_find (struct os_client *c, const char *ref, json_t **out, char **why)
{
  CLEANUP_FREE char *extra = xasprintf ("&project_id=%s", os_project_id (c));
  return find (c, "security-groups", "security_groups", "security_group", "security group", ref, extra, out, why);
}

json_t *
os_port_create (struct os_client *c, const struct os_port_spec *spec)
{
  CLEANUP_JSON json_t *port = json_pack ("{s:s}", "network_id", spec->network_id);
  CLEANUP_JSON json_t *body = NULL;
  CLEANUP_FREE char *what = xasprintf ("Neutron create port '%s'%s%s",
                                       spec->name ? spec->name : "",
                                       spec->mac_address ? " with MAC " : "",
                                       spec->mac_address ? spec->mac_address : "");
  json_t *p;

  if (port == NULL)
    return NULL;
  if (spec->name)
    json_object_set_new (port, "name", json_string (spec->name));
  if (spec->description)
    json_object_set_new (port, "description", json_string (spec->description));
  if (spec->mac_address)
    json_object_set_new (port, "mac_address", json_string (spec->mac_address));
  if (spec->fixed_ips)
    json_object_set_new (port, "fixed_ips", json_deep_copy (spec->fixed_ips));
  if (spec->security_groups)
    json_object_set_new (port, "security_groups", json_deep_copy (spec->security_groups));
  if (spec->device_owner)
    json_object_set_new (port, "device_owner", json_string (spec->device_owner));
  body = json_pack ("{s:O}", "port", port);
  {
    struct os_call call = { .service = OS_NETWORK, .method = "POST", .path = "/ports",
                            .body = body, .what = what };
    p = member (os_call (c, &call, NULL), "port");
  }
  if (p && spec->tags && json_array_size (spec->tags)) {
    if (os_port_set_tags (c, json_string_value (json_object_get (p, "id")), spec->tags) == -1) {
      json_decref (p);
      return NULL;
    }
    json_object_set_new (p, "tags", json_deep_copy (spec->tags));
  }
  return p;
}

json_t *
os_port_get (struct os_client *c, const char *id, bool quiet_404, bool *gone)
{
  CLEANUP_FREE char *path = xasprintf ("/ports/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Neutron get port %s", id);
  struct os_call call = { .service = OS_NETWORK, .method = "GET", .path = path, .what = what,
                          .quiet_404 = quiet_404 };
  long st = 0;
  json_t *p = member (os_call (c, &call, &st), "port");

  if (gone)
    *gone = st == 404;
  return p;
}

json_t *
os_port_list (struct os_client *c, const char *query)
{
  CLEANUP_FREE char *path = xasprintf ("/ports%s%s", query && *query ? "?" : "",
                                       query ? query : "");
  return os_list (c, OS_NETWORK, path, "ports", "Neutron list ports");
}

int
os_neutron_set_tags (struct os_client *c, const char *collection, const char *id,
                     const json_t *tags)
{
  CLEANUP_FREE char *path = xasprintf ("/%s/%s/tags", collection, id);
  CLEANUP_FREE char *what = xasprintf ("Neutron set tags on %s %s", collection, id);
  CLEANUP_JSON json_t *body = json_pack ("{s:O}", "tags", tags);
  struct os_call call = { .service = OS_NETWORK, .method = "PUT", .path = path, .body = body,
                          .what = what };
  CLEANUP_JSON json_t *ans = os_call (c, &call, NULL);

  return ans ? 0 : -1;
}

int
os_port_set_tags (struct os_client *c, const char *id, const json_t *tags)
{
  return os_neutron_set_tags (c, "ports", id, tags);
}

json_t *
os_neutron_list (struct os_client *c, const char *collection, const char *query)
{
  CLEANUP_FREE char *path = xasprintf ("/%s%s%s", collection, query && *query ? "?" : "",
                                       query ? query : "");
  CLEANUP_FREE char *key = strdup (collection);
  CLEANUP_FREE char *what = xasprintf ("Neutron list %s", collection);

  for (char *p = key; p && *p; p++)
    if (*p == '-')
      *p = '_';
  return os_list (c, OS_NETWORK, path, key, what);
}

json_t *
os_neutron_create (struct os_client *c, const char *collection, const json_t *attrs,
                   const char *what)
{
  /* The body's member is the singular of the collection: security_group,
   * security_group_rule, floatingip, network, subnet, router. */
  CLEANUP_FREE char *singular = strdup (collection);
  CLEANUP_FREE char *path = xasprintf ("/%s", collection);
  CLEANUP_JSON json_t *body = NULL;
  size_t n;

  if (singular == NULL)
    return NULL;
  for (char *p = singular; *p; p++)
    if (*p == '-')
      *p = '_';
  n = strlen (singular);
  if (n && singular[n - 1] == 's')
    singular[n - 1] = '\0';
  body = json_pack ("{s:O}", singular, attrs);
  {
    struct os_call call = { .service = OS_NETWORK, .method = "POST", .path = path,
                            .body = body, .what = what };
    return member (os_call (c, &call, NULL), singular);
  }
}

int
os_neutron_delete (struct os_client *c, const char *collection, const char *id)
{
  CLEANUP_FREE char *path = xasprintf ("/%s/%s", collection, id);
  CLEANUP_FREE char *what = xasprintf ("Neutron delete %s %s", collection, id);
  return os_delete (c, OS_NETWORK, path, what);
}

int
os_port_delete (struct os_client *c, const char *id)
{
  CLEANUP_FREE char *path = xasprintf ("/ports/%s", id);
  CLEANUP_FREE char *what = xasprintf ("Neutron delete port %s", id);
  return os_delete (c, OS_NETWORK, path, what);
}

json_t *
os_network_quotas (struct os_client *c)
{
  CLEANUP_FREE char *path = xasprintf ("/quotas/%s/details", os_project_id (c));
  struct os_call call = { .service = OS_NETWORK, .method = "GET", .path = path,
                          .what = "Neutron quotas" };
  return member (os_call (c, &call, NULL), "quota");
}
