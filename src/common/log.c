/* ferry: logging, see log.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/lock.h"
#include "common/log.h"
#include "common/redact.h"

static enum log_level level = LOG_LEVEL_INFO;
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local FILE *log_file;
static _Thread_local char *context;
static _Thread_local struct log_errors *errors;
static char *status;              /* the status area, under stderr_lock */
static int status_lines;

/* Erase the status area (the cursor is at its end); stderr_lock held. */
static void
status_erase (void)
{
  for (int i = 0; i < status_lines; i++)
    fputs ("\033[1A\033[2K", stderr);
}

static void
status_draw (void)
{
  status_lines = 0;
  if (status == NULL)
    return;
  fputs (status, stderr);
  for (const char *p = status; *p; p++)
    status_lines += *p == '\n';
  if (*status && status[strlen (status) - 1] != '\n') {
    fputc ('\n', stderr);
    status_lines++;
  }
}

void
log_set_status (const char *text)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&stderr_lock);
  status_erase ();
  free (status);
  status = text && *text ? strdup (text) : NULL;
  status_draw ();
  fflush (stderr);
}

void
log_set_errors (struct log_errors *e)
{
  errors = e;
}

void
log_set_level (enum log_level l)
{
  level = l;
}

enum log_level
log_get_level (void)
{
  return level;
}

int
log_open_file (const char *path)
{
  int fd;
  FILE *fp;

  log_close_file ();
  fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd == -1)
    return -1;
  fp = fdopen (fd, "a");
  if (fp == NULL) {
    int e = errno;
    close (fd);
    errno = e;
    return -1;
  }
  setvbuf (fp, NULL, _IOLBF, 0);
  log_file = fp;
  return 0;
}

void
log_close_file (void)
{
  if (log_file) {
    fclose (log_file);
    log_file = NULL;
  }
}

void
log_set_context (const char *ctx)
{
  free (context);
  context = ctx ? strdup (ctx) : NULL;
}

/* The context a line is prefixed with: none when the line already names
 * it (a VM's messages say "VM NAME: ..." themselves). */
static const char *
context_for (const char *line)
{
  const char *p;
  size_t n;

  if (context == NULL || *context == '\0')
    return NULL;
  n = strlen (context);
  for (p = strstr (line, context); p; p = strstr (p + 1, context))
    if ((p == line || p[-1] == ' ' || p[-1] == '\'')
        && (p[n] == '\0' || p[n] == ':' || p[n] == ' ' || p[n] == '\'' || p[n] == ','))
      return NULL;
  return context;
}

static const char *
level_word (enum log_level l)
{
  switch (l) {
  case LOG_LEVEL_ERROR: return "error: ";
  case LOG_LEVEL_WARN: return "warning: ";
  case LOG_LEVEL_DEBUG: return "debug: ";
  case LOG_LEVEL_INFO: break;
  }
  return "";
}

void
log_vmsg (enum log_level l, const char *fmt, va_list ap)
{
  char *raw = NULL, *line;
  const char *ctx;
  int saved_errno = errno;

  if (l > level && log_file == NULL)
    return;
  if (vasprintf (&raw, fmt, ap) == -1) {
    errno = saved_errno;
    return;
  }
  line = redact_string (raw);
  free (raw);
  if (line == NULL) {
    errno = saved_errno;
    return;
  }

  ctx = context_for (line);
  if (l <= level) {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&stderr_lock);
    status_erase ();
    fprintf (stderr, "ferry: %s%s%s%s\n", ctx ? ctx : "", ctx ? ": " : "", level_word (l),
             line);
    status_draw ();
  }
  if (l == LOG_LEVEL_ERROR && errors) {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&errors->lock);
    if (errors->first == NULL && asprintf (&errors->first, "%s%s%s", ctx ? ctx : "",
                                           ctx ? ": " : "", line) == -1)
      errors->first = NULL;
    free (errors->last);
    if (asprintf (&errors->last, "%s%s%s", ctx ? ctx : "", ctx ? ": " : "", line) == -1)
      errors->last = NULL;
    errors->count++;
  }
  if (log_file) {
    char stamp[32];
    struct timespec ts;
    struct tm tm;

    clock_gettime (CLOCK_REALTIME, &ts);
    gmtime_r (&ts.tv_sec, &tm);
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf (log_file, "%s.%03ldZ %s%s\n", stamp, ts.tv_nsec / 1000000,
             level_word (l), line);
  }
  free (line);
  errno = saved_errno;
}

void
log_msg (enum log_level l, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  log_vmsg (l, fmt, ap);
  va_end (ap);
}

void
log_file_tail (const char *path, int lines, const char *prefix)
{
  FILE *fp = path ? fopen (path, "r") : NULL;
  char **ring;
  char *line = NULL;
  size_t cap = 0;
  int n = 0;

  if (fp == NULL || lines <= 0)
    goto out;
  ring = calloc (lines, sizeof *ring);
  if (ring == NULL)
    goto out;
  while (getline (&line, &cap, fp) != -1) {
    line[strcspn (line, "\n")] = '\0';
    free (ring[n % lines]);
    ring[n % lines] = strdup (line);
    n++;
  }
  for (int i = n > lines ? n - lines : 0; i < n; i++)
    log_error ("%s: %s", prefix, ring[i % lines] ? ring[i % lines] : "");
  for (int i = 0; i < lines; i++)
    free (ring[i]);
  free (ring);
 out:
  free (line);
  if (fp)
    fclose (fp);
}
