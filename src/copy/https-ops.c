/* ferry: an https:// source read by ferry itself (vSphere's datastore
 * file access: /folder/... with the session cookie).
 *
 * Why in-process and not nbdkit's curl plugin: the data path must be
 * verified exactly as ferry's own vCenter connection is -- a CA file, the
 * system store, or a pinned thumbprint (vddk_thumbprint), which no child
 * process can be given.  Each connection is a struct http (common/http.h:
 * its TLS checks, retries and timeouts) reading byte ranges; requests
 * complete synchronously, as local files do.
 *
 * The session can end while the disk is read (vCenter's idle timeout, an
 * administrator's TerminateSession, a vCenter restart): the server then
 * answers 401.  The reader takes a new cookie from ferry's SOAP layer
 * (vs_datastore_renew_cookie: one login shared by every connection and
 * every disk of that vCenter) and reads again.  If the cookie of a login
 * made for it is refused before anything was read with it, the server
 * refuses the user, not the session: the source fails for good. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/http.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/util.h"
#include "copy/rw.h"
#include "vsphere/datastore.h"

struct https_rw {
  struct rw rw;
  char *url;
  char *where;                /* "[datastore] dir/file-flat.vmdk", for messages */
  struct http_tls tls;
  char *cacert, *thumbprint;  /* owned copies for tls */
  struct http **h;            /* one per connection */
  /* The session, shared by the connections (threads) under lock. */
  pthread_mutex_t lock;
  char *cookie_name;          /* "vmware_soap_session", or NULL: no cookie */
  char *cookie;               /* its value */
  unsigned gen;               /* bumped whenever cookie changes */
  unsigned fresh_gen;         /* gen of a login made for this reader, 0: none */
  bool fresh_proven;          /* a read succeeded with that login's cookie */
  bool refused;               /* given up: reads fail at once */
};

static const struct rw_ops https_ops;

bool
https_rw_matches (const char *name)
{
  return strncasecmp (name, "https://", 8) == 0;
}

static void
https_ops_close (struct rw *rw)
{
  struct https_rw *s = (struct https_rw *) rw;

  for (unsigned i = 0; s->h && i < rw->nconns; i++)
    http_free (s->h[i]);
  free (s->h);
  free (s->url);
  free (s->where);
  free (s->cookie_name);
  free (s->cookie);
  pthread_mutex_destroy (&s->lock);
  free (s->cacert);
  free (s->thumbprint);
  free (rw->name);
  free (s);
}

static struct http *
new_connection (struct https_rw *s)
{
  struct http *h = http_new ("the datastore");

  if (h == NULL)
    return NULL;
  if (http_set_tls (h, &s->tls) == -1) {
    http_free (h);
    return NULL;
  }
  return h;
}

/* A 401 for a request sent with cookie generation gen.  Returns 0 when
 * the request should be sent again (a cookie newer than gen is there), or
 * -1 (reads refused from now on, logged once). */
static int
renew (struct https_rw *s, unsigned gen)
{
  int r = 0;

  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&s->lock);
  if (s->refused)
    r = -1;
  else if (s->gen != gen)
    ;                         /* another connection renewed it meanwhile */
  else if (s->cookie == NULL) {
    log_error ("source %s: vCenter answered HTTP 401 and ferry sent no session: datastore "
               "files need a logged-in vCenter session", s->where);
    s->refused = true;
    r = -1;
  }
  else if (s->fresh_gen == gen && !s->fresh_proven) {
    log_error ("source %s: vCenter refused the read again right after ferry logged in anew "
               "(HTTP 401): the user is refused, not its session -- check that it may read "
               "the datastore (Datastore.Browse, Datastore.FileManagement) and that nothing "
               "ends its sessions at once, then run the migration again (it resumes where "
               "it stopped)", s->where);
    s->refused = true;
    r = -1;
  }
  else {
    bool fresh;
    /* Holding the lock: this reader's other connections wait for the one
     * login, and the SOAP layer shares it with other disks' readers. */
    char *c = vs_datastore_renew_cookie (s->url, s->cookie, &fresh);
    if (c == NULL) {
      log_error ("source %s: vCenter ended the session (HTTP 401) and ferry could not log in "
                 "again (see above): check vCenter and the credentials, then run the "
                 "migration again (it resumes where it stopped)", s->where);
      s->refused = true;
      r = -1;
    }
    else {
      free (s->cookie);
      s->cookie = c;
      s->gen++;
      if (fresh) {
        s->fresh_gen = s->gen;
        s->fresh_proven = false;
      }
    }
  }
  return r;
}

