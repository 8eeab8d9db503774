/* ferry: logging.
 *
 * Human-readable lines on stderr ("ferry: warning: ..."), filtered by level
 * (--quiet: errors only; default: info; --debug: everything), and optionally
 * copied with timestamps to a log file (the per-VM log under the data dir).
 * Every line passes through redact_string() first: a registered secret never
 * reaches stderr or a log file. */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <pthread.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level (enum log_level level);
enum log_level log_get_level (void);

/* Copy every line (all levels up to debug) to this file, with timestamps.
 * The file applies to the calling thread (each VM worker has its own);
 * NULL stops copying.  Returns -1 with errno set if the file can't be opened. */
int log_open_file (const char *path);
void log_close_file (void);

/* A short context shown in front of each line of the calling thread,
 * such as the VM name.  NULL clears it. */
void log_set_context (const char *ctx);

void log_msg (enum log_level level, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
void log_vmsg (enum log_level level, const char *fmt, va_list ap)
  __attribute__ ((format (printf, 2, 0)));

/* A status area: lines kept at the bottom of a terminal (stderr a TTY),
 * redrawn under every log line (the progress of parallel migrations).
 * text is '\n'-separated lines, each shorter than the terminal's width;
 * NULL or "" removes it. */
void log_set_status (const char *text);

/* Errors logged by the threads that call log_set_errors with the same
 * object are also kept there (the first and the last): the one-line
 * reason of a VM's failure for summaries and reports.  NULL stops it. */
struct log_errors {
  pthread_mutex_t lock;       /* initialised by the owner */
  char *first, *last;         /* malloc'd, redacted, "context: message" */
  unsigned count;
};
void log_set_errors (struct log_errors *e);

/* Log the last `lines` lines of a file as errors, each after "prefix: "
 * (a child process's log when it failed). */
void log_file_tail (const char *path, int lines, const char *prefix);

#define log_error(...) log_msg (LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg (LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg (LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg (LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
