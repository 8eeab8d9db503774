/* ferry: NBD endpoints (libnbd, asynchronous API), one handle per connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <libnbd.h>

#include "common/error.h"
#include "common/log.h"
#include "copy/rw.h"

/* Zero requests on a server without WRITE_ZEROES are writes from this
 * buffer: calloc'd and never written, so it costs no resident memory. */
#define ZERO_BUF_SIZE (32 * 1024 * 1024)

struct nbd_rw {
  struct rw rw;
  struct rw_open_args args;
  struct nbd_handle **h;
  bool multi_conn, extents, can_zero, can_flush;
  char *zero_buf;
};

static const struct rw_ops nbd_ops;

bool
nbd_rw_matches (const char *name)
{
  static const char *const schemes[] = {
    "nbd:", "nbds:", "nbd+unix:", "nbds+unix:", "nbd+vsock:", "nbds+vsock:",
  };
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
    if (strncmp (name, schemes[i], strlen (schemes[i])) == 0)
      return true;
  return false;
}

/* Create and connect one handle.  Returns NULL after logging. */
static struct nbd_handle *
connect_one (struct nbd_rw *n, int *exit_code)
{
  struct nbd_handle *h = nbd_create ();
  const char *role = rw_role (n->args.is_dst);

  if (h == NULL) {
    log_error ("%s %s: %s", role, n->rw.name, nbd_get_error ());
    *exit_code = FERRY_EXIT_DATA;
    return NULL;
  }
  nbd_set_handle_name (h, n->args.is_dst ? "ferry-dst" : "ferry-src");
  /* Our buffers are never exposed before a successful read: skip libnbd's
   * memset of every read buffer. */
  nbd_set_pread_initialize (h, false);
  if (n->args.want_extents &&
      nbd_add_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1)
    goto err;
  if (nbd_connect_uri (h, n->rw.name) == -1)
    goto err;
  return h;

 err:
  {
    int e = nbd_get_errno ();
    log_error ("%s %s: %s", role, n->rw.name, nbd_get_error ());
    /* A URI that doesn't parse or names nothing is a bad argument. */
    *exit_code = (e == EINVAL || e == ENOENT || e == ENOTSUP || e == EPROTONOSUPPORT)
      ? FERRY_EXIT_USAGE : FERRY_EXIT_DATA;
    nbd_close (h);
    return NULL;
  }
}

struct rw *
nbd_rw_open (const char *name, const struct rw_open_args *args, int *exit_code)
{
  struct nbd_rw *n = calloc (1, sizeof *n);
  struct nbd_handle *h;
  int64_t size, maxb;

  if (n == NULL || (n->rw.name = strdup (name)) == NULL ||
      (n->h = calloc (1, sizeof *n->h)) == NULL) {
    log_error ("out of memory");
    if (n) { free (n->rw.name); free (n); }
    *exit_code = FERRY_EXIT_DATA;
    return NULL;
  }
  n->rw.ops = &nbd_ops;
  n->args = *args;
  h = connect_one (n, exit_code);
  if (h == NULL) {
    free (n->h);
    free (n->rw.name);
    free (n);
    return NULL;
  }
  n->h[0] = h;
  n->rw.nconns = 1;

  size = nbd_get_size (h);
  if (size < 0) {
    log_error ("%s %s: %s", rw_role (args->is_dst), name, nbd_get_error ());
    *exit_code = FERRY_EXIT_DATA;
    goto err;
  }
  n->rw.size = (uint64_t) size;
  n->multi_conn = nbd_can_multi_conn (h) == 1;
  n->extents = args->want_extents &&
    nbd_can_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  n->can_zero = nbd_can_zero (h) == 1;
  n->can_flush = nbd_can_flush (h) == 1;
  maxb = nbd_get_block_size (h, LIBNBD_SIZE_MAXIMUM);
  n->rw.max_request = maxb > 0 ? (size_t) maxb : 0;
  if (args->is_dst) {
    if (nbd_is_read_only (h) == 1) {
      log_error ("destination %s is read-only", name);
      *exit_code = FERRY_EXIT_USAGE;
      goto err;
    }
    if (n->rw.size < args->dst_size) {
      log_error ("destination %s (%" PRIu64 " bytes) is smaller than the source "
                 "(%" PRIu64 " bytes)", name, n->rw.size, args->dst_size);
      *exit_code = FERRY_EXIT_USAGE;
      goto err;
    }
  }
  log_debug ("%s %s: nbd, %" PRIu64 " bytes, multi-conn %s, extents %s, zero %s, flush %s",
             rw_role (args->is_dst), name, n->rw.size, n->multi_conn ? "yes" : "no",
             n->extents ? "yes" : "no", n->can_zero ? "yes" : "no",
             n->can_flush ? "yes" : "no");
  return &n->rw;

 err:
  n->rw.ops->close (&n->rw);
  return NULL;
}

