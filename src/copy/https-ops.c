/* ferry: an https:// source read by ferry itself (vSphere's datastore
 * file access: /folder/... with the session cookie).
 *
 * Why in-process and not nbdkit's curl plugin: the data path must be
 * verified exactly as ferry's own vCenter connection is -- a CA file, the
 * system store, or a pinned thumbprint (vddk_thumbprint), which no child
 * process can be given.  Each connection is a struct http (common/http.h:
 * its TLS checks, retries and timeouts) reading byte ranges; requests
 * complete synchronously, as local files do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <inttypes.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/http.h"
#include "common/log.h"
#include "common/util.h"
#include "copy/rw.h"

struct https_rw {
  struct rw rw;
  char *url;
  char *cookie_header;        /* "Cookie: ...", or NULL */
  struct http_tls tls;
  char *cacert, *thumbprint;  /* owned copies for tls */
  struct http **h;            /* one per connection */
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
  free (s->cookie_header);
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

/* GET one byte range.  Returns 0 with the answer in *resp (status 206 and
 * exactly len bytes), or -1 with errno set after logging at debug level
 * (the engine retries and reports). */
static int
get_range (struct https_rw *s, struct http *h, uint64_t offset, size_t len,
           struct http_response *resp)
{
  CLEANUP_FREE char *range = xasprintf ("Range: bytes=%" PRIu64 "-%" PRIu64, offset,
                                        offset + len - 1);
  CLEANUP_FREE char *what = xasprintf ("datastore read at %" PRIu64, offset);
  const char *headers[] = { range, s->cookie_header, NULL };
  struct http_request req = { .method = "GET", .url = s->url, .headers = headers,
                              .idempotent = true, .what = what };

  if (range == NULL || what == NULL) {
    errno = ENOMEM;
    return -1;
  }
  if (http_request (h, &req, resp) == -1) {
    errno = EIO;
    return -1;
  }
  if (resp->status != 206 || resp->len != len) {
    log_debug ("%s: GET %s (%s): HTTP %ld with %zu bytes, expected 206 with %zu", s->rw.name,
               s->url, range, resp->status, resp->len, len);
    int e = resp->status == 401 || resp->status == 403 ? EACCES : EIO;
    http_response_free (resp);
    errno = e;
    return -1;
  }
  return 0;
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
  s->rw.ops = &https_ops;
  s->rw.name = strdup (name);
  s->url = strdup (name);
  s->cookie_header = args->https_cookie ? xasprintf ("Cookie: %s", args->https_cookie) : NULL;
  if (args->https_tls) {
    s->tls.insecure = args->https_tls->insecure;
    s->cacert = args->https_tls->cacert ? strdup (args->https_tls->cacert) : NULL;
    s->thumbprint = args->https_tls->thumbprint ? strdup (args->https_tls->thumbprint) : NULL;
    s->tls.cacert = s->cacert;
    s->tls.thumbprint = s->thumbprint;
  }
  s->h = calloc (1, sizeof *s->h);
  if (s->rw.name == NULL || s->url == NULL || s->h == NULL ||
      (args->https_cookie && s->cookie_header == NULL)) {
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
