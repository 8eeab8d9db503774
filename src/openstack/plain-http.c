/* ferry: OpenStack endpoints reached over plain http://.
 *
 * Many private clouds run internal endpoints without TLS; ferry talks to
 * them (the operator chose them), but the password and tokens then cross
 * the network in clear, and the operator must know it: each such endpoint
 * is named once per run, in the log and in the report. */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "common/lock.h"
#include "common/log.h"
#include "openstack/openstack.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *seen;            /* URLs already named */

/* Add url to the URLs seen: true if it was not there yet. */
static bool
remember (const char *url)
{
  bool first = false;

  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
  if (seen == NULL)
    seen = json_array ();
  if (seen) {
    size_t i;
    json_t *v;
    first = true;
    json_array_foreach (seen, i, v)
      if (strcmp (json_string_value (v), url) == 0)
        first = false;
    if (first)
      json_array_append_new (seen, json_string (url));
  }
  return first;
}

void
os_note_plain_http (const char *what, const char *url)
{
  if (url == NULL || strncasecmp (url, "http://", 7) != 0)
    return;
  if (remember (url))
    log_warn ("OpenStack %s %s is plain http://: the password and tokens cross the "
              "network in clear (use its https:// endpoint if the cloud has one)", what, url);
}

json_t *
os_plain_http_endpoints (void)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
  return seen ? json_deep_copy (seen) : json_array ();
}

void
os_plain_http_reset (void)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
  json_decref (seen);
  seen = NULL;
}
