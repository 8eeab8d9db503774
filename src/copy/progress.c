/* ferry: progress renderers: a bar on a terminal, JSON lines for machines. */
#include <stdio.h>
#include <string.h>
#include <inttypes.h>

#include "copy/copy.h"

const char *
copy_human_size (uint64_t b, char *buf, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = (double) b;
  size_t u = 0;

  while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf (buf, len, "%" PRIu64 " B", b);
  else
    snprintf (buf, len, "%.1f %s", v, units[u]);
  return buf;
}

static void
fmt_time (double s, char *buf, size_t len)
{
  unsigned long t;

  if (s < 0) {
    snprintf (buf, len, "--:--");
    return;
  }
  t = (unsigned long) (s + 0.5);
  if (t >= 3600)
    snprintf (buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf (buf, len, "%lu:%02lu", t / 60, t % 60);
}

void
copy_progress_print_bar (const struct copy_progress *p, bool tty)
{
  enum { WIDTH = 30 };
  char bar[WIDTH + 1], done[32], total[32], rate[32], eta[48];
  double frac = p->total ? (double) p->bytes_done / (double) p->total : 1.0;
  int fill = (int) (frac * WIDTH);

  if (fill > WIDTH)
    fill = WIDTH;
  memset (bar, '#', (size_t) fill);
  memset (bar + fill, '.', (size_t) (WIDTH - fill));
  bar[WIDTH] = '\0';
  copy_human_size (p->bytes_done, done, sizeof done);
  copy_human_size (p->total, total, sizeof total);
  copy_human_size ((uint64_t) p->rate, rate, sizeof rate);
  fmt_time (p->final ? p->elapsed : p->eta, eta, sizeof eta);
  fprintf (stderr, "%s[%s] %5.1f%%  %s / %s  %s/s  %s %s%s",
           tty ? "\r" : "", bar, frac * 100, done, total, rate,
           p->final ? "in" : "ETA", eta, tty ? "\033[K" : "\n");
  if (tty && p->final)
    fputc ('\n', stderr);
  fflush (stderr);
}

void
copy_progress_print_json (const struct copy_progress *p)
{
  fprintf (stderr, "{\"bytes\": %" PRIu64 ", \"total\": %" PRIu64 ", \"rate\": %.0f, "
           "\"elapsed\": %.3f, \"eta\": %.1f, \"final\": %s}\n",
           p->bytes_done, p->total, p->rate, p->elapsed, p->eta,
           p->final ? "true" : "false");
  fflush (stderr);
}
