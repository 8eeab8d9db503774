/* ferry: the --checkpoint file: a durable record of finished units.
 *
 * Text, append-only:
 *   ferry-checkpoint 2 size=N areas=HASH dst=IDENTITY
 *   D START LENGTH SAMPLE-OFFSET SAMPLE-LENGTH SAMPLE-CRC CRC
 * CRC is the crc32 of the line's first five numbers as written; a torn or
 * garbled line is ignored.  IDENTITY names the destination when the caller
 * knows it (a Cinder volume id), "-" otherwise.
 *
 * What makes an interruption safe: a unit is appended only after every
 * request of it completed successfully AND the destination was flushed
 * (worker.c); a unit with a request given up (a signal, an error, retries
 * exhausted) is never appended.  The append is followed by fdatasync.  So a
 * unit in the file is on stable storage; at worst an interruption forgets
 * units that were done, which a rerun copies again.
 *
 * What binds the file to its destination: the identity in the header, and
 * per unit a sample (crc32 of up to 4 KiB as written there).  On resume
 * copy.c reads samples back; a destination that does not hold them (a new
 * volume, another device, a file rewritten meanwhile) is never resumed.
 *
 * Format 1 (no samples, and written by a ferry whose interrupted runs could
 * record units never written) is not trusted. */
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
#include "common/lock.h"
#include "common/log.h"
#include "copy/checkpoint.h"

struct checkpoint {
  char *path;
  int fd;
  char *header;
  pthread_mutex_t lock;
};

#define IDENTITY_MAX 256

static uint32_t
line_crc (const struct checkpoint_entry *e)
{
  char s[128];
  int n = snprintf (s, sizeof s, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu32 " %08" PRIx32,
                    e->range.start, e->range.length, e->sample.offset, e->sample.length,
                    e->sample.crc);
  return (uint32_t) crc32 (crc32 (0, NULL, 0), (const unsigned char *) s, (unsigned) n);
}

void
checkpoint_contents_reset (struct checkpoint_contents *cc)
{
  range_vector_reset (&cc->done);
  checkpoint_entry_vector_reset (&cc->entries);
  free (cc->dst_identity);
  cc->dst_identity = NULL;
}

