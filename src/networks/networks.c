/* ferry: destination networks for the source port groups, see networks.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "networks/networks.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#define MARK "ferry-created"

char *
networks_cidr_around (const char *addr, int prefix)
{
  struct in_addr a;
  char buf[INET_ADDRSTRLEN];
  unsigned long h, mask;

  if (addr == NULL || inet_pton (AF_INET, addr, &a) != 1 || prefix < 8 || prefix > 32)
    return NULL;
  h = ntohl (a.s_addr);
  if ((h >> 24) == 127 || (h >> 16) == (169UL << 8 | 254))
    return NULL;
  mask = prefix == 32 ? 0xffffffffUL : (0xffffffffUL << (32 - prefix)) & 0xffffffffUL;
  a.s_addr = htonl (h & mask);
  inet_ntop (AF_INET, &a, buf, sizeof buf);
  return xasprintf ("%s/%d", buf, prefix);
}

/* The Neutron name ferry gives the network of a port group. */
static char *
neutron_name (const struct config *cfg, const char *pg)
{
  const char *prefix = config_get_string (cfg, "networks_name_prefix");
  char *n = xasprintf ("%s%s", prefix ? prefix : "", pg);

  for (char *p = n; p && *p; p++)
    if (*p == ' ' || *p == '/' || *p == ',')
      *p = '-';
  return n;
}

static void
add_unique (json_t *arr, const char *s)
{
  size_t i;
  json_t *e;

  json_array_foreach (arr, i, e)
    if (strcmp (json_string_value (e), s) == 0)
      return;
  json_array_append_new (arr, json_string (s));
}

/* The source networks of the VMs, by map key (port group key for
 * distributed ones, else the network's name), in first-seen order. */
static json_t *
source_networks (const json_t *vms)
{
  json_t *out = json_array ();
  size_t i, j, k;
  json_t *vm, *nic, *e, *ip;

  json_array_foreach (vms, i, vm)
    json_array_foreach (json_object_get (vm, "nics"), j, nic) {
      const char *pg = json_string_value (json_object_get (nic, "portgroup_key"));
      const char *name = json_string_value (json_object_get (nic, "network"));
      const char *key = pg ? pg : name;
      json_t *found = NULL;
      if (key == NULL)
        continue;
      json_array_foreach (out, k, e)
        if (strcmp (json_string_value (json_object_get (e, "key")), key) == 0)
          found = e;
      if (found == NULL) {
        found = json_pack ("{s:s, s:s, s:s, s:O?, s:[], s:[]}", "key", key,
                           "name", name ? name : key, "kind", pg ? "distributed" : "standard",
                           "vlan", json_object_get (nic, "vlan"), "vms", "guest_ips");
        json_array_append_new (out, found);
      }
      add_unique (json_object_get (found, "vms"),
                  json_string_value (json_object_get (vm, "name")));
      json_array_foreach (json_object_get (nic, "ips"), k, ip)
        if (json_is_string (ip))
          add_unique (json_object_get (found, "guest_ips"), json_string_value (ip));
    }
  return out;
}

/* The subnets for a source network: networks_subnets[key|name], else a
 * prefix around each IPv4 guest address. */
static void
plan_subnets (const struct config *cfg, json_t *n)
{
  const json_t *conf = config_get (cfg, "networks_subnets");
  const json_t *given = json_object_get (conf, json_string_value (json_object_get (n, "key")));
  int prefix = (int) config_get_int (cfg, "networks_prefix_length");
  json_t *subnets = json_array ();
  size_t i;
  json_t *e;

  if (given == NULL)
    given = json_object_get (conf, json_string_value (json_object_get (n, "name")));
  if (json_is_string (given))
    add_unique (subnets, json_string_value (given));
  else if (json_is_array (given))
    json_array_foreach (given, i, e)
      if (json_is_string (e))
        add_unique (subnets, json_string_value (e));
  if (json_array_size (subnets))
    json_object_set_new (n, "subnets_from", json_string ("networks_subnets"));
  else {
    json_array_foreach (json_object_get (n, "guest_ips"), i, e) {
      CLEANUP_FREE char *c = networks_cidr_around (json_string_value (e), prefix);
      if (c)
        add_unique (subnets, c);
    }
    json_object_set_new (n, "subnets_from", json_string (json_array_size (subnets)
                                                         ? "guest addresses" : "none seen"));
  }
  json_object_set_new (n, "subnets", subnets);
}

