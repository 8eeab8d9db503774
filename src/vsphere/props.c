/* ferry: vSphere property collector: views, RetrievePropertiesEx with
 * paging, single-object reads, and task waiting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "vsphere/vsphere.h"
#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

int
vs_retrieve_each (struct vsphere *vs, const char *specset_xml,
                  const struct vs_object_sink *sink, struct vs_fault *f)
{
  const json_t *pc = vs_get (vs_service_content (vs), "propertyCollector");
  CLEANUP_FREE char *args = xasprintf ("%s<options><maxObjects>1000</maxObjects></options>",
                                       specset_xml);
  char *token = NULL;
  xmlDocPtr doc = NULL;
  int r;

  if (args == NULL)
    return -1;
  r = vs_call_into (vs, "RetrievePropertiesEx", vs_str (pc, "type"), vs_str (pc, "value"),
                    args, sink, &doc, f);
  while (r == 0) {
    /* The objects went to the sink; the paging token stays in the answer. */
    xmlNodePtr rv = vs_xml_child (vs_xml_body (doc), "returnval");
    free (token);
    token = rv ? vs_xml_token (rv) : NULL;
    xmlFreeDoc (doc);
    doc = NULL;
    if (token == NULL)
      return 0;
    {
      CLEANUP_FREE char *t = vs_xml_escape (token);
      CLEANUP_FREE char *cargs = xasprintf ("<token>%s</token>", t);
      r = vs_call_into (vs, "ContinueRetrievePropertiesEx", vs_str (pc, "type"),
                        vs_str (pc, "value"), cargs, sink, &doc, f);
    }
  }
  free (token);
  return r;
}

/* A sink that keeps every object in a json array. */
static int
keep_object (void *array, const json_t *object)
{
  return json_array_append ((json_t *) array, (json_t *) object);
}

static void
forget_objects (void *array, size_t n)
{
  size_t size = json_array_size (array);

  while (n-- && size)
    json_array_remove (array, --size);
}

json_t *
vs_retrieve_fault (struct vsphere *vs, const char *specset_xml, struct vs_fault *f)
{
  json_t *out = json_array ();
  struct vs_object_sink keep = { keep_object, forget_objects, out };

  if (out && vs_retrieve_each (vs, specset_xml, &keep, f) == 0)
    return out;
  json_decref (out);
  return NULL;
}

json_t *
vs_retrieve (struct vsphere *vs, const char *specset_xml)
{
  struct vs_fault f = { 0 };
  json_t *out = vs_retrieve_fault (vs, specset_xml, &f);

  if (out == NULL && f.type) {
    log_error ("%s RetrievePropertiesEx: %s: %s", vs_host (vs), f.type, f.message);
    vs_fault_free (&f);
  }
  return out;
}

int
vs_ensure_session (struct vsphere *vs)
{
  const json_t *sm = vs_get (vs_service_content (vs), "sessionManager");
  static const char *const paths[] = { "currentSession", NULL };
  unsigned gen = vs_session_generation (vs);
  CLEANUP_JSON json_t *p = vs_get_props (vs, vs_str (sm, "type"), vs_str (sm, "value"), paths);

  if (vs_session_generation (vs) != gen)
    return 1;                         /* renewed by vs_call on NotAuthenticated */
  if (p && vs_str (json_object_get (p, "currentSession"), "key"))
    return 0;
  log_info ("%s: the session is gone; logging in again", vs_host (vs));
  return vs_relogin (vs) == 0 ? 1 : -1;
}

static char *
pathset_xml (const char *const *paths)
{
  size_t n = 1;
  char *out, *o;

  for (size_t i = 0; paths[i]; i++)
    n += strlen (paths[i]) + 21;
  out = o = malloc (n);
  if (out == NULL)
    return NULL;
  *o = '\0';
  for (size_t i = 0; paths[i]; i++)
    o += sprintf (o, "<pathSet>%s</pathSet>", paths[i]);
  return out;
}

json_t *
vs_get_props (struct vsphere *vs, const char *type, const char *value,
              const char *const *paths)
{
  CLEANUP_FREE char *ps = pathset_xml (paths);
  CLEANUP_FREE char *ev = vs_xml_escape (value);
  CLEANUP_FREE char *spec = xasprintf ("<specSet><propSet><type>%s</type>%s</propSet>"
                                       "<objectSet><obj type=\"%s\">%s</obj></objectSet>"
                                       "</specSet>", type, ps, type, ev);
  CLEANUP_JSON json_t *res = vs_retrieve (vs, spec);
  json_t *props;

  if (res == NULL)
    return NULL;
  props = vs_get (json_array_get (res, 0), "props");
  return props ? json_incref (props) : json_object ();
}

char *
vs_create_view (struct vsphere *vs, const char *ctype, const char *cvalue,
                const char *const *types)
{
  const json_t *vm = vs_get (vs_service_content (vs), "viewManager");
  CLEANUP_FREE char *ev = vs_xml_escape (cvalue);
  CLEANUP_FREE char *args = NULL;
  CLEANUP_JSON json_t *r = NULL;
  size_t n = 200 + strlen (ev);
  char *t;

  for (size_t i = 0; types[i]; i++)
    n += strlen (types[i]) + 14;
  args = malloc (n);
  if (args == NULL)
    return NULL;
  t = args + sprintf (args, "<container type=\"%s\">%s</container>", ctype, ev);
  for (size_t i = 0; types[i]; i++)
    t += sprintf (t, "<type>%s</type>", types[i]);
  sprintf (t, "<recursive>true</recursive>");
  r = vs_invoke (vs, "CreateContainerView", vs_str (vm, "type"), vs_str (vm, "value"), args);
  if (r == NULL || vs_str (r, "value") == NULL)
    return NULL;
  return strdup (vs_str (r, "value"));
}

void
vs_destroy_view (struct vsphere *vs, const char *view)
{
  json_t *r = vs_invoke (vs, "DestroyView", "ContainerView", view, NULL);
  json_decref (r);
}


int
vs_wait_task (struct vsphere *vs, const json_t *task, const char *what, json_t **result)
{
  static const char *const paths[] = { "info.state", "info.error", "info.result",
                                       "info.progress", NULL };
  long delay = 100;

  if (result)
    *result = NULL;
  for (;;) {
    CLEANUP_JSON json_t *p = vs_get_props (vs, vs_str (task, "type"),
                                           vs_str (task, "value"), paths);
    const char *state;

    if (p == NULL)
      return -1;
    state = json_string_value (json_object_get (p, "info.state"));
    if (state && strcmp (state, "success") == 0) {
      if (result) {
        json_t *res = json_object_get (p, "info.result");
        *result = res ? json_incref (res) : json_null ();
      }
      return 0;
    }
    if (state && strcmp (state, "error") == 0) {
      json_t *err = json_object_get (p, "info.error");
      const char *ft = vs_str (err, "fault._type");
      const char *msg = vs_str (err, "localizedMessage");
      log_error ("%s: task %s failed: %s%s%s", what, vs_str (task, "value"),
                 ft ? ft : "error", msg && *msg ? ": " : "", msg ? msg : "");
      return -1;
    }
    sleep_ms (delay);
    if (delay < 2000)
      delay *= 2;
  }
}