/* GET one byte range.  Returns 0 with the answer in *resp (status 206 and
 * exactly len bytes), or -1 with errno set after logging at debug level
 * (the engine retries and reports); a refused session is renewed here. */
static int
get_range (struct https_rw *s, struct http *h, uint64_t offset, size_t len,
           struct http_response *resp)
{
  CLEANUP_FREE char *range = xasprintf ("Range: bytes=%" PRIu64 "-%" PRIu64, offset,
                                        offset + len - 1);
  CLEANUP_FREE char *what = xasprintf ("datastore read at %" PRIu64, offset);

  if (range == NULL || what == NULL) {
    errno = ENOMEM;
    return -1;
  }
  /* A few rounds at most: each 401 either renews the cookie or gives up. */
  for (int round = 0;; round++) {
    CLEANUP_FREE char *cookie = NULL;
    const char *headers[] = { range, NULL, NULL };
    struct http_request req = { .method = "GET", .url = s->url, .headers = headers,
                                .idempotent = true, .what = what };
    unsigned gen;
    bool refused;
    long status;
    int e;

    {
      ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&s->lock);
      gen = s->gen;
      refused = s->refused;
      if (s->cookie_name)
        cookie = xasprintf ("Cookie: %s=%s", s->cookie_name, s->cookie ? s->cookie : "");
    }
    if (refused) {
      errno = EACCES;
      return -1;
    }
    if (s->cookie_name && cookie == NULL) {
      errno = ENOMEM;
      return -1;
    }
    headers[1] = cookie;
    if (http_request (h, &req, resp) == -1) {
      errno = EIO;
      return -1;
    }
    if (resp->status == 206 && resp->len == len) {
      ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&s->lock);
      if (s->fresh_gen == gen)
        s->fresh_proven = true;
      return 0;
    }
    log_debug ("%s: GET %s (%s): HTTP %ld with %zu bytes, expected 206 with %zu", s->rw.name,
               s->url, range, resp->status, resp->len, len);
    status = resp->status;
    e = status == 401 || status == 403 ? EACCES : EIO;
    http_response_free (resp);
    if (status == 401 && round < 3 && renew (s, gen) == 0)
      continue;
    errno = e;
    return -1;
  }
}

struct rw *
https_rw_open (const char *name, const struct rw_open_args *args, int *exit_code)
{
  struct https_rw *s;
  struct http_response resp = { 0 };
  CLEANUP_FREE char *cr = NULL;
  const char *slash;
  int r;

  *exit_code = FERRY_EXIT_USAGE;
  if (args->is_dst) {
    log_error ("destination %s: an https:// destination is not supported", name);
    return NULL;
  }
  s = calloc (1, sizeof *s);
  if (s == NULL)
    return NULL;
  pthread_mutex_init (&s->lock, NULL);
  s->rw.ops = &https_ops;
  s->rw.name = strdup (name);
  s->url = strdup (name);
  s->where = vs_datastore_path_of_url (name);
  if (args->https_cookie) {
    const char *eq = strchr (args->https_cookie, '=');
    s->cookie_name = eq ? strndup (args->https_cookie, eq - args->https_cookie)
      : strdup (args->https_cookie);
    s->cookie = strdup (eq ? eq + 1 : "");
  }
  if (args->https_tls) {
    s->tls.insecure = args->https_tls->insecure;
    s->cacert = args->https_tls->cacert ? strdup (args->https_tls->cacert) : NULL;
    s->thumbprint = args->https_tls->thumbprint ? strdup (args->https_tls->thumbprint) : NULL;
    s->tls.cacert = s->cacert;
    s->tls.thumbprint = s->thumbprint;
  }
  s->h = calloc (1, sizeof *s->h);
  if (s->rw.name == NULL || s->url == NULL || s->where == NULL || s->h == NULL ||
      (args->https_cookie && (s->cookie_name == NULL || s->cookie == NULL))) {
    https_ops_close (&s->rw);
    return NULL;
  }
  s->rw.nconns = 1;
  s->h[0] = new_connection (s);
  *exit_code = FERRY_EXIT_DATA;
  if (s->h[0] == NULL) {
    https_ops_close (&s->rw);
    return NULL;
  }

  /* The size, from the first byte's Content-Range ("bytes 0-0/SIZE"). */
  r = get_range (s, s->h[0], 0, 1, &resp);
  if (r == -1) {
    log_error ("source %s: no byte range could be read (%s): check that the session is "
               "valid and that the server answers range requests", name,
               errno == EACCES ? "not authorized" : "no 206 answer");
    https_ops_close (&s->rw);
    return NULL;
  }
  cr = http_response_header (&resp, "Content-Range");
  http_response_free (&resp);
  slash = cr ? strrchr (cr, '/') : NULL;
  if (slash == NULL || sscanf (slash + 1, "%" SCNu64, &s->rw.size) != 1 || s->rw.size == 0) {
    log_error ("source %s: the answer gives no size (Content-Range '%s')", name,
               cr ? cr : "missing");
    https_ops_close (&s->rw);
    return NULL;
  }
  s->rw.max_request = 32 * 1024 * 1024;
  *exit_code = 0;
  return &s->rw;
}