static void
nbd_ops_close (struct rw *rw)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;

  for (unsigned i = 0; i < rw->nconns; i++)
    if (n->h[i]) {
      /* Disconnect cleanly so that the server finishes its work. */
      if (nbd_aio_is_ready (n->h[i]) == 1)
        nbd_shutdown (n->h[i], 0);
      nbd_close (n->h[i]);
    }
  free (n->h);
  free (n->zero_buf);
  free (rw->name);
  free (n);
}

static int
nbd_ops_connect (struct rw *rw, unsigned want)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle **nh;
  int ec;

  if (want <= rw->nconns)
    return 0;
  nh = realloc (n->h, want * sizeof *nh);
  if (nh == NULL) {
    log_error ("out of memory");
    return -1;
  }
  n->h = nh;
  while (rw->nconns < want) {
    struct nbd_handle *h = connect_one (n, &ec);
    if (h == NULL)
      return -1;
    n->h[rw->nconns++] = h;
  }
  return 0;
}

static bool
nbd_ops_can_multi_conn (struct rw *rw)
{
  return ((struct nbd_rw *) rw)->multi_conn;
}

static bool
nbd_ops_can_extents (struct rw *rw)
{
  return ((struct nbd_rw *) rw)->extents;
}

/* Reconnect a connection that died (server restarted, socket reset) once
 * every command on it has been retired.  Returns the handle or NULL. */
static struct nbd_handle *
handle (struct nbd_rw *n, unsigned conn)
{
  struct nbd_handle *h = n->h[conn];
  int ec;

  if (h && nbd_aio_is_dead (h) != 1 && nbd_aio_is_closed (h) != 1)
    return h;
  if (h && nbd_aio_in_flight (h) > 0)
    return h;
  log_warn ("%s %s: connection %u lost, reconnecting", rw_role (n->args.is_dst),
            n->rw.name, conn);
  if (h)
    nbd_close (h);
  n->h[conn] = h = connect_one (n, &ec);
  return h;
}

struct extents_cb_data {
  extent_vector *out;
  uint64_t pos, end;
  int err;
};

static int
extent_cb (void *opaque, const char *metacontext, uint64_t offset,
           uint32_t *entries, size_t nr, int *error)
{
  struct extents_cb_data *d = opaque;

  (void) error;
  if (strcmp (metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  if (offset != d->pos)         /* a reply we don't expect: ignore it */
    return 0;
  for (size_t i = 0; i + 1 < nr && d->pos < d->end; i += 2) {
    uint64_t len = entries[i];
    struct extent e;
    if (len == 0)
      break;
    if (len > d->end - d->pos)
      len = d->end - d->pos;
    e.offset = d->pos;
    e.length = len;
    e.zero = (entries[i + 1] & LIBNBD_STATE_ZERO) != 0;
    if (d->out->len > 0 && d->out->ptr[d->out->len - 1].zero == e.zero)
      d->out->ptr[d->out->len - 1].length += len;
    else if (extent_vector_append (d->out, e) == -1) {
      d->err = ENOMEM;
      return -1;
    }
    d->pos += len;
  }
  return 0;
}

static int
nbd_ops_get_extents (struct rw *rw, unsigned conn, uint64_t offset, uint64_t len,
                     extent_vector *out)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle *h = handle (n, conn);
  struct extents_cb_data d = { .out = out, .pos = offset, .end = offset + len };

  out->len = 0;
  if (h == NULL || !n->extents)
    return -1;
  while (d.pos < d.end) {
    uint64_t before = d.pos;
    uint64_t count = d.end - d.pos;
    if (count > UINT32_MAX)
      count = UINT32_MAX & ~(uint64_t) 4095;
    if (nbd_block_status (h, count, d.pos,
                          (nbd_extent_callback) { .callback = extent_cb, .user_data = &d },
                          0) == -1) {
      log_debug ("%s %s: block status at %" PRIu64 ": %s", rw_role (n->args.is_dst),
                 rw->name, d.pos, nbd_get_error ());
      return -1;
    }
    if (d.err || d.pos == before)
      return -1;
  }
  return 0;
}

static int
nbd_ops_synch_read (struct rw *rw, unsigned conn, void *buf, size_t len, uint64_t offset)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle *h = handle (n, conn);

  if (h == NULL) {
    errno = ENOTCONN;
    return -1;
  }
  if (nbd_pread (h, buf, len, offset, 0) == -1) {
    errno = nbd_get_errno () ? nbd_get_errno () : EIO;
    log_debug ("%s %s: read at %" PRIu64 ": %s", rw_role (n->args.is_dst), rw->name,
               offset, nbd_get_error ());
    return -1;
  }
  return 0;
}

static int
done_cb (void *opaque, int *error)
{
  struct request *r = opaque;
  request_complete (r, *error);
  return 1;                     /* retire the command */
}

