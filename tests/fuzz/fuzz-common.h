/* Shared by ferry's fuzz targets (tests/fuzz/fuzz-*.c).
 *
 * Each target includes this file once, then defines target_init (one-time
 * setup) and LLVMFuzzerTestOneInput.  Built two ways:
 *  - with libFuzzer (clang -fsanitize=fuzzer -DFUZZING_ENGINE, see
 *    fuzz-all.sh), which supplies main();
 *  - as a replay program (the unit suite, gcc sanitizers): the main() below
 *    runs every file given (or every file of every directory given), then
 *    truncations of each and copies with bytes replaced by FUZZ_FLIP_CHARS.
 *
 * ferry logs errors on stderr for most malformed inputs: both send the
 * stdio stream stderr to /dev/null unless FERRY_FUZZ_VERBOSE is set; file
 * descriptor 2 stays open for the sanitizers' and libFuzzer's reports, and
 * fuzz_report() writes there.
 *
 * A known bug of ferry that a target steps around until it is fixed is
 * marked FUZZ_KNOWN_BUG in the target (README.md; none today); with
 * FERRY_FUZZ_STRICT set, targets don't step around them. */
#ifndef FERRY_FUZZ_COMMON_H
#define FERRY_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);
static void target_init (void);

static FILE *fuzz_out;          /* the real stderr, for our own messages */
static int fuzz_strict;         /* FERRY_FUZZ_STRICT: known bugs not avoided */

/* A message on the real stderr (then, usually, abort()). */
static void __attribute__ ((format (printf, 1, 2), unused))
fuzz_report (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vfprintf (fuzz_out ? fuzz_out : stderr, fmt, ap);
  va_end (ap);
  fflush (fuzz_out ? fuzz_out : stderr);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  fuzz_out = stderr;
  fuzz_strict = getenv ("FERRY_FUZZ_STRICT") != NULL;
  if (getenv ("FERRY_FUZZ_VERBOSE") == NULL) {
    FILE *null = fopen ("/dev/null", "w");
    int fd = dup (2);
    FILE *out = fd >= 0 ? fdopen (fd, "w") : NULL;
    if (null && out) {
      fuzz_out = out;
      stderr = null;            /* stdio only: fd 2 stays for the sanitizers */
    }
    else {
      if (null)
        fclose (null);
      if (out)
        fclose (out);
    }
  }
  target_init ();
  return 0;
}

/* Bytes written over the input by the replay program's flips. */
#ifndef FUZZ_FLIP_CHARS
#define FUZZ_FLIP_CHARS "{}[]\":,\\\n\0x"
#endif

/* A NUL-terminated copy of the input (most parsers take C strings). */
static inline char *
fuzz_cstring (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);

  if (s == NULL)
    abort ();
  memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

/* A private directory for the files a target must write (parsers that
 * only read files); removed at exit.  The name is malloc'd once. */
static char *fuzz_dir;

static void
fuzz_remove_dir (void)
{
  DIR *d;
  struct dirent *e;

  if (fuzz_dir == NULL || (d = opendir (fuzz_dir)) == NULL)
    return;
  while ((e = readdir (d)) != NULL) {
    char p[4096];
    if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
      continue;
    snprintf (p, sizeof p, "%s/%s", fuzz_dir, e->d_name);
    unlink (p);
  }
  closedir (d);
  rmdir (fuzz_dir);
  free (fuzz_dir);
  fuzz_dir = NULL;
}

static inline const char *
fuzz_tmpdir (void)
{
  if (fuzz_dir == NULL) {
    const char *t = getenv ("TMPDIR");
    size_t n = strlen (t && *t ? t : "/tmp") + 32;
    fuzz_dir = malloc (n);
    if (fuzz_dir == NULL)
      abort ();
    snprintf (fuzz_dir, n, "%s/ferry-fuzz-XXXXXX", t && *t ? t : "/tmp");
    if (mkdtemp (fuzz_dir) == NULL) {
      perror ("ferry fuzz: mkdtemp");
      abort ();
    }
    atexit (fuzz_remove_dir);
  }
  return fuzz_dir;
}

