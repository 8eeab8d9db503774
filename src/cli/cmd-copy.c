/* ferry copy: placeholder until the copy engine lands. */
#include <stdio.h>
#include "cli/cli.h"
#include "common/error.h"

int
cmd_copy (struct cli *cli, int argc, char **argv)
{
  (void) argc; (void) argv;
  fprintf (stderr, "ferry %s: not built yet in this version of ferry (%s)\n",
           cli->cmd->name, FERRY_VERSION);
  return FERRY_EXIT_FAILED;
}
