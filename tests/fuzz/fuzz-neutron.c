/* Fuzz target for Neutron's answers, as ferry's Neutron calls
 * (src/openstack/neutron.c over client.c) read them: finding networks,
 * subnets and security groups by id or by name (with their pages), ports
 * (get, list, create with tags), other collections, quotas, and error
 * answers (NeutronError).  Reachable only through HTTP requests:
 * fake-http.c answers them from the input, in order (format in
 * fake-http.h), after a fixed Keystone token.  Corpus:
 * tests/fuzz/corpus/neutron. */
#include <jansson.h>

#include "openstack/openstack.h"
#include "openstack/resources.h"
#include "common/log.h"
#include "fake-http.h"

#include "fuzz-common.h"

static void
target_init (void)
{
  log_set_level (LOG_LEVEL_ERROR);
}

#define NET "81cc01d2-5e47-4fad-b387-32686ec71fa4"

static void
find (int (*f) (struct os_client *, const char *, json_t **, char **), struct os_client *c,
      const char *ref)
{
  json_t *out = NULL;
  char *why = NULL;

  (void) f (c, ref, &out, &why);
  json_decref (out);
  free (why);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct os_client *c;
  bool gone = false;

  fake_http_load (data, size, true);
  c = fake_os_connect ();
  if (c == NULL)
    abort ();                   /* the canned token is valid */
  find (os_network_find, c, "private");
  find (os_network_find, c, NET);
  {
    json_t *out = NULL;
    char *why = NULL;
    (void) os_subnet_find (c, NET, "private-subnet", &out, &why);
    json_decref (out);
    free (why);
  }
  find (os_security_group_find, c, "default");
  json_decref (os_port_get (c, "c0ffee00-0000-4000-8000-000000000002", true, &gone));
  json_decref (os_port_list (c, "mac_address=00%3A50%3A56%3A01%3A02%3A03"));
  {
    json_t *ips = json_pack ("[{s:s}]", "subnet_id", "3b4f1f2e-0000-4000-8000-000000000004");
    json_t *sgs = json_pack ("[s]", "ab7e2b1a-b9d3-4d31-9d2a-bab63f823243");
    json_t *tags = json_pack ("[s, s]", "ferry", "vm:web-1");
    struct os_port_spec spec = { .network_id = NET, .name = "web-1-nic-0",
                                 .mac_address = "00:50:56:01:02:03", .fixed_ips = ips,
                                 .security_groups = sgs, .tags = tags };
    json_decref (os_port_create (c, &spec));
    json_decref (ips);
    json_decref (sgs);
    json_decref (tags);
  }
  json_decref (os_neutron_list (c, "security-group-rules", "security_group_id=ab7e2b1a"));
  json_decref (os_network_quotas (c));
  (void) os_port_delete (c, "c0ffee00-0000-4000-8000-000000000002");
  os_disconnect (c);
  fake_http_done ();
  return 0;
}
