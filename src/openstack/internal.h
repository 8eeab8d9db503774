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

/* client.c: poll a resource until it reaches a status (os_poll_kind).
 * Each look fetches it with get (quiet about a 404 when waiting for it to
 * go; *gone set on a 404); a resource gone has reached the status
 * "deleted".  A status that failed() says will not change (it logs why)
 * ends the wait with -1. */
struct os_wait {
  const char *kind;           /* os_poll_kind's: "server ACTIVE" */
  const char *id;
  const char *status;         /* the status awaited; NULL: the resource gone */
  json_t *(*get) (struct os_client *c, const char *id, bool quiet_404, bool *gone);
  bool (*failed) (struct os_client *c, const char *id, const json_t *res, const char *status,
                  const char *awaited);
  /* Left by the wait, the caller's to release: */
  json_t *res;                /* the resource as last seen, or NULL */
  char *last;                 /* its status as last seen ("?": none), or NULL */
};
/* os_poll_kind's answer: 0, -1, or -2 on a timeout (the caller logs it). */
int os_wait_status (struct os_client *c, struct os_wait *w, int timeout_s);

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
