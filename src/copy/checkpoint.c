/* ferry: the --checkpoint file: a durable record of finished ranges.
 *
 * Text, append-only:
 *   ferry-checkpoint 1 size=N areas=HASH
 *   D START LENGTH CRC
 * CRC is the crc32 of "START LENGTH"; a torn or garbled line is ignored.
 *
 * Ordering that makes a crash safe: a range is appended only after its data
 * was written AND the destination flushed (worker.c); the append is followed
 * by fdatasync.  So a range in the file is always on stable storage; at
 * worst a crash forgets ranges that were done, which a rerun copies again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <libgen.h>
#include <pthread.h>
#include <zlib.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "copy/checkpoint.h"

struct checkpoint {
  char *path;
  int fd;
  pthread_mutex_t lock;
};

static uint32_t
line_crc (uint64_t start, uint64_t length)
{
  char s[64];
  int n = snprintf (s, sizeof s, "%" PRIu64 " %" PRIu64, start, length);
  return (uint32_t) crc32 (crc32 (0, NULL, 0), (const unsigned char *) s, (unsigned) n);
}

static int
fsync_dir_of (const char *path)
{
  CLEANUP_FREE char *copy = strdup (path);
  int dfd, r;

  if (copy == NULL)
    return -1;
  dfd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -1)
    return -1;
  r = fsync (dfd);
  close (dfd);
  return r;
}

/* Parse an existing file.  Returns 0 and appends the done ranges, or
 * FERRY_EXIT_USAGE after logging. */
static int
load (const char *path, FILE *fp, uint64_t size, uint32_t hash, range_vector *done)
{
  CLEANUP_FREE char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned lineno = 0, bad = 0;

  while ((len = getline (&line, &cap, fp)) != -1) {
    lineno++;
    if (len == 0 || line[len - 1] != '\n') {
      bad++;                    /* torn last line */
      continue;
    }
    if (lineno == 1) {
      uint64_t fsize;
      unsigned fhash, version;
      if (sscanf (line, "ferry-checkpoint %u size=%" SCNu64 " areas=%x",
                  &version, &fsize, &fhash) != 3 || version != 1) {
        log_error ("checkpoint %s: not a ferry checkpoint file", path);
        return FERRY_EXIT_USAGE;
      }
      if (fsize != size) {
        log_error ("checkpoint %s belongs to a copy of a %" PRIu64 "-byte disk, "
                   "this source has %" PRIu64 " bytes: use another checkpoint file",
                   path, fsize, size);
        return FERRY_EXIT_USAGE;
      }
      if (fhash != hash) {
        log_error ("checkpoint %s belongs to a copy of other areas (another --extents): "
                   "use another checkpoint file", path);
        return FERRY_EXIT_USAGE;
      }
      continue;
    }
    {
      struct copy_range r;
      unsigned crc;
      char end;
      if (sscanf (line, "D %" SCNu64 " %" SCNu64 " %x%c", &r.start, &r.length, &crc,
                  &end) != 4 || end != '\n' || crc != line_crc (r.start, r.length) ||
          r.start + r.length < r.start || r.start + r.length > size) {
        bad++;
        continue;
      }
      if (range_vector_append (done, r) == -1) {
        log_error ("checkpoint %s: out of memory", path);
        return FERRY_EXIT_DATA;
      }
    }
  }
  if (lineno == 0) {
    log_error ("checkpoint %s: empty file (not a ferry checkpoint file)", path);
    return FERRY_EXIT_USAGE;
  }
  if (bad)
    log_warn ("checkpoint %s: ignored %u incomplete or garbled line%s", path, bad,
              bad == 1 ? "" : "s");
  ranges_normalize (done);
  return 0;
}

int
checkpoint_open (const char *path, uint64_t size, uint32_t hash, range_vector *done,
                 struct checkpoint **out)
{
  struct checkpoint *c;
  int fd, r;

  *out = NULL;
  fd = open (path, O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd >= 0) {
    FILE *fp = fdopen (dup (fd), "r");
    if (fp == NULL) {
      log_error ("checkpoint %s: %s", path, strerror (errno));
      close (fd);
      return FERRY_EXIT_DATA;
    }
    r = load (path, fp, size, hash, done);
    fclose (fp);
    if (r) {
      close (fd);
      return r;
    }
    /* End a torn last line, so that the next record starts on its own line. */
    {
      off_t end = lseek (fd, 0, SEEK_END);
      char last = '\n';
      if (end > 0 && pread (fd, &last, 1, end - 1) == 1 && last != '\n' &&
          (write (fd, "\n", 1) != 1 || fdatasync (fd) == -1)) {
        log_error ("checkpoint %s: writing: %s", path, strerror (errno));
        close (fd);
        return FERRY_EXIT_DATA;
      }
    }
  }
  else if (errno == ENOENT) {
    char *head = NULL;
    int n;
    fd = open (path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1) {
      log_error ("checkpoint %s: %s", path, strerror (errno));
      return FERRY_EXIT_USAGE;
    }
    n = asprintf (&head, "ferry-checkpoint 1 size=%" PRIu64 " areas=%08x\n", size, hash);
    if (n < 0 || write (fd, head, (size_t) n) != n || fdatasync (fd) == -1 ||
        fsync_dir_of (path) == -1) {
      log_error ("checkpoint %s: writing: %s", path, strerror (errno));
      free (head);
      close (fd);
      unlink (path);
      return FERRY_EXIT_DATA;
    }
    free (head);
  }
  else {
    log_error ("checkpoint %s: %s", path, strerror (errno));
    return FERRY_EXIT_USAGE;
  }

  c = calloc (1, sizeof *c);
  if (c == NULL || (c->path = strdup (path)) == NULL) {
    free (c);
    close (fd);
    log_error ("out of memory");
    return FERRY_EXIT_DATA;
  }
  c->fd = fd;
  pthread_mutex_init (&c->lock, NULL);
  *out = c;
  return 0;
}

int
checkpoint_record (struct checkpoint *c, const struct copy_range *ranges, size_t n)
{
  char *text = NULL;
  size_t len = 0;
  FILE *mem;
  int r = 0;

  if (n == 0)
    return 0;
  mem = open_memstream (&text, &len);
  if (mem == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    fprintf (mem, "D %" PRIu64 " %" PRIu64 " %08x\n", ranges[i].start, ranges[i].length,
             line_crc (ranges[i].start, ranges[i].length));
  if (fclose (mem) != 0) {
    free (text);
    return -1;
  }
  pthread_mutex_lock (&c->lock);
  /* One write with O_APPEND: lines from several threads never interleave. */
  if (write (c->fd, text, len) != (ssize_t) len || fdatasync (c->fd) == -1) {
    log_error ("checkpoint %s: writing: %s", c->path, strerror (errno ? errno : EIO));
    r = -1;
  }
  pthread_mutex_unlock (&c->lock);
  free (text);
  return r;
}

void
checkpoint_close (struct checkpoint *c)
{
  if (c == NULL)
    return;
  close (c->fd);
  pthread_mutex_destroy (&c->lock);
  free (c->path);
  free (c);
}