static int
https_ops_connect (struct rw *rw, unsigned n)
{
  struct https_rw *s = (struct https_rw *) rw;
  struct http **h;

  if (n <= rw->nconns)
    return 0;
  h = realloc (s->h, n * sizeof *h);
  if (h == NULL) {
    log_error ("out of memory");
    return -1;
  }
  s->h = h;
  while (rw->nconns < n) {
    if ((s->h[rw->nconns] = new_connection (s)) == NULL)
      return -1;
    rw->nconns++;
  }
  return 0;
}

static bool
https_ops_true (struct rw *rw)
{
  (void) rw;
  return true;                /* read-only: connections can't disagree */
}

static bool
https_ops_false (struct rw *rw)
{
  (void) rw;
  return false;
}

static int
https_ops_get_extents (struct rw *rw, unsigned conn, uint64_t offset, uint64_t len,
                       extent_vector *out)
{
  (void) rw; (void) conn; (void) offset; (void) len; (void) out;
  return -1;
}

static int
https_ops_synch_read (struct rw *rw, unsigned conn, void *buf, size_t len, uint64_t offset)
{
  struct https_rw *s = (struct https_rw *) rw;
  struct http_response resp = { 0 };

  if (conn >= rw->nconns) {
    errno = ENOTCONN;
    return -1;
  }
  if (get_range (s, s->h[conn], offset, len, &resp) == -1)
    return -1;
  memcpy (buf, resp.body, len);
  http_response_free (&resp);
  return 0;
}

static void
https_ops_asynch_read (struct rw *rw, unsigned conn, struct request *r)
{
  request_complete (r, https_ops_synch_read (rw, conn, r->buf, r->len, r->offset) == -1
                    ? errno : 0);
}

static void
https_ops_no_write (struct rw *rw, unsigned conn, struct request *r)
{
  (void) rw; (void) conn;
  request_complete (r, EROFS);
}

static int
https_ops_flush (struct rw *rw, unsigned conn)
{
  (void) rw; (void) conn;
  return 0;
}

static int
https_ops_get_poll (struct rw *rw, unsigned conn, struct pollfd *pfd)
{
  (void) rw; (void) conn; (void) pfd;
  return 0;                   /* requests complete before returning */
}

static void
https_ops_notify (struct rw *rw, unsigned conn, short revents)
{
  (void) rw; (void) conn; (void) revents;
}

static const struct rw_ops https_ops = {
  .kind = "https",
  .close = https_ops_close,
  .connect = https_ops_connect,
  .can_multi_conn = https_ops_true,
  .can_extents = https_ops_false,
  .get_extents = https_ops_get_extents,
  .synch_read = https_ops_synch_read,
  .asynch_read = https_ops_asynch_read,
  .asynch_write = https_ops_no_write,
  .asynch_zero = https_ops_no_write,
  .flush = https_ops_flush,
  .get_poll = https_ops_get_poll,
  .notify = https_ops_notify,
};