/* The path of `name` in the private directory (malloc'd). */
static inline char *
fuzz_path (const char *name)
{
  const char *d = fuzz_tmpdir ();
  size_t n = strlen (d) + strlen (name) + 2;
  char *p = malloc (n);

  if (p == NULL)
    abort ();
  snprintf (p, n, "%s/%s", d, name);
  return p;
}

/* Replace the file at path with exactly these bytes. */
static inline void
fuzz_write_file (const char *path, const void *data, size_t size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const char *p = data;

  if (fd == -1) {
    perror (path);
    abort ();
  }
  while (size > 0) {
    ssize_t w = write (fd, p, size);
    if (w <= 0) {
      perror (path);
      abort ();
    }
    p += w;
    size -= (size_t) w;
  }
  close (fd);
}

#ifndef FUZZING_ENGINE
static char *
fuzz_slurp (const char *path, size_t *len)
{
  FILE *fp = fopen (path, "rb");
  char *buf = NULL;
  long n;

  if (fp == NULL)
    return NULL;
  if (fseek (fp, 0, SEEK_END) == 0 && (n = ftell (fp)) >= 0 && fseek (fp, 0, SEEK_SET) == 0) {
    buf = malloc (n + 1);
    if (buf && fread (buf, 1, n, fp) != (size_t) n) {
      free (buf);
      buf = NULL;
    }
    *len = n;
  }
  fclose (fp);
  return buf;
}

/* The whole input, then truncations at many points, then flipped bytes. */
static int
fuzz_replay_file (const char *path)
{
  size_t len = 0;
  char *buf = fuzz_slurp (path, &len);
  int runs = 0;

  if (buf == NULL) {
    fprintf (fuzz_out, "cannot read %s: %s\n", path, strerror (errno));
    exit (1);
  }
  for (size_t cut = len; ; cut = cut * 7 / 8) {
    LLVMFuzzerTestOneInput ((const uint8_t *) buf, cut);
    runs++;
    if (cut == 0)
      break;
  }
  for (size_t k = 0; k < len; k += 1 + len / 64) {
    static const char flips[] = FUZZ_FLIP_CHARS;
    char saved = buf[k];
    buf[k] = flips[k % (sizeof flips - 1)];
    LLVMFuzzerTestOneInput ((const uint8_t *) buf, len);
    buf[k] = saved;
    runs++;
  }
  free (buf);
  return runs;
}

static int
fuzz_cmp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  int runs = 0, files = 0;
  const char *name = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];

  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat (argv[i], &st) == 0 && S_ISDIR (st.st_mode)) {
      DIR *d = opendir (argv[i]);
      struct dirent *e;
      char **names = NULL;
      size_t n = 0;
      if (d == NULL) {
        fprintf (fuzz_out, "%s: cannot read %s\n", name, argv[i]);
        return 1;
      }
      while ((e = readdir (d)) != NULL) {
        if (e->d_name[0] == '.')
          continue;
        names = realloc (names, (n + 1) * sizeof *names);
        if (names == NULL || (names[n] = malloc (strlen (argv[i]) + strlen (e->d_name) + 2)) == NULL)
          abort ();
        sprintf (names[n++], "%s/%s", argv[i], e->d_name);
      }
      closedir (d);
      qsort (names, n, sizeof *names, fuzz_cmp);
      for (size_t k = 0; k < n; k++) {
        runs += fuzz_replay_file (names[k]);
        files++;
        free (names[k]);
      }
      free (names);
    }
    else {
      runs += fuzz_replay_file (argv[i]);
      files++;
    }
  }
  if (files == 0) {
    fprintf (fuzz_out, "%s: no input files (give files or corpus directories)\n", name);
    return 1;
  }
  printf ("%s: %d files, %d inputs run\n", name, files, runs);
  return 0;
}
#endif /* !FUZZING_ENGINE */

#endif