/* The security group planned for a port group: only the listed rules,
 * each limited to the network's subnets unless the rule names a prefix. */
static json_t *
plan_security_group (const struct config *cfg, const json_t *n, const char *sgname)
{
  const json_t *rules = config_get (cfg, "networks_security_group_rules");
  json_t *out = json_array ();
  size_t i, j;
  json_t *r, *c;

  json_array_foreach (rules, i, r) {
    const char *proto = json_string_value (json_object_get (r, "protocol"));
    json_t *port = json_object_get (r, "port");
    json_t *pmax = json_object_get (r, "port_max");
    const char *prefix = json_string_value (json_object_get (r, "remote_ip_prefix"));
    json_t *one = json_pack ("{s:s, s:s}", "direction", "ingress", "protocol",
                             proto ? proto : "tcp");
    if (json_is_integer (port)) {
      json_object_set (one, "port_range_min", port);
      json_object_set (one, "port_range_max", json_is_integer (pmax) ? pmax : port);
    }
    if (prefix) {
      json_object_set_new (one, "remote_ip_prefix", json_string (prefix));
      json_array_append_new (out, one);
      continue;
    }
    json_array_foreach (json_object_get (n, "subnets"), j, c) {
      json_t *copy = json_deep_copy (one);
      json_object_set (copy, "remote_ip_prefix", c);
      json_array_append_new (out, copy);
    }
    json_decref (one);
  }
  return json_pack ("{s:s, s:o}", "name", sgname, "rules", out);
}

/* A network ferry created before: by name with the tag. */
static int
find_created (struct os_client *os, const char *name, json_t **out)
{
  CLEANUP_FREE char *en = os_url_escape (name);
  CLEANUP_FREE char *q = xasprintf ("name=%s&tags=" MARK, en);
  CLEANUP_JSON json_t *list = os_neutron_list (os, "networks", q);

  *out = NULL;
  if (list == NULL)
    return -1;
  if (json_array_size (list) == 0)
    return 1;
  *out = json_incref (json_array_get (list, 0));
  return 0;
}

json_t *
networks_plan (const struct config *cfg, struct os_client *os, const json_t *vms, int *errors)
{
  const json_t *map = config_get (cfg, "network_map");
  bool vlan_wanted = config_get_bool (cfg, "networks_provider_vlan");
  const char *physnet = config_get_string (cfg, "networks_physical_network");
  bool sgs = config_get_bool (cfg, "networks_security_groups");
  json_t *nets = source_networks (vms);
  size_t i;
  json_t *n;

  json_array_foreach (nets, i, n) {
    const char *key = json_string_value (json_object_get (n, "key"));
    const char *name = json_string_value (json_object_get (n, "name"));
    const char *to = json_string_value (json_object_get (map, key));
    json_t *vlan = json_object_get (n, "vlan");
    json_t *neutron;

    if (to == NULL)
      to = json_string_value (json_object_get (map, name));
    plan_subnets (cfg, n);
    if (to) {
      CLEANUP_FREE char *netref = strdup (to);
      CLEANUP_JSON json_t *found = NULL;
      CLEANUP_FREE char *why = NULL;
      char *comma = netref ? strchr (netref, ',') : NULL;
      if (comma)
        *comma = '\0';
      neutron = json_pack ("{s:s, s:n}", "name", netref, "id");
      json_object_set_new (n, "action", json_string ("mapped"));
      if (os) {
        int r = os_network_find (os, netref, &found, &why);
        if (r == 0) {
          json_object_set (neutron, "id", json_object_get (found, "id"));
          json_object_set (neutron, "name", json_object_get (found, "name"));
        }
        else {
          log_error ("port group '%s' (%s): network_map maps it to '%s': %s; fix network_map "
                     "or remove the entry to let ferry create a network", name, key, netref,
                     why ? why : "lookup failed");
          json_object_set_new (n, "action", json_string ("error"));
          json_object_set_new (n, "note", json_sprintf ("network_map names '%s', which does not "
                                                        "exist", netref));
          (*errors)++;
        }
      }
    }
    else {
      CLEANUP_FREE char *nn = neutron_name (cfg, name);
      CLEANUP_JSON json_t *found = NULL;
      neutron = json_pack ("{s:s, s:n}", "name", nn, "id");
      json_object_set_new (n, "action", json_string ("create"));
      if (os) {
        int r = find_created (os, nn, &found);
        if (r == -1)
          (*errors)++;
        if (r == 0) {
          json_object_set_new (n, "action", json_string ("exists"));
          json_object_set (neutron, "id", json_object_get (found, "id"));
        }
      }
      if (json_array_size (json_object_get (n, "subnets")) == 0)
        json_object_set_new (n, "note", json_sprintf ("no guest IPv4 address seen: the network "
                                                      "gets no subnet; set networks_subnets['%s']",
                                                      key));
      if (vlan_wanted && json_integer_value (vlan) > 0) {
        if (physnet == NULL || *physnet == '\0') {
          log_error ("port group '%s': networks_provider_vlan is true but "
                     "networks_physical_network is not set: name the provider network", name);
          (*errors)++;
        }
        else
          json_object_set_new (neutron, "provider",
                               json_pack ("{s:s, s:s, s:O}", "network_type", "vlan",
                                          "physical_network", physnet, "segmentation_id", vlan));
      }
      if (sgs)
        json_object_set_new (n, "security_group", plan_security_group (cfg, n, nn));
    }
    json_object_set_new (n, "neutron", neutron);
  }
  return json_pack ("{s:o}", "networks", nets);
}

