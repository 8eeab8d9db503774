/* ferry: one interface for every kind of copy endpoint (as nbdcopy's
 * struct rw / struct rw_ops).
 *
 * An endpoint has nconns "connections" (NBD handles; a shared fd for local
 * files).  Worker thread i only ever uses connection i, so an endpoint needs
 * no locking of its own.  The copy loops (worker.c, verify.c) never ask what
 * kind of endpoint they talk to.
 *
 * Adding a kind (e.g. the vSphere sources: an HTTPS range reader, an export
 * lease): implement struct rw_ops and add a struct rw_kind to the table in
 * endpoint.c.  Asynchronous operations start a request and complete it later
 * from notify(); an endpoint without an event loop (local files) completes
 * them before returning, as file-ops.c does. */
#ifndef FERRY_COPY_RW_H
#define FERRY_COPY_RW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <poll.h>

#include "common/http.h"
#include "common/vector.h"
#include "copy/copy.h"

DEFINE_VECTOR_TYPE (range_vector, struct copy_range)

struct extent {
  uint64_t offset;
  uint64_t length;
  bool zero;                  /* reads as zeroes */
};
DEFINE_VECTOR_TYPE (extent_vector, struct extent)

/* One I/O request.  The engine embeds it in its own slot structure. */
struct request {
  uint64_t offset;
  size_t len;
  void *buf;                  /* read into / written from; NULL for zero requests */
  int err;                    /* errno on failure, set on completion */
  bool done;                  /* set by the endpoint on completion */
};

/* Complete a request (endpoints call this). */
static inline void
request_complete (struct request *r, int err)
{
  r->err = err;
  r->done = true;
}

struct rw;

struct rw_ops {
  const char *kind;           /* "nbd", "file", "block device" */
  void (*close) (struct rw *rw);
  /* Make n connections in total (the first one exists after open).
   * Returns 0 or -1 after logging. */
  int (*connect) (struct rw *rw, unsigned n);
  /* Several connections see each other's writes and flushes. */
  bool (*can_multi_conn) (struct rw *rw);
  /* get_extents gives real information (block status, SEEK_DATA). */
  bool (*can_extents) (struct rw *rw);
  /* Fill *out with extents covering exactly [offset, offset+len).
   * Returns 0, or -1 (the caller then treats the area as data). */
  int (*get_extents) (struct rw *rw, unsigned conn, uint64_t offset, uint64_t len,
                      extent_vector *out);
  /* Read len bytes; returns 0 or -1 with errno set. */
  int (*synch_read) (struct rw *rw, unsigned conn, void *buf, size_t len, uint64_t offset);
  /* Start a request; it completes (request_complete) now or from notify(). */
  void (*asynch_read) (struct rw *rw, unsigned conn, struct request *r);
  void (*asynch_write) (struct rw *rw, unsigned conn, struct request *r);
  /* Make [offset, offset+len) read as zeroes, preferably without allocating. */
  void (*asynch_zero) (struct rw *rw, unsigned conn, struct request *r);
  /* Make completed writes of this connection durable (all connections'
   * if can_multi_conn).  Returns 0 or -1 with errno set. */
  int (*flush) (struct rw *rw, unsigned conn);
  /* The fd and events to poll for this connection: returns 1, or 0 when
   * there is nothing to wait for. */
  int (*get_poll) (struct rw *rw, unsigned conn, struct pollfd *pfd);
  void (*notify) (struct rw *rw, unsigned conn, short revents);
};

struct rw {
  const struct rw_ops *ops;
  char *name;                 /* as the user gave it, for messages */
  uint64_t size;
  unsigned nconns;
  size_t max_request;         /* largest read/write, 0: no limit */
  bool known_zero;            /* destination reads as zeroes everywhere we don't write */
};

/* How to open an endpoint. */
struct rw_open_args {
  bool is_dst;
  bool want_extents;          /* source: ask for block status */
  uint64_t dst_size;          /* destination: the source size */
  bool truncate;              /* destination regular file: start from an empty file */
  /* https:// source: how to verify the server, and the session cookie
   * ("name=value") sent with every request; NULL: system CAs, no cookie. */
  const struct http_tls *https_tls;
  const char *https_cookie;
};

/* Open SRC or DST by name: NBD URIs, else local paths.  On failure logs an
 * error naming the endpoint, returns NULL and sets *exit_code
 * (FERRY_EXIT_USAGE: a bad name or missing file; FERRY_EXIT_DATA: I/O). */
struct rw *rw_open (const char *name, const struct rw_open_args *args, int *exit_code);
void rw_close (struct rw *rw);
static inline const char *rw_role (bool is_dst) { return is_dst ? "destination" : "source"; }

/* Per-kind constructors (endpoint.c dispatches). */
bool nbd_rw_matches (const char *name);
struct rw *nbd_rw_open (const char *name, const struct rw_open_args *args, int *exit_code);
struct rw *file_rw_open (const char *name, const struct rw_open_args *args, int *exit_code);
bool https_rw_matches (const char *name);
struct rw *https_rw_open (const char *name, const struct rw_open_args *args, int *exit_code);

/* Range lists (ranges.c).  Normalized: sorted, non-overlapping, non-adjacent,
 * no empty range. */
int ranges_normalize (range_vector *v);
int ranges_subtract (const range_vector *a, const range_vector *b, range_vector *out);
uint64_t ranges_total (const range_vector *v);
uint32_t ranges_hash (const range_vector *v);

/* True if the buffer is all zeroes. */
bool is_zero (const void *buf, size_t len);

#endif
