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

/* What a child may inherit from ferry's environment: what the tools need
 * to run (locale, paths, libguestfs and libvirt settings, proxies and CA
 * locations for nbdkit's curl), never the credentials ferry was given
 * (OS_PASSWORD, OS_TOKEN, OS_APPLICATION_CREDENTIAL_SECRET, ...). */
static const char *const inherited[] = {
  "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "SHELL",
  "LD_LIBRARY_PATH", "XDG_RUNTIME_DIR", "VIRTIO_WIN", "VIRT_TOOLS_DATA_DIR",
  "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
  "ALL_PROXY", "all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE",
  "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MALLOC_PERTURB_",
  NULL
};
static const char *const inherited_prefixes[] = {
  "LC_", "LIBGUESTFS_", "LIBVIRT_", "SUPERMIN_", "NBDKIT_", "LIBNBD_", NULL
};

static bool
env_inherited (const char *entry)
{
  size_t n = strcspn (entry, "=");

  if (entry[n] != '=')
    return false;
  for (size_t i = 0; inherited[i]; i++)
    if (strlen (inherited[i]) == n && strncmp (entry, inherited[i], n) == 0)
      return true;
  for (size_t i = 0; inherited_prefixes[i]; i++)
    if (strncmp (entry, inherited_prefixes[i], strlen (inherited_prefixes[i])) == 0)
      return true;
  return false;
}

/* The child's environment: the inherited entries, then opts->env (which
 * wins for a name given twice).  Built before fork (no allocation in the
 * child of a threaded program).  NULL on out of memory. */
static char **
child_environment (const struct spawn_opts *opts)
{
  size_t n = 1, k = 0;
  char **envp;

  for (char **e = environ; e && *e; e++)
    n++;
  if (opts && opts->env)
    for (const char *const *e = opts->env; *e; e++)
      n++;
  envp = calloc (n, sizeof *envp);
  if (envp == NULL)
    return NULL;
  for (char **e = environ; e && *e; e++) {
    bool overridden = false;
    if (!env_inherited (*e))
      continue;
    if (opts && opts->env)
      for (const char *const *o = opts->env; *o && !overridden; o++) {
        size_t len = strcspn (*o, "=");
        overridden = strncmp (*e, *o, len) == 0 && (*e)[len] == '=';
      }
    if (!overridden)
      envp[k++] = *e;
  }
  if (opts && opts->env)
    for (const char *const *e = opts->env; *e; e++)
      envp[k++] = (char *) *e;
  envp[k] = NULL;
  return envp;
}

pid_t
spawn_start (char *const argv[], const struct spawn_opts *opts)
{
  char **envp;
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
  envp = child_environment (opts);
  if (envp == NULL) {
    log_error ("cannot start %s: out of memory", argv[0]);
    close (logfd);
    return -1;
  }
  pid = fork ();
  if (pid == -1) {
    log_error ("cannot start %s: fork: %s", argv[0], strerror (errno));
    close (logfd);
    free (envp);
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
    execvpe (argv[0], argv, envp);
    fprintf (stderr, "exec %s: %s\n", argv[0], strerror (errno));
    _exit (127);
  }
  close (logfd);
  free (envp);
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
