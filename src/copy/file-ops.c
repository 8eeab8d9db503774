/* ferry: local endpoints: regular files and block devices.
 *
 * One fd shared by every connection (pread/pwrite are thread-safe), plus an
 * O_DIRECT fd on block devices used for aligned writes.  Requests complete
 * synchronously.  Zero areas: holes punched in files, BLKZEROOUT on block
 * devices, explicit zero writes as the last resort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#include <stdatomic.h>

#include "common/error.h"
#include "common/log.h"
#include "copy/rw.h"

#define ZERO_BUF_SIZE (1024 * 1024)
#define BUF_ALIGN 4096

struct file_rw {
  struct rw rw;
  struct rw_open_args args;
  int fd;                     /* buffered I/O */
  int dfd;                    /* O_DIRECT, block devices only, or -1 */
  bool is_block;
  size_t align;               /* logical block size of a block device */
  /* Learnt at run time, shared by the worker threads. */
  atomic_bool no_direct, no_punch, no_zero_range, no_zeroout, no_sync_range;
  char *zero_buf;
};

static const struct rw_ops file_ops;

static void
file_ops_close (struct rw *rw)
{
  struct file_rw *f = (struct file_rw *) rw;

  if (f->dfd >= 0)
    close (f->dfd);
  if (f->fd >= 0)
    close (f->fd);
  free (f->zero_buf);
  free (rw->name);
  free (f);
}

struct rw *
file_rw_open (const char *name, const struct rw_open_args *args, int *exit_code)
{
  struct file_rw *f = calloc (1, sizeof *f);
  const char *role = rw_role (args->is_dst);
  struct stat st;
  bool created = false;

  *exit_code = FERRY_EXIT_USAGE;
  if (f == NULL || (f->rw.name = strdup (name)) == NULL) {
    log_error ("out of memory");
    free (f);
    *exit_code = FERRY_EXIT_DATA;
    return NULL;
  }
  f->rw.ops = &file_ops;
  f->args = *args;
  f->fd = f->dfd = -1;
  f->rw.nconns = 1;

  if (stat (name, &st) == -1) {
    int e = errno;
    if (e == ENOENT && strstr (name, "://")) {
      log_error ("%s %s: not an NBD URI (nbd://HOST[:PORT][/EXPORT], "
                 "nbd+unix:///EXPORT?socket=PATH) and no such file", role, name);
      goto err;
    }
    if (e != ENOENT || !args->is_dst) {
      log_error ("%s %s: %s", role, name, strerror (e));
      goto err;
    }
    st.st_mode = S_IFREG;
    created = true;
  }
  else if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
    log_error ("%s %s: not a regular file or a block device", role, name);
    goto err;
  }
  f->is_block = S_ISBLK (st.st_mode);

  if (!args->is_dst) {
    f->fd = open (name, O_RDONLY | O_CLOEXEC);
    if (f->fd == -1) {
      log_error ("source %s: %s", name, strerror (errno));
      goto err;
    }
  }
  else if (f->is_block) {
    /* O_EXCL: refuse a device that is mounted or otherwise in use. */
    f->fd = open (name, O_RDWR | O_EXCL | O_CLOEXEC);
    if (f->fd == -1) {
      log_error ("destination %s: %s", name, strerror (errno));
      goto err;
    }
    f->dfd = open (name, O_RDWR | O_DIRECT | O_CLOEXEC);
  }
  else {
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | (args->truncate ? O_TRUNC : 0);
    f->fd = open (name, flags, 0644);
    if (f->fd == -1) {
      log_error ("destination %s: %s", name, strerror (errno));
      goto err;
    }
    if (created || args->truncate) {
      if (ftruncate (f->fd, (off_t) args->dst_size) == -1) {
        log_error ("destination %s: setting the size to %" PRIu64 ": %s",
                   name, args->dst_size, strerror (errno));
        *exit_code = FERRY_EXIT_DATA;
        goto err;
      }
      f->rw.known_zero = true;
    }
  }

  if (f->is_block) {
    uint64_t sz = 0;
    int ssz = 512;
    if (ioctl (f->fd, BLKGETSIZE64, &sz) == -1) {
      log_error ("%s %s: cannot get the size: %s", role, name, strerror (errno));
      *exit_code = FERRY_EXIT_DATA;
      goto err;
    }
    if (ioctl (f->fd, BLKSSZGET, &ssz) == -1 || ssz <= 0)
      ssz = 512;
    f->rw.size = sz;
    f->align = (size_t) ssz;
  }
  else {
    if (fstat (f->fd, &st) == -1) {
      log_error ("%s %s: %s", role, name, strerror (errno));
      *exit_code = FERRY_EXIT_DATA;
      goto err;
    }
    f->rw.size = (uint64_t) st.st_size;
    f->align = 1;
  }

  if (args->is_dst && f->rw.size < args->dst_size) {
    log_error ("destination %s (%" PRIu64 " bytes) is smaller than the source "
               "(%" PRIu64 " bytes)", name, f->rw.size, args->dst_size);
    goto err;
  }
  log_debug ("%s %s: %s, %" PRIu64 " bytes%s%s", role, name,
             f->is_block ? "block device" : "regular file", f->rw.size,
             f->dfd >= 0 ? ", O_DIRECT for aligned writes" : "",
             f->rw.known_zero ? ", starts empty" : "");
  return &f->rw;

 err:
  file_ops_close (&f->rw);
  return NULL;
}

