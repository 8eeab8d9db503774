/* ferry: exit codes.  Documented in `ferry --help` and docs/ferry.md. */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

enum ferry_exit {
  FERRY_EXIT_OK = 0,          /* success */
  FERRY_EXIT_FAILED = 1,      /* the work failed (a check failed, a VM failed) */
  FERRY_EXIT_USAGE = 2,       /* usage or configuration error: nothing was done */
  FERRY_EXIT_SOURCE = 3,      /* vSphere side: unreachable, login, API fault */
  FERRY_EXIT_DEST = 4,        /* OpenStack side: unreachable, auth, API error, quota */
  FERRY_EXIT_DATA = 5,        /* disk data path: read, write, verify */
  FERRY_EXIT_CONVERSION = 6,  /* guest conversion (virt-v2v) */
  FERRY_EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM: cleaned up and stopped */
};

#endif
