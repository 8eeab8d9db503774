/* ferry: OpenStack client internals shared by the files of src/openstack. */
#ifndef FERRY_OPENSTACK_INTERNAL_H
#define FERRY_OPENSTACK_INTERNAL_H

#include <time.h>
#include <jansson.h>

#include "openstack/openstack.h"
#include "common/http.h"

struct os_client {
  struct http *http;
  json_t *cloud;              /* copy of the resolved cloud dict */
  char *auth_url;             /* Keystone v3 base, no trailing slash */
  char *token;
  time_t expires;             /* 0: unknown */
  char *project_id, *project_name, *user_id;
  char *region;               /* NULL: any */
  char *interface;            /* public, internal, admin */
  json_t *endpoints;          /* OS_COMPUTE... -> url */
  json_t *microversions;      /* OS_COMPUTE... -> "2.67" */
  unsigned auth_count, round_trips;
  int conflict_attempts;
  long conflict_delay_ms;
};

/* keystone.c: authenticate (again) with the cloud's settings; fills token,
 * expiry, ids and endpoints.  0, or an exit code after logging. */
int os_authenticate (struct os_client *c);

/* errors.c: the service's own message from an error answer (malloc'd,
 * never NULL on success: "(no message)"). */
char *os_error_text (const char *body);
/* A quota explanation ("over quota for gigabytes: asked 10G, quota 1G,
 * in use 0G") if the answer is a quota refusal, else NULL. */
char *os_quota_explain (long status, const char *message);
/* A 409 whose message says the conflict passes (task state, lock, ...). */
int os_conflict_is_transient (const char *message);
/* What to check, for an HTTP status. */
const char *os_status_advice (long status);
/* A readable service name for messages ("Cinder"). */
const char *os_service_label (const char *service);

#endif