static int
file_ops_connect (struct rw *rw, unsigned n)
{
  if (n > rw->nconns)
    rw->nconns = n;
  return 0;
}

static bool
file_ops_can_multi_conn (struct rw *rw)
{
  (void) rw;
  return true;
}

static bool
file_ops_can_extents (struct rw *rw)
{
  return !((struct file_rw *) rw)->is_block;
}

static int
add_extent (extent_vector *out, uint64_t off, uint64_t len, bool zero)
{
  if (len == 0)
    return 0;
  if (out->len > 0 && out->ptr[out->len - 1].zero == zero) {
    out->ptr[out->len - 1].length += len;
    return 0;
  }
  return extent_vector_append (out, (struct extent) { off, len, zero });
}

/* SEEK_DATA / SEEK_HOLE on regular files. */
static int
file_ops_get_extents (struct rw *rw, unsigned conn, uint64_t offset, uint64_t len,
                      extent_vector *out)
{
  struct file_rw *f = (struct file_rw *) rw;
  uint64_t pos = offset, end = offset + len;

  (void) conn;
  out->len = 0;
  if (f->is_block)
    return -1;
  while (pos < end) {
    off_t data = lseek (f->fd, (off_t) pos, SEEK_DATA), hole;
    if (data == -1) {
      if (errno != ENXIO)
        return -1;
      data = (off_t) end;       /* only a hole up to the end of the file */
    }
    if ((uint64_t) data > end)
      data = (off_t) end;
    if (add_extent (out, pos, (uint64_t) data - pos, true) == -1)
      return -1;
    pos = (uint64_t) data;
    if (pos >= end)
      break;
    hole = lseek (f->fd, data, SEEK_HOLE);
    if (hole == -1)
      return -1;
    if ((uint64_t) hole > end || hole <= data)
      hole = (off_t) end;
    if (add_extent (out, pos, (uint64_t) hole - pos, false) == -1)
      return -1;
    pos = (uint64_t) hole;
  }
  return 0;
}

static int
full_pread (int fd, void *buf, size_t len, uint64_t offset)
{
  char *p = buf;
  while (len > 0) {
    ssize_t r = pread (fd, p, len, (off_t) offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0) {               /* the file shrank under us */
      errno = EIO;
      return -1;
    }
    p += r;
    len -= (size_t) r;
    offset += (uint64_t) r;
  }
  return 0;
}

static int
full_pwrite (int fd, const void *buf, size_t len, uint64_t offset)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t r = pwrite (fd, p, len, (off_t) offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0) {
      errno = ENOSPC;
      return -1;
    }
    p += r;
    len -= (size_t) r;
    offset += (uint64_t) r;
  }
  return 0;
}

/* The fd to write with: O_DIRECT when everything is aligned. */
static int
write_fd (struct file_rw *f, const void *buf, size_t len, uint64_t offset)
{
  if (f->dfd >= 0 && !f->no_direct && offset % f->align == 0 && len % f->align == 0 &&
      (uintptr_t) buf % BUF_ALIGN == 0)
    return f->dfd;
  return f->fd;
}

static int
file_ops_synch_read (struct rw *rw, unsigned conn, void *buf, size_t len, uint64_t offset)
{
  (void) conn;
  return full_pread (((struct file_rw *) rw)->fd, buf, len, offset);
}

static void
file_ops_asynch_read (struct rw *rw, unsigned conn, struct request *r)
{
  (void) conn;
  request_complete (r, full_pread (((struct file_rw *) rw)->fd, r->buf, r->len, r->offset)
                    == -1 ? errno : 0);
}

/* As nbdcopy: start writeback of what was just written, and wait for and
 * drop from the page cache what was written EVICT_LAG bytes earlier.  The
 * page cache then never fills with dirty pages (writers would be throttled
 * and the final fsync would be long), and a copy doesn't evict the host's
 * useful cache.  Durability still comes from flush (fdatasync). */
#define EVICT_LAG (8 * 1024 * 1024)

