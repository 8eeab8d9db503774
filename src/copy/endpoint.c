/* ferry: the table of endpoint kinds; opening SRC and DST by name. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "copy/rw.h"

struct rw_kind {
  const char *kind;
  bool (*matches) (const char *name);   /* NULL: the fallback (local paths) */
  struct rw *(*open) (const char *name, const struct rw_open_args *args, int *exit_code);
};

/* New kinds go before the local-path fallback. */
static const struct rw_kind kinds[] = {
  { "nbd", nbd_rw_matches, nbd_rw_open },
  { "https", https_rw_matches, https_rw_open },
  { "file", NULL, file_rw_open },
};

struct rw *
rw_open (const char *name, const struct rw_open_args *args, int *exit_code)
{
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (kinds[i].matches == NULL || kinds[i].matches (name))
      return kinds[i].open (name, args, exit_code);
  }
  *exit_code = FERRY_EXIT_USAGE;
  return NULL;
}

void
rw_close (struct rw *rw)
{
  if (rw)
    rw->ops->close (rw);
}