/* The identity as written in the header: printable, no spaces. */
static char *
identity_text (const char *id)
{
  char *t;
  size_t n;

  if (id == NULL || *id == '\0')
    return strdup ("-");
  n = strnlen (id, IDENTITY_MAX);
  t = strndup (id, n);
  if (t == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (t[i] <= ' ' || t[i] > '~')
      t[i] = '_';
  return t;
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

static int
parse_header (const char *path, const char *line, uint64_t size, uint32_t hash,
              struct checkpoint_contents *cc, bool *stale)
{
  uint64_t fsize;
  unsigned fhash, version;
  char ident[IDENTITY_MAX + 1];

  if (sscanf (line, "ferry-checkpoint %u ", &version) == 1 && version == 1) {
    *stale = true;
    return 0;
  }
  if (sscanf (line, "ferry-checkpoint %u size=%" SCNu64 " areas=%x dst=%256s",
              &version, &fsize, &fhash, ident) != 4 || version != 2) {
    log_error ("checkpoint %s: not a ferry checkpoint file (or one from a newer ferry)",
               path);
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
  if (strcmp (ident, "-") != 0 && (cc->dst_identity = strdup (ident)) == NULL) {
    log_error ("out of memory");
    return FERRY_EXIT_DATA;
  }
  return 0;
}

static bool
parse_entry (const char *line, uint64_t size, struct checkpoint_entry *e)
{
  unsigned crc;
  char end;

  if (sscanf (line, "D %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu32 " %" SCNx32 " %x%c",
              &e->range.start, &e->range.length, &e->sample.offset, &e->sample.length,
              &e->sample.crc, &crc, &end) != 7 || end != '\n')
    return false;
  if (crc != line_crc (e) || e->range.length == 0 ||
      e->range.start + e->range.length < e->range.start ||
      e->range.start + e->range.length > size)
    return false;
  /* A sample lies inside its unit. */
  if (e->sample.length > CHECKPOINT_SAMPLE_MAX ||
      (e->sample.length &&
       (e->sample.offset < e->range.start ||
        e->sample.offset + e->sample.length > e->range.start + e->range.length)))
    return false;
  return true;
}

/* Parse an existing file into *cc.  Returns 0 or FERRY_EXIT_* after
 * logging. */
static int
load (const char *path, FILE *fp, uint64_t size, uint32_t hash,
      struct checkpoint_contents *cc, bool *stale)
{
  CLEANUP_FREE char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned lineno = 0, bad = 0;
  int r;

  while ((len = getline (&line, &cap, fp)) != -1) {
    struct checkpoint_entry e;

    lineno++;
    if (lineno == 1 && (len == 0 || line[len - 1] != '\n')) {
      /* The header itself is incomplete (a crash while creating the file)
       * or this is not a checkpoint at all: nothing in it can be trusted,
       * and it must not be appended to. */
      log_error ("checkpoint %s: not a ferry checkpoint file (its first line is not a "
                 "complete header): remove it to copy everything again", path);
      return FERRY_EXIT_USAGE;
    }
    if (len == 0 || line[len - 1] != '\n') {
      bad++;                    /* torn last line */
      continue;
    }
    if (lineno == 1) {
      r = parse_header (path, line, size, hash, cc, stale);
      if (r || *stale)
        return r;
      continue;
    }
    if (!parse_entry (line, size, &e)) {
      bad++;
      continue;
    }
    if (checkpoint_entry_vector_append (&cc->entries, e) == -1 ||
        range_vector_append (&cc->done, e.range) == -1) {
      log_error ("checkpoint %s: out of memory", path);
      return FERRY_EXIT_DATA;
    }
  }
  if (lineno == 0) {
    log_error ("checkpoint %s: empty file (not a ferry checkpoint file)", path);
    return FERRY_EXIT_USAGE;
  }
  if (bad)
    log_warn ("checkpoint %s: ignored %u incomplete or garbled line%s", path, bad,
              bad == 1 ? "" : "s");
  ranges_normalize (&cc->done);
  return 0;
}

int
checkpoint_open (const char *path, uint64_t size, uint32_t hash, const char *dst_identity,
                 struct checkpoint_contents *cc, bool *stale, struct checkpoint **out)
{
  struct checkpoint *c;
  CLEANUP_FREE char *ident = identity_text (dst_identity);
  char *head = NULL;
  int fd, r;

  *out = NULL;
  *stale = false;
  if (ident == NULL || asprintf (&head, "ferry-checkpoint 2 size=%" PRIu64 " areas=%08x dst=%s\n",
                                 size, hash, ident) < 0) {
    log_error ("out of memory");
    return FERRY_EXIT_DATA;
  }
  fd = open (path, O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd >= 0) {
    FILE *fp = fdopen (dup (fd), "r");
    if (fp == NULL) {
      log_error ("checkpoint %s: %s", path, strerror (errno));
      close (fd);
      free (head);
      return FERRY_EXIT_DATA;
    }
    r = load (path, fp, size, hash, cc, stale);
    fclose (fp);
    if (r) {
      close (fd);
      free (head);
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
        free (head);
        return FERRY_EXIT_DATA;
      }
    }
  }
  else if (errno == ENOENT) {
    size_t n = strlen (head);
    fd = open (path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1) {
      log_error ("checkpoint %s: %s", path, strerror (errno));
      free (head);
      return FERRY_EXIT_USAGE;
    }
    if (write (fd, head, n) != (ssize_t) n || fdatasync (fd) == -1 ||
        fsync_dir_of (path) == -1) {
      log_error ("checkpoint %s: writing: %s", path, strerror (errno));
      free (head);
      close (fd);
      unlink (path);
      return FERRY_EXIT_DATA;
    }
  }
  else {
    log_error ("checkpoint %s: %s", path, strerror (errno));
    free (head);
    return FERRY_EXIT_USAGE;
  }

  c = calloc (1, sizeof *c);
  if (c == NULL || (c->path = strdup (path)) == NULL) {
    free (c);
    close (fd);
    free (head);
    log_error ("out of memory");
    return FERRY_EXIT_DATA;
  }
  c->fd = fd;
  c->header = head;
  pthread_mutex_init (&c->lock, NULL);
  *out = c;
  return 0;
}

int
checkpoint_reset (struct checkpoint *c)
{
  size_t n = strlen (c->header);
  int r = 0;

  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&c->lock);
  if (ftruncate (c->fd, 0) == -1 || write (c->fd, c->header, n) != (ssize_t) n ||
      fdatasync (c->fd) == -1) {
    log_error ("checkpoint %s: writing: %s", c->path, strerror (errno ? errno : EIO));
    r = -1;
  }
  return r;
}

int
checkpoint_record (struct checkpoint *c, const struct checkpoint_entry *e, size_t n)
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
    fprintf (mem, "D %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu32 " %08" PRIx32 " %08x\n",
             e[i].range.start, e[i].range.length, e[i].sample.offset, e[i].sample.length,
             e[i].sample.crc, line_crc (&e[i]));
  if (fclose (mem) != 0) {
    free (text);
    return -1;
  }
  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&c->lock);
    /* One write with O_APPEND: lines from several threads never interleave. */
    if (write (c->fd, text, len) != (ssize_t) len || fdatasync (c->fd) == -1) {
      log_error ("checkpoint %s: writing: %s", c->path, strerror (errno ? errno : EIO));
      r = -1;
    }
  }
  free (text);
  return r;
}

const char *
checkpoint_path (const struct checkpoint *c)
{
  return c->path;
}

void
checkpoint_close (struct checkpoint *c)
{
  if (c == NULL)
    return;
  close (c->fd);
  pthread_mutex_destroy (&c->lock);
  free (c->header);
  free (c->path);
  free (c);
}
