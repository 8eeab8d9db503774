/* ferry: the signals that end a run the orderly way.
 *
 * SIGINT (Ctrl-C), SIGTERM (kill, systemd), SIGHUP (the SSH session or
 * terminal closed: the common case on a conversion host) and SIGPIPE (the
 * reader of ferry's output went away, e.g. `| tee` in a closed session)
 * all set one flag: the work in progress stops at the next safe point,
 * records what it finished, removes its snapshots and leaves the
 * destination as a rerun expects it.  None of them kills ferry outright. */
#ifndef FERRY_SIGNALS_H
#define FERRY_SIGNALS_H

#include <stdatomic.h>
#include <stdbool.h>

/* Install the handlers; each sets *flag to true. */
void signals_catch (atomic_bool *flag);

/* The signal that set the flag (the first one), 0 if none. */
int signals_caught (void);

/* Has a run-ending signal arrived (or the flag been set)? */
bool signals_pending (void);

#endif
