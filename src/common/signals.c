/* ferry: the signals that end a run, see signals.h. */
#include <signal.h>
#include <string.h>

#include "common/signals.h"

static atomic_bool *cancel_flag;
static volatile sig_atomic_t first_signal;

static void
on_signal (int sig)
{
  if (first_signal == 0)
    first_signal = sig;
  if (cancel_flag)
    atomic_store (cancel_flag, true);
}

void
signals_catch (atomic_bool *flag)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
  struct sigaction sa;

  cancel_flag = flag;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaddset (&sa.sa_mask, sigs[i]);
  sa.sa_flags = 0;              /* EINTR wakes up blocking waits */
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction (sigs[i], &sa, NULL);
}

int
signals_caught (void)
{
  return first_signal;
}

bool
signals_pending (void)
{
  return first_signal != 0 || (cancel_flag && atomic_load (cancel_flag));
}