/* The subnets of a network: [{cidr, id}]. */
static json_t *
subnets_of (struct os_client *os, const char *net_id)
{
  CLEANUP_FREE char *q = xasprintf ("network_id=%s", net_id);
  return os_neutron_list (os, "subnets", q);
}

static int
create_one (struct os_client *os, json_t *n)
{
  json_t *neutron = json_object_get (n, "neutron");
  const char *name = json_string_value (json_object_get (neutron, "name"));
  const char *pg = json_string_value (json_object_get (n, "name"));
  CLEANUP_JSON json_t *have = NULL;
  CLEANUP_JSON json_t *tags = json_pack ("[s]", MARK);
  const char *id = json_string_value (json_object_get (neutron, "id"));
  size_t i, j;
  json_t *c, *s;

  if (id == NULL) {
    int r = find_created (os, name, &have);
    if (r == -1)
      return -1;
    if (r == 0) {
      json_object_set (neutron, "id", json_object_get (have, "id"));
      id = json_string_value (json_object_get (neutron, "id"));
    }
  }
  if (id == NULL) {
    CLEANUP_JSON json_t *attrs = json_pack ("{s:s, s:s+}", "name", name, "description",
                                            MARK " network for VMware port group ", pg);
    CLEANUP_FREE char *what = xasprintf ("Neutron create network '%s' for port group '%s'",
                                         name, pg);
    const json_t *prov = json_object_get (neutron, "provider");
    json_t *made;
    if (prov) {
      json_object_set (attrs, "provider:network_type", json_object_get (prov, "network_type"));
      json_object_set (attrs, "provider:physical_network",
                       json_object_get (prov, "physical_network"));
      json_object_set (attrs, "provider:segmentation_id",
                       json_object_get (prov, "segmentation_id"));
    }
    made = os_neutron_create (os, "networks", attrs, what);
    if (made == NULL)
      return -1;
    json_object_set (neutron, "id", json_object_get (made, "id"));
    json_decref (made);
    id = json_string_value (json_object_get (neutron, "id"));
    if (os_neutron_set_tags (os, "networks", id, tags) == -1)
      return -1;
    json_object_set_new (n, "created", json_true ());
    log_info ("created network %s (%s) for port group '%s'", name, id, pg);
  }
  /* Its subnets: one per planned CIDR, found again by CIDR. */
  {
    CLEANUP_JSON json_t *existing = subnets_of (os, id);
    json_t *out = json_array ();
    if (existing == NULL) {
      json_decref (out);
      return -1;
    }
    json_array_foreach (json_object_get (n, "subnets"), i, c) {
      const char *cidr = json_string_value (c);
      const char *sid = NULL;
      json_array_foreach (existing, j, s)
        if (!strcmp (json_string_value (json_object_get (s, "cidr")) ?: "", cidr))
          sid = json_string_value (json_object_get (s, "id"));
      if (sid == NULL) {
        CLEANUP_FREE char *sname = xasprintf ("%s-%s", name, cidr);
        CLEANUP_FREE char *what = xasprintf ("Neutron create subnet %s on network '%s'", cidr,
                                             name);
        CLEANUP_JSON json_t *attrs = NULL;
        json_t *made;
        for (char *p = sname; p && *p; p++)
          if (*p == '/')
            *p = '-';
        attrs = json_pack ("{s:s, s:s, s:s, s:i}", "network_id", id, "name", sname,
                           "cidr", cidr, "ip_version", 4);
        made = os_neutron_create (os, "subnets", attrs, what);
        if (made == NULL) {
          json_decref (out);
          return -1;
        }
        json_array_append_new (out, json_pack ("{s:s, s:O}", "cidr", cidr, "id",
                                               json_object_get (made, "id")));
        json_decref (made);
        log_info ("created subnet %s on network %s", cidr, name);
      }
      else
        json_array_append_new (out, json_pack ("{s:s, s:s}", "cidr", cidr, "id", sid));
    }
    json_object_set_new (neutron, "subnets", out);
  }
  return 0;
}

