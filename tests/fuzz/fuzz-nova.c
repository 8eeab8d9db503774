/* Fuzz target for Nova's answers, as ferry's Nova calls
 * (src/openstack/nova.c, over client.c's os_call and os_list) read them:
 * the version document, flavors, servers (get, list with pages, create,
 * the waits for ACTIVE and for deletion, with their fault messages),
 * volume attachments, limits, key pairs, and error answers (quota
 * refusals, transient conflicts retried, 401s).  Reachable only through
 * HTTP requests: fake-http.c answers them from the input, in order (format
 * in fake-http.h), after a fixed Keystone token.  Corpus:
 * tests/fuzz/corpus/nova. */
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

#define SRV "9d3c6a38-2c1b-4b5e-8f4a-1d2e3f405162"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct os_client *c;
  bool gone = false;

  fake_http_load (data, size, true);
  c = fake_os_connect ();
  if (c == NULL)
    abort ();                   /* the canned token is valid */
  {
    char *mv = os_nova_max_microversion (c);
    if (mv)
      (void) os_microversion_cmp (mv, OS_NOVA_MICROVERSION);
    free (mv);
  }
  json_decref (os_flavor_list (c));
  json_decref (os_flavor_get (c, "42", true, &gone));
  json_decref (os_server_get (c, SRV, true, &gone));
  json_decref (os_server_list (c, "name=%5Eweb-1%24"));
  {
    json_t *bdm = json_pack ("[{s:s, s:s, s:s, s:i, s:b}]", "uuid", "5b3f2f5e-0000-4000-8000-"
                             "000000000001", "source_type", "volume", "destination_type",
                             "volume", "boot_index", 0, "delete_on_termination", 0);
    json_t *ports = json_pack ("[s]", "c0ffee00-0000-4000-8000-000000000002");
    json_t *meta = json_pack ("{s:s}", "ferry_vm", "web-1");
    struct os_server_spec spec = { .name = "web-1", .flavor_id = "42", .block_devices = bdm,
                                   .ports = ports, .metadata = meta, .user_data = "#!/bin/sh\n" };
    json_t *srv = os_server_create (c, &spec);
    json_decref (srv);
    json_decref (bdm);
    json_decref (ports);
    json_decref (meta);
  }
  json_decref (os_server_wait_active (c, SRV, 600));
  json_decref (os_server_attachments (c, SRV));
  json_decref (os_server_attach_volume (c, SRV, "5b3f2f5e-0000-4000-8000-000000000001"));
  json_decref (os_nova_limits (c));
  json_decref (os_keypair_get (c, "ferry key", true, &gone));
  (void) os_server_detach_volume (c, SRV, "5b3f2f5e-0000-4000-8000-000000000001");
  (void) os_server_delete (c, SRV);
  (void) os_server_wait_gone (c, SRV, 600);
  os_disconnect (c);
  fake_http_done ();
  return 0;
}
