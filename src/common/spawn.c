/* ferry: child processes, see spawn.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "common/spawn.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/signals.h"
#include "common/util.h"

extern char **environ;

int
spawn_which (const char *prog)
{
  const char *path = getenv ("PATH");
  char *copy, *save = NULL;
  int found = -1;

  if (strchr (prog, '/'))
    return access (prog, X_OK);
  copy = strdup (path ? path : "/usr/bin:/bin");
  for (char *d = strtok_r (copy, ":", &save); d && found; d = strtok_r (NULL, ":", &save)) {
    char *p = xasprintf ("%s/%s", d, prog);
    if (p && access (p, X_OK) == 0)
      found = 0;
    free (p);
  }
  free (copy);
  return found;
}

pid_t
spawn_start (char *const argv[], const struct spawn_opts *opts)
{
  int bad = -1, logfd;
  pid_t pid, parent = getpid ();

  if (redact_argv_check (argv, &bad) == -1) {
    log_error ("internal error: refusing to start %s with a secret in argument %d",
               argv[0], bad);
    return -1;
  }
  if (spawn_which (argv[0]) != 0) {
    log_error ("%s: not found in PATH; install it (scripts/install-deps on Debian)", argv[0]);
    return -1;
  }
  if (log_get_level () >= LOG_LEVEL_DEBUG) {
    size_t n = 1;
    char *line;
    for (size_t i = 0; argv[i]; i++)
      n += strlen (argv[i]) * 4 + 3;
    line = calloc (1, n);
    for (size_t i = 0; line && argv[i]; i++) {
      char *q = shell_quote (argv[i]);
      if (i) strcat (line, " ");
      strcat (line, q ? q : "?");
      free (q);
    }
    log_debug ("run: %s", line ? line : argv[0]);
    free (line);
  }
  logfd = opts && opts->log_path
    ? open (opts->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)
    : open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (logfd == -1) {
    log_error ("%s: cannot open its log %s: %s", argv[0],
               opts && opts->log_path ? opts->log_path : "/dev/null", strerror (errno));
    return -1;
  }
  pid = fork ();
  if (pid == -1) {
    log_error ("cannot start %s: fork: %s", argv[0], strerror (errno));
    close (logfd);
    return -1;
  }
  if (pid == 0) {
    int nullfd = open ("/dev/null", O_RDONLY);
    setpgid (0, 0);
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != parent)
      _exit (127);
    if (nullfd >= 0) {
      dup2 (nullfd, 0);
      close (nullfd);
    }
    dup2 (logfd, 1);
    dup2 (logfd, 2);
    if (opts && opts->keep_fds)
      for (const int *k = opts->keep_fds; *k >= 0; k++) {
        int fl = fcntl (*k, F_GETFD);
        if (fl != -1)
          fcntl (*k, F_SETFD, fl & ~FD_CLOEXEC);
      }
    if (opts && opts->env)
      for (const char *const *e = opts->env; *e; e++)
        putenv ((char *) *e);
    execvp (argv[0], argv);
    fprintf (stderr, "exec %s: %s\n", argv[0], strerror (errno));
    _exit (127);
  }
  close (logfd);
  return pid;
}

int
spawn_wait (pid_t pid)
{
  int st;
  while (waitpid (pid, &st, 0) == -1)
    if (errno != EINTR)
      return -1;
  return st;
}

int
spawn_wait_interruptible (pid_t pid, int stop_timeout_ms, bool *interrupted)
{
  int st;

  *interrupted = false;
  for (;;) {
    pid_t r = waitpid (pid, &st, WNOHANG);
    if (r == pid)
      return st;
    if (r == -1 && errno != EINTR)
      return -1;
    if (signals_pending ()) {
      *interrupted = true;
      log_warn ("interrupted: stopping process %d and its children", (int) pid);
      return spawn_stop (pid, stop_timeout_ms);
    }
    struct timespec ts = { 0, 50 * 1000000L };
    nanosleep (&ts, NULL);
  }
}

int
spawn_alive (pid_t pid)
{
  int st;
  pid_t r = waitpid (pid, &st, WNOHANG);
  return r == 0;
}

int
spawn_stop (pid_t pid, int timeout_ms)
{
  int st;

  if (pid <= 0)
    return -1;
  kill (-pid, SIGTERM);
  kill (pid, SIGTERM);
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    pid_t r = waitpid (pid, &st, WNOHANG);
    if (r == pid)
      return st;
    if (r == -1 && errno != EINTR)
      return -1;
    struct timespec ts = { 0, 20 * 1000000L };
    nanosleep (&ts, NULL);
  }
  kill (-pid, SIGKILL);
  kill (pid, SIGKILL);
  return spawn_wait (pid);
}

const char *
spawn_status_str (int st, char *buf, size_t n)
{
  if (st == -1)
    snprintf (buf, n, "unknown status");
  else if (WIFEXITED (st))
    snprintf (buf, n, "exit status %d", WEXITSTATUS (st));
  else if (WIFSIGNALED (st))
    snprintf (buf, n, "killed by signal %d", WTERMSIG (st));
  else
    snprintf (buf, n, "status 0x%x", st);
  return buf;
}
