/* Fuzz target for Keystone's answers: the token body (user, project,
 * expiry, the service catalog and its endpoints) and error answers, as
 * os_connect and os_authenticate (src/openstack/keystone.c) read them.
 * They are reachable only through an HTTP request, so the requests are
 * answered from the input by fake-http.c (the answers format is described
 * in fake-http.h): the first answer authenticates os_connect, the second
 * an os_reauth, then a Nova request (the version document) whose answer
 * may be a 401, which authenticates again.  Corpus:
 * tests/fuzz/corpus/keystone. */
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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct os_client *c;

  fake_http_load (data, size, false);
  c = fake_os_connect ();
  if (c) {
    static const char *const services[] = { OS_IDENTITY, OS_COMPUTE, OS_VOLUME, "volumev3",
      OS_NETWORK, OS_IMAGE, NULL };
    for (size_t i = 0; services[i]; i++)
      (void) os_endpoint (c, services[i]);
    (void) os_project_id (c);
    (void) os_project_name (c);
    (void) os_user_id (c);
    (void) os_token_expires (c);
    os_reauth (c);
    free (os_nova_max_microversion (c));
    json_decref (os_plain_http_endpoints ());
    os_disconnect (c);
  }
  fake_http_done ();
  return 0;
}
