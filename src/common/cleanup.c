/* ferry: helpers for cleanup.h. */
#include <unistd.h>
#include "common/cleanup.h"

void
cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}

void
cleanup_fclose (FILE **fp)
{
  if (*fp)
    fclose (*fp);
}

void
cleanup_json (json_t **j)
{
  json_decref (*j);
}

void
cleanup_close (int *fd)
{
  if (*fd >= 0)
    close (*fd);
}

void
cleanup_strv (char ***v)
{
  if (*v) {
    for (char **p = *v; *p; p++)
      free (*p);
    free (*v);
  }
}
