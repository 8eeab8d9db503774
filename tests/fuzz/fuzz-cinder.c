/* Fuzz target for Cinder's answers, as ferry's Cinder calls
 * (src/openstack/cinder.c, and quotas.c over Cinder, Nova and Neutron) read
 * them: volumes (get, list filtered again by metadata and name, create
 * bootable with its wait, the waits with Cinder's user messages on error),
 * volume types, snapshots, quotas, and error answers.  Reachable only
 * through HTTP requests: fake-http.c answers them from the input, in order
 * (format in fake-http.h), after a fixed Keystone token.  Corpus:
 * tests/fuzz/corpus/cinder. */
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

#define VOL "5b3f2f5e-0000-4000-8000-000000000001"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct os_client *c;
  bool gone = false;

  fake_http_load (data, size, true);
  c = fake_os_connect ();
  if (c == NULL)
    abort ();                   /* the canned token is valid */
  json_decref (os_volume_get (c, VOL, true, &gone));
  {
    json_t *meta = json_pack ("{s:s, s:s}", "ferry_vm", "web-1", "ferry_disk", "0");
    json_decref (os_volume_list (c, meta, "web-1-disk-0"));
    struct os_volume_spec spec = { .name = "web-1-disk-0", .size_gb = 20,
                                   .volume_type = "ceph", .metadata = meta, .bootable = true };
    json_decref (os_volume_create (c, &spec));
    json_decref (meta);
  }
  json_decref (os_volume_wait (c, VOL, "available", 600));
  json_decref (os_volume_types (c));
  json_decref (os_snapshot_list (c, VOL));
  {
    char *last = NULL;
    (void) os_snapshot_wait (c, "7e57a0b1-0000-4000-8000-000000000003", "available", 600, &last);
    free (last);
  }
  json_decref (os_quotas (c));
  (void) os_volume_delete (c, VOL);
  (void) os_volume_wait_gone (c, VOL, 600);
  os_disconnect (c);
  fake_http_done ();
  return 0;
}
