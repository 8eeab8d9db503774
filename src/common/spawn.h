/* ferry: child processes (nbdkit, qemu-nbd, virt-v2v-in-place).
 *
 * Never through a shell: an argv, checked by redact_argv_check() so that no
 * registered secret can reach a command line (where `ps` and logs would
 * show it).  The child gets its own process group, dies with ferry
 * (PR_SET_PDEATHSIG), and its stdout/stderr go to a log file.  Its
 * environment is an allow-list of ferry's (spawn.c: locale, paths, tool
 * settings, proxies) plus opts->env: no credential reaches a child through
 * the environment either. */
#ifndef FERRY_SPAWN_H
#define FERRY_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct spawn_opts {
  const char *log_path;       /* stdout+stderr appended here, or NULL: /dev/null */
  const char *const *env;     /* extra "NAME=value" entries, NULL-terminated, or NULL */
  const int *keep_fds;        /* fds to leave open in the child, -1-terminated, or NULL */
};

/* Start argv[0] (searched in PATH).  Returns the pid, or -1 after logging
 * (missing program: names it and what to install). */
pid_t spawn_start (char *const argv[], const struct spawn_opts *opts);

/* Stop a child: SIGTERM to its group, SIGKILL after timeout_ms, reap.
 * Returns its wait status, or -1. */
int spawn_stop (pid_t pid, int timeout_ms);

/* Wait for a child to exit (no timeout); returns the wait status or -1. */
int spawn_wait (pid_t pid);

/* Wait for a child to exit, unless a run-ending signal arrives first
 * (signals.h): then its process group is stopped (SIGTERM, SIGKILL after
 * stop_timeout_ms) and *interrupted set.  Returns the wait status or -1. */
int spawn_wait_interruptible (pid_t pid, int stop_timeout_ms, bool *interrupted);

/* Is the child still running (reaps it if not)? */
int spawn_alive (pid_t pid);

/* Find a program in PATH: 0 if found. */
int spawn_which (const char *prog);

/* A human description of a wait status ("exit 1", "killed by signal 9"). */
const char *spawn_status_str (int status, char *buf, size_t n);

#endif
