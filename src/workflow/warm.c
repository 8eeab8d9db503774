/* ferry: warm migration's records -- each sync (and the cutover's last
 * delta) appended to the state's "syncs", and the cutover's downtime
 * predicted from the measured change rate and copy throughput. */
#include <string.h>
#include <time.h>

#include "workflow/job.h"
#include "common/log.h"

/* Append this pass to "syncs" (per disk: change id, bytes changed and
 * copied, seconds), and predict the cutover's downtime from the measured
 * change rate and copy throughput. */
void
record_sync (struct job *j, double duration)
{
  struct ctx *c = j->c;
  struct vm_state *st = &j->st;
  const char *vmname = j->name;
  const char *started = j->sync_started;
  json_t *syncs = json_object_get (st->j, "syncs");
  json_t *pass = state_obj (st, "pass");
  json_t *rec, *prev;
  long long changed = 0, copied = 0, allocated = 0;
  double secs = 0, rate = 0, tput = 0, predicted, cold;
  const char *k;
  json_t *v;
  struct tm tm_now, tm_prev;

  if (!json_is_array (syncs)) {
    syncs = json_array ();
    json_object_set_new (st->j, "syncs", syncs);
  }
  json_object_foreach (pass, k, v) {
    changed += json_integer_value (json_object_get (v, "bytes_changed"));
    copied += json_integer_value (json_object_get (v, "bytes_copied"));
    secs += json_number_value (json_object_get (v, "seconds"));
  }
  json_object_foreach (state_obj (st, "volumes"), k, v)
    allocated += json_integer_value (json_object_get (v, "bytes_total"));
  prev = json_array_get (syncs, json_array_size (syncs) - 1);
  rec = json_pack ("{s:s, s:s, s:f, s:I, s:I, s:f, s:O}", "started", started,
                   "kind", c->o->mode == MIGRATE_CUTOVER ? "cutover" : "sync",
                   "duration_s", duration, "bytes_changed", (json_int_t) changed,
                   "bytes_copied", (json_int_t) copied, "copy_seconds", secs, "disks", pass);
  /* Change rate: what changed since the previous pass, over the time between them. */
  memset (&tm_now, 0, sizeof tm_now);
  memset (&tm_prev, 0, sizeof tm_prev);
  if (prev && strptime (started, "%Y-%m-%dT%H:%M:%SZ", &tm_now)
      && strptime (json_string_value (json_object_get (prev, "started")) ?: "",
                   "%Y-%m-%dT%H:%M:%SZ", &tm_prev)) {
    double interval = difftime (timegm (&tm_now), timegm (&tm_prev));
    if (interval > 0) {
      rate = changed / interval;
      json_object_set_new (rec, "change_rate_bps", json_real (rate));
      json_object_set_new (rec, "interval_s", json_real (interval));
    }
  }
  json_array_append_new (syncs, rec);
  json_object_del (st->j, "pass");
  /* Throughput: the best measured over the syncs that copied something. */
  {
    size_t i;
    json_t *s;
    json_array_foreach (syncs, i, s) {
      double cs = json_number_value (json_object_get (s, "copy_seconds"));
      double bc = json_integer_value (json_object_get (s, "bytes_copied"));
      if (cs > 0.5 && bc / cs > tput)
        tput = bc / cs;
    }
  }
  if (tput <= 0)
    tput = 50e6;
  {
    double overhead = duration - secs;        /* snapshot, attach, detach: measured */
    double interval = json_number_value (json_object_get (rec, "interval_s"));
    double conv = config_get_bool (c->cfg, "skip_conversion") ? 0 : 180;
    double shutdown = 30, instance = 30;
    if (interval <= 0)
      interval = 3600;
    predicted = shutdown + rate * interval / tput + overhead + conv + instance;
    cold = shutdown + allocated / tput + overhead + conv + instance;
  }
  json_object_set_new (st->j, "predicted_downtime_s", json_real (predicted));
  json_object_set_new (st->j, "cold_downtime_s", json_real (cold));
  log_info ("VM %s: %s copied %lld of %lld changed bytes in %.1f s; predicted cutover "
            "downtime %.0f s (cold: %.0f s)", vmname,
            c->o->mode == MIGRATE_CUTOVER ? "cutover" : "sync", copied, changed, duration,
            predicted, cold);
  if (json_array_size (syncs) > 1 && c->o->mode == MIGRATE_SYNC && predicted >= cold)
    log_warn ("VM %s: at this change rate a warm cutover will not beat a cold migration", vmname);
  state_save (st);
}