static void
page_cache_evict (struct file_rw *f, uint64_t offset, size_t len)
{
  if (f->no_sync_range)
    return;
  if (sync_file_range (f->fd, (off_t) offset, (off_t) len, SYNC_FILE_RANGE_WRITE) == -1) {
    f->no_sync_range = true;
    return;
  }
  if (offset >= EVICT_LAG) {
    uint64_t old = offset - EVICT_LAG;
    sync_file_range (f->fd, (off_t) old, (off_t) len, SYNC_FILE_RANGE_WAIT_BEFORE |
                     SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    posix_fadvise (f->fd, (off_t) old, (off_t) len, POSIX_FADV_DONTNEED);
  }
}

static void
file_ops_asynch_write (struct rw *rw, unsigned conn, struct request *r)
{
  struct file_rw *f = (struct file_rw *) rw;
  int fd = write_fd (f, r->buf, r->len, r->offset);

  (void) conn;
  if (fd == f->dfd && full_pwrite (fd, r->buf, r->len, r->offset) == 0) {
    request_complete (r, 0);
    return;
  }
  if (fd == f->dfd) {
    if (errno != EINVAL) {
      request_complete (r, errno);
      return;
    }
    /* The device refused this O_DIRECT write: stop using O_DIRECT. */
    log_debug ("destination %s: O_DIRECT write refused, using buffered writes", rw->name);
    f->no_direct = true;
  }
  if (full_pwrite (f->fd, r->buf, r->len, r->offset) == -1) {
    request_complete (r, errno);
    return;
  }
  page_cache_evict (f, r->offset, r->len);
  request_complete (r, 0);
}

static int
write_zeroes (struct file_rw *f, uint64_t offset, uint64_t len)
{
  if (f->zero_buf == NULL) {
    void *p;
    if (posix_memalign (&p, BUF_ALIGN, ZERO_BUF_SIZE) != 0) {
      errno = ENOMEM;
      return -1;
    }
    memset (p, 0, ZERO_BUF_SIZE);
    f->zero_buf = p;
  }
  while (len > 0) {
    size_t n = len < ZERO_BUF_SIZE ? (size_t) len : ZERO_BUF_SIZE;
    if (full_pwrite (write_fd (f, f->zero_buf, n, offset), f->zero_buf, n, offset) == -1)
      return -1;
    offset += n;
    len -= n;
  }
  return 0;
}

static void
file_ops_asynch_zero (struct rw *rw, unsigned conn, struct request *r)
{
  struct file_rw *f = (struct file_rw *) rw;
  uint64_t off = r->offset, len = r->len;

  (void) conn;
  if (f->is_block) {
    if (!f->no_zeroout && off % f->align == 0 && len % f->align == 0) {
      uint64_t range[2] = { off, len };
      if (ioctl (f->fd, BLKZEROOUT, range) == 0) {
        request_complete (r, 0);
        return;
      }
      if (errno != ENOTTY && errno != EOPNOTSUPP && errno != EINVAL) {
        request_complete (r, errno);
        return;
      }
      f->no_zeroout = true;
    }
  }
  else {
    if (!f->no_punch) {
      if (fallocate (f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                     (off_t) off, (off_t) len) == 0) {
        request_complete (r, 0);
        return;
      }
      if (errno != EOPNOTSUPP && errno != ENOSYS) {
        request_complete (r, errno);
        return;
      }
      f->no_punch = true;
    }
    if (!f->no_zero_range) {
      if (fallocate (f->fd, FALLOC_FL_ZERO_RANGE, (off_t) off, (off_t) len) == 0) {
        request_complete (r, 0);
        return;
      }
      if (errno != EOPNOTSUPP && errno != ENOSYS) {
        request_complete (r, errno);
        return;
      }
      f->no_zero_range = true;
    }
  }
  request_complete (r, write_zeroes (f, off, len) == -1 ? errno : 0);
}

static int
file_ops_flush (struct rw *rw, unsigned conn)
{
  struct file_rw *f = (struct file_rw *) rw;

  (void) conn;
  if (f->is_block)
    return fsync (f->fd);
  return fdatasync (f->fd);
}

static int
file_ops_get_poll (struct rw *rw, unsigned conn, struct pollfd *pfd)
{
  (void) rw; (void) conn; (void) pfd;
  return 0;
}

static void
file_ops_notify (struct rw *rw, unsigned conn, short revents)
{
  (void) rw; (void) conn; (void) revents;
}

static const struct rw_ops file_ops = {
  .kind = "file",
  .close = file_ops_close,
  .connect = file_ops_connect,
  .can_multi_conn = file_ops_can_multi_conn,
  .can_extents = file_ops_can_extents,
  .get_extents = file_ops_get_extents,
  .synch_read = file_ops_synch_read,
  .asynch_read = file_ops_asynch_read,
  .asynch_write = file_ops_asynch_write,
  .asynch_zero = file_ops_asynch_zero,
  .flush = file_ops_flush,
  .get_poll = file_ops_get_poll,
  .notify = file_ops_notify,
};