/* The port group's security group: found by name (with ferry's mark) or
 * made with exactly the planned rules. */
static int
create_security_group (struct os_client *os, json_t *n)
{
  json_t *sg = json_object_get (n, "security_group");
  const char *name = json_string_value (json_object_get (sg, "name"));
  CLEANUP_FREE char *en = os_url_escape (name);
  CLEANUP_FREE char *q = xasprintf ("name=%s&project_id=%s", en, os_project_id (os));
  CLEANUP_JSON json_t *list = os_neutron_list (os, "security-groups", q);
  CLEANUP_JSON json_t *attrs = NULL;
  CLEANUP_FREE char *what = NULL;
  size_t i;
  json_t *r, *made;

  if (list == NULL)
    return -1;
  if (json_array_size (list)) {
    json_object_set (sg, "id", json_object_get (json_array_get (list, 0), "id"));
    return 0;
  }
  attrs = json_pack ("{s:s, s:s+}", "name", name, "description",
                     MARK " security group for VMware port group ",
                     json_string_value (json_object_get (n, "name")));
  what = xasprintf ("Neutron create security group '%s'", name);
  made = os_neutron_create (os, "security-groups", attrs, what);
  if (made == NULL)
    return -1;
  json_object_set (sg, "id", json_object_get (made, "id"));
  json_array_foreach (json_object_get (sg, "rules"), i, r) {
    CLEANUP_JSON json_t *rule = json_deep_copy (r);
    CLEANUP_FREE char *rw = xasprintf ("Neutron add a rule to security group '%s'", name);
    json_t *ans;
    json_object_set (rule, "security_group_id", json_object_get (made, "id"));
    ans = os_neutron_create (os, "security-group-rules", rule, rw);
    if (ans == NULL) {
      json_decref (made);
      return -1;
    }
    json_decref (ans);
  }
  json_decref (made);
  log_info ("created security group %s with %zu ingress rules", name,
            json_array_size (json_object_get (sg, "rules")));
  return 0;
}

int
networks_create (const struct config *cfg, struct os_client *os, json_t *plan)
{
  size_t i;
  json_t *n;
  int rc = 0;

  (void) cfg;
  json_array_foreach (json_object_get (plan, "networks"), i, n) {
    const char *action = json_string_value (json_object_get (n, "action"));
    if (strcmp (action, "create") && strcmp (action, "exists"))
      continue;
    if (create_one (os, n) == -1) {
      rc = FERRY_EXIT_DEST;
      continue;
    }
    if (json_object_get (n, "security_group") && create_security_group (os, n) == -1)
      rc = FERRY_EXIT_DEST;
  }
  return rc;
}

char *
networks_map_yaml (const json_t *plan)
{
  char *out = NULL;
  size_t len = 0, i;
  FILE *f = open_memstream (&out, &len);
  json_t *n;

  if (f == NULL)
    return NULL;
  fprintf (f, "# network_map from ferry networks create: every port group of the selected VMs.\n"
           "used_mapped_networks: true\n"
           "network_map:\n");
  json_array_foreach (json_object_get (plan, "networks"), i, n) {
    const json_t *neutron = json_object_get (n, "neutron");
    CLEANUP_FREE char *k = json_dumps (json_object_get (n, "key"), JSON_ENCODE_ANY);
    CLEANUP_FREE char *v = json_dumps (json_object_get (neutron, "name"), JSON_ENCODE_ANY);
    if (!strcmp (json_string_value (json_object_get (n, "action")), "error"))
      continue;
    fprintf (f, "  %s: %s", k, v);
    if (json_string_value (json_object_get (neutron, "id")))
      fprintf (f, "   # %s", json_string_value (json_object_get (neutron, "id")));
    fputc ('\n', f);
  }
  if (fclose (f) != 0) {
    free (out);
    return NULL;
  }
  return out;
}
