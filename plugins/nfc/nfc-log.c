/* nbdkit nfc plugin: ferry's log.h on top of nbdkit's logging.
 *
 * ferry's SOAP layer (src/vsphere, src/common/http.c) logs through
 * log_msg; inside nbdkit its lines go where nbdkit sends a plugin's:
 * errors with nbdkit_error (stderr or syslog), warnings to stderr, the
 * rest with nbdkit_debug (nbdkit -v).  Every line is redacted first
 * (redact.h): the password and the session cookie never leave the
 * process. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-plugin.h>

#include "common/log.h"
#include "common/redact.h"

static enum log_level level = LOG_LEVEL_DEBUG;

void log_set_level (enum log_level l) { level = l; }
enum log_level log_get_level (void) { return level; }
int log_open_file (const char *path) { (void) path; return 0; }
void log_close_file (void) { }
void log_set_context (const char *ctx) { (void) ctx; }
void log_set_status (const char *text) { (void) text; }
void log_set_errors (struct log_errors *e) { (void) e; }
void log_file_tail (const char *path, int lines, const char *prefix)
{
  (void) path; (void) lines; (void) prefix;
}

void
log_vmsg (enum log_level l, const char *fmt, va_list ap)
{
  char *raw = NULL, *line;

  if (l > level)
    return;
  if (vasprintf (&raw, fmt, ap) == -1)
    return;
  line = redact_string (raw);
  free (raw);
  if (line == NULL)
    return;
  switch (l) {
  case LOG_LEVEL_ERROR:
    nbdkit_error ("%s", line);
    break;
  case LOG_LEVEL_WARN:
    fprintf (stderr, "nbdkit: nfc: warning: %s\n", line);
    break;
  default:
    nbdkit_debug ("%s", line);
    break;
  }
  free (line);
}

void
log_msg (enum log_level l, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  log_vmsg (l, fmt, ap);
  va_end (ap);
}