#define COMPLETION(r) ((nbd_completion_callback) { .callback = done_cb, .user_data = (r) })

static void
start_failed (struct nbd_rw *n, struct request *r, const char *what)
{
  int e = nbd_get_errno ();
  log_debug ("%s %s: %s at %" PRIu64 ": %s", rw_role (n->args.is_dst), n->rw.name,
             what, r->offset, nbd_get_error ());
  request_complete (r, e ? e : EIO);
}

static void
nbd_ops_asynch_read (struct rw *rw, unsigned conn, struct request *r)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle *h = handle (n, conn);

  r->done = false;
  if (h == NULL)
    request_complete (r, ENOTCONN);
  else if (nbd_aio_pread (h, r->buf, r->len, r->offset, COMPLETION (r), 0) == -1)
    start_failed (n, r, "read");
}

static void
nbd_ops_asynch_write (struct rw *rw, unsigned conn, struct request *r)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle *h = handle (n, conn);

  r->done = false;
  if (h == NULL)
    request_complete (r, ENOTCONN);
  else if (nbd_aio_pwrite (h, r->buf, r->len, r->offset, COMPLETION (r), 0) == -1)
    start_failed (n, r, "write");
}

static void
nbd_ops_asynch_zero (struct rw *rw, unsigned conn, struct request *r)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle *h = handle (n, conn);

  r->done = false;
  if (h == NULL) {
    request_complete (r, ENOTCONN);
    return;
  }
  if (n->can_zero) {
    if (nbd_aio_zero (h, r->len, r->offset, COMPLETION (r), 0) == -1)
      start_failed (n, r, "zero");
    return;
  }
  /* No WRITE_ZEROES: write zeroes (the engine keeps zero requests within
   * ZERO_BUF_SIZE, one work unit). */
  if (n->zero_buf == NULL && (n->zero_buf = calloc (1, ZERO_BUF_SIZE)) == NULL) {
    request_complete (r, ENOMEM);
    return;
  }
  if (r->len > ZERO_BUF_SIZE) {
    request_complete (r, EINVAL);
    return;
  }
  if (nbd_aio_pwrite (h, n->zero_buf, r->len, r->offset, COMPLETION (r), 0) == -1)
    start_failed (n, r, "write");
}

static int
nbd_ops_flush (struct rw *rw, unsigned conn)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle *h = handle (n, conn);

  if (h == NULL) {
    errno = ENOTCONN;
    return -1;
  }
  if (!n->can_flush)
    return 0;
  if (nbd_flush (h, 0) == -1) {
    errno = nbd_get_errno () ? nbd_get_errno () : EIO;
    log_debug ("%s %s: flush: %s", rw_role (n->args.is_dst), rw->name, nbd_get_error ());
    return -1;
  }
  return 0;
}

static int
nbd_ops_get_poll (struct rw *rw, unsigned conn, struct pollfd *pfd)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle *h = n->h[conn];
  int fd, dir;

  if (h == NULL || nbd_aio_in_flight (h) <= 0)
    return 0;
  fd = nbd_aio_get_fd (h);
  if (fd < 0)
    return 0;
  dir = nbd_aio_get_direction (h);
  pfd->fd = fd;
  pfd->events = 0;
  if (dir & LIBNBD_AIO_DIRECTION_READ)
    pfd->events |= POLLIN;
  if (dir & LIBNBD_AIO_DIRECTION_WRITE)
    pfd->events |= POLLOUT;
  pfd->revents = 0;
  return 1;
}

static void
nbd_ops_notify (struct rw *rw, unsigned conn, short revents)
{
  struct nbd_rw *n = (struct nbd_rw *) rw;
  struct nbd_handle *h = n->h[conn];
  int r = 0;

  if (h == NULL)
    return;
  if (revents & (POLLIN | POLLHUP | POLLERR))
    r = nbd_aio_notify_read (h);
  else if (revents & POLLOUT)
    r = nbd_aio_notify_write (h);
  if (r == -1)
    log_debug ("%s %s: connection %u: %s", rw_role (n->args.is_dst), rw->name, conn,
               nbd_get_error ());
}

static const struct rw_ops nbd_ops = {
  .kind = "nbd",
  .close = nbd_ops_close,
  .connect = nbd_ops_connect,
  .can_multi_conn = nbd_ops_can_multi_conn,
  .can_extents = nbd_ops_can_extents,
  .get_extents = nbd_ops_get_extents,
  .synch_read = nbd_ops_synch_read,
  .asynch_read = nbd_ops_asynch_read,
  .asynch_write = nbd_ops_asynch_write,
  .asynch_zero = nbd_ops_asynch_zero,
  .flush = nbd_ops_flush,
  .get_poll = nbd_ops_get_poll,
  .notify = nbd_ops_notify,
};
