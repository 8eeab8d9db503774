/* ferry: vSphere SOAP session: envelope, faults, login, re-login, logout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <pthread.h>

#include "vsphere/vsphere.h"
#include "vsphere/datastore.h"
#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/redact.h"
#include "common/util.h"

struct vsphere {
  struct http *http;
  char *host;
  char *url;                  /* https://host/sdk */
  char *user;
  char *password;
  char *soap_action;          /* urn:vim25/<apiVersion> */
  char *cookie;
  json_t *sc;                 /* ServiceContent */
  unsigned round_trips;
  unsigned generation;        /* bumped by every (re-)login */
  bool logged_in;
  struct http_tls tls;        /* for the keep-alive's own connection */
  char *cacert, *thumbprint;
  /* Keep-alive: a thread with its own connection and the session cookie. */
  pthread_t ka_thread;
  bool ka_running;
  pthread_mutex_t ka_lock;
  pthread_cond_t ka_cond;
  bool ka_stop;
  int ka_interval_s;
};

void
vs_fault_free (struct vs_fault *f)
{
  free (f->type);
  free (f->message);
  f->type = f->message = NULL;
}

const json_t *vs_service_content (const struct vsphere *vs) { return vs->sc; }
const char *vs_host (const struct vsphere *vs) { return vs->host; }
unsigned vs_round_trips (const struct vsphere *vs) { return vs->round_trips; }
unsigned vs_session_generation (const struct vsphere *vs) { return vs->generation; }
struct http *vs_http (struct vsphere *vs) { return vs->http; }
const char *vs_cookie (struct vsphere *vs) { return vs->cookie; }

int vs_keepalive_start (struct vsphere *vs, int interval_s);
void vs_keepalive_stop (struct vsphere *vs);

/* The HTTP layer hands the answer to the XML stream as it arrives. */
static void
answer_begin (void *stream)
{
  vs_xml_stream_begin (stream);
}

static bool
answer_write (void *stream, const char *data, size_t len)
{
  return vs_xml_stream_feed (stream, data, len);
}

/* One SOAP exchange, no re-login; the answer parsed as it arrives, its
 * objects handed to sink (may be NULL). */
static int
call_once_into (struct vsphere *vs, const char *method, const char *this_type,
                const char *this_value, const char *args_xml,
                const struct vs_object_sink *sink, xmlDocPtr *answer, struct vs_fault *fault)
{
  CLEANUP_FREE char *tt = vs_xml_escape (this_type);
  CLEANUP_FREE char *tv = vs_xml_escape (this_value);
  CLEANUP_FREE char *body = NULL;
  CLEANUP_FREE char *action = xasprintf ("SOAPAction: %s", vs->soap_action);
  CLEANUP_FREE char *what = xasprintf ("%s %s", vs->host, method);
  CLEANUP_FREE char *why = NULL;
  const char *headers[] = { "Content-Type: text/xml; charset=utf-8", action, NULL };
  struct http_request req = { 0 };
  struct http_response resp = { 0 };
  struct vs_xml_stream *stream = NULL;
  struct http_body_stream to_stream = { answer_begin, answer_write, NULL };
  xmlDocPtr doc = NULL;
  int r;

  *answer = NULL;
  if (this_type == NULL || this_value == NULL || !*this_type || !*this_value) {
    log_error ("%s: the managed object to call it on is missing from the server's answers "
               "(its service content or an earlier answer lacks a field): is %s a vCenter or "
               "ESXi /sdk endpoint?", what, vs->url);
    return -1;
  }
  body = xasprintf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                    "<soapenv:Envelope xmlns:soapenv=\"" SOAPENV_NS "\" "
                    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
                    "xmlns:xsi=\"" XSI_NS "\">"
                    "<soapenv:Body><%s xmlns=\"" VIM25_NS "\">"
                    "<_this type=\"%s\">%s</_this>%s</%s></soapenv:Body></soapenv:Envelope>",
                    method, tt, tv, args_xml ? args_xml : "", method);
  if (body == NULL || tt == NULL || tv == NULL || action == NULL || what == NULL)
    return -1;
  req.method = "POST";
  req.url = vs->url;
  req.headers = headers;
  req.body = body;
  req.body_len = strlen (body);
  req.what = what;
  req.error_is_answer = true;          /* SOAP faults come as HTTP 500 */
  /* Reads may be resent after a lost answer; calls that change something
   * may not (a duplicated CreateSnapshot would leave a snapshot behind). */
  req.idempotent = strncmp (method, "Retrieve", 8) == 0 || strncmp (method, "Continue", 8) == 0
    || strncmp (method, "Query", 5) == 0 || strcmp (method, "CurrentTime") == 0;
  /* With a sink, the answer is parsed as it arrives and its objects leave
   * it at once; else it is parsed once whole (and within
   * http_max_body_mib): a tree is never built of an answer over the cap. */
  if (sink) {
    stream = vs_xml_stream_new (sink);
    if (stream == NULL)
      return -1;
    to_stream.arg = stream;
    req.stream = &to_stream;
  }
  vs->round_trips++;
  if (http_request (vs->http, &req, &resp) == -1) {
    vs_xml_stream_free (stream);
    return -1;
  }

  r = stream ? vs_xml_stream_end (stream, &doc, fault, &why)
    : vs_parse_answer_why (resp.body, resp.len, &doc, fault, &why);
  if (r == -1)
    log_error ("%s: %s answered HTTP %ld with %s; is this a vSphere /sdk endpoint?",
               what, vs->url, resp.status, why ? why : "an answer ferry can't read");
  vs_xml_stream_free (stream);
  http_response_free (&resp);
  *answer = doc;
  return r;
}

static int
call_once (struct vsphere *vs, const char *method, const char *this_type,
           const char *this_value, const char *args_xml, xmlDocPtr *answer,
           struct vs_fault *fault)
{
  return call_once_into (vs, method, this_type, this_value, args_xml, NULL, answer, fault);
}

static int
login (struct vsphere *vs)
{
  const json_t *sm = vs_get (vs->sc, "sessionManager");
  CLEANUP_FREE char *u = vs_xml_escape (vs->user);
  CLEANUP_FREE char *p = vs_xml_escape (vs->password);
  CLEANUP_FREE char *args = xasprintf ("<userName>%s</userName><password>%s</password>", u, p);
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  int r;

  if (sm == NULL) {
    log_error ("%s: the service content names no sessionManager", vs->host);
    return FERRY_EXIT_SOURCE;
  }
  r = call_once (vs, "Login", vs_str (sm, "type"), vs_str (sm, "value"), args, &doc, &f);
  if (r == -1)
    return FERRY_EXIT_SOURCE;
  if (r == 1) {
    if (strcmp (f.type, "InvalidLogin") == 0)
      log_error ("%s Login: user '%s' was refused (InvalidLogin): check vcenter_username "
                 "and vcenter_password", vs->host, vs->user);
    else
      log_error ("%s Login: %s: %s", vs->host, f.type, f.message);
    vs_fault_free (&f);
    return FERRY_EXIT_SOURCE;
  }
  xmlFreeDoc (doc);
  free (vs->cookie);
  vs->cookie = http_get_cookie (vs->http, "vmware_soap_session");
  if (vs->cookie)
    redact_add_secret (vs->cookie);
  vs->logged_in = true;
  vs->generation++;
  if (vs->ka_running) {                /* it holds the old cookie */
    vs_keepalive_stop (vs);
    vs_keepalive_start (vs, vs->ka_interval_s);
  }
  log_debug ("%s: logged in as %s", vs->host, vs->user);
  return 0;
}

int
vs_relogin (struct vsphere *vs)
{
  return login (vs) == 0 ? 0 : -1;
}

int
vs_call (struct vsphere *vs, const char *method, const char *this_type,
         const char *this_value, const char *args_xml, xmlDocPtr *answer,
         struct vs_fault *fault)
{
  return vs_call_into (vs, method, this_type, this_value, args_xml, NULL, answer, fault);
}

int
vs_call_into (struct vsphere *vs, const char *method, const char *this_type,
              const char *this_value, const char *args_xml,
              const struct vs_object_sink *sink, xmlDocPtr *answer, struct vs_fault *fault)
{
  int r = call_once_into (vs, method, this_type, this_value, args_xml, sink, answer, fault);

  if (r == 1 && strcmp (fault->type, "NotAuthenticated") == 0 && vs->logged_in
      && strcmp (method, "Logout") != 0) {
    log_info ("%s: session expired or ended (NotAuthenticated); logging in again", vs->host);
    vs_fault_free (fault);
    if (login (vs) != 0)
      return -1;
    r = call_once_into (vs, method, this_type, this_value, args_xml, sink, answer, fault);
  }
  return r;
}

json_t *
vs_invoke (struct vsphere *vs, const char *method, const char *this_type,
           const char *this_value, const char *args_xml)
{
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  json_t *out;
  xmlNodePtr rv;
  int r = vs_call (vs, method, this_type, this_value, args_xml, &doc, &f);

  if (r == 1) {
    log_error ("%s %s on %s: %s: %s", vs->host, method, this_value, f.type,
               f.message && *f.message ? f.message : "(no message)");
    vs_fault_free (&f);
    return NULL;
  }
  if (r == -1)
    return NULL;
  rv = vs_xml_child (vs_xml_body (doc), "returnval");
  out = rv ? vs_xml_to_json (rv) : json_null ();
  xmlFreeDoc (doc);
  return out;
}

int
vs_connect (const struct vs_opts *opts, struct vsphere **out)
{
  struct vsphere *vs;
  struct http_tls tls = { opts->insecure, opts->cacert, opts->thumbprint };
  xmlDocPtr doc = NULL;
  struct vs_fault f = { 0 };
  xmlNodePtr rv;
  const char *ver;
  int r;

  *out = NULL;
  if (opts->host == NULL || *opts->host == '\0') {
    log_error ("no vCenter: set vcenter_hostname (or esxi_hostname)");
    return FERRY_EXIT_USAGE;
  }
  if (opts->user == NULL || *opts->user == '\0' || opts->password == NULL) {
    log_error ("%s: set vcenter_username and vcenter_password", opts->host);
    return FERRY_EXIT_USAGE;
  }
  vs = calloc (1, sizeof *vs);
  if (vs == NULL)
    return FERRY_EXIT_FAILED;
  vs->http = http_new (opts->host);
  vs->host = strdup (opts->host);
  vs->url = strncmp (opts->host, "https://", 8) == 0 || strncmp (opts->host, "http://", 7) == 0
    ? xasprintf ("%s", opts->host) : xasprintf ("https://%s/sdk", opts->host);
  vs->user = strdup (opts->user);
  vs->password = strdup (opts->password);
  vs->soap_action = strdup ("urn:vim25/6.5");
  if (!vs->http || !vs->host || !vs->url || !vs->user || !vs->password || !vs->soap_action) {
    vs_disconnect (vs);
    return FERRY_EXIT_FAILED;
  }
  redact_add_secret (opts->password);
  vs->cacert = opts->cacert ? strdup (opts->cacert) : NULL;
  vs->thumbprint = opts->thumbprint ? strdup (opts->thumbprint) : NULL;
  vs->tls = (struct http_tls) { opts->insecure, vs->cacert, vs->thumbprint };
  pthread_mutex_init (&vs->ka_lock, NULL);
  pthread_cond_init (&vs->ka_cond, NULL);
  if (http_set_tls (vs->http, &tls) == -1) {
    vs_disconnect (vs);
    return FERRY_EXIT_USAGE;
  }
  if (opts->insecure && !opts->thumbprint)
    log_warn ("%s: TLS certificate NOT verified (vmware_insecure): anyone on the path "
              "can read the vCenter password; pin vddk_thumbprint instead", opts->host);

  r = call_once (vs, "RetrieveServiceContent", "ServiceInstance", "ServiceInstance",
                 NULL, &doc, &f);
  if (r != 0) {
    if (r == 1) {
      log_error ("%s RetrieveServiceContent: %s: %s", vs->host, f.type, f.message);
      vs_fault_free (&f);
    }
    vs_disconnect (vs);
    return FERRY_EXIT_SOURCE;
  }
  rv = vs_xml_child (vs_xml_body (doc), "returnval");
  vs->sc = rv ? vs_xml_to_json (rv) : NULL;
  xmlFreeDoc (doc);
  if (!json_is_object (vs->sc)) {
    log_error ("%s: RetrieveServiceContent returned no service content", vs->host);
    vs_disconnect (vs);
    return FERRY_EXIT_SOURCE;
  }
  ver = vs_str (vs->sc, "about.apiVersion");
  if (ver && *ver) {
    free (vs->soap_action);
    vs->soap_action = xasprintf ("urn:vim25/%s", ver);
  }
  log_debug ("%s: %s (API %s)", vs->host, vs_str (vs->sc, "about.fullName"), ver);
  r = login (vs);
  if (r) {
    vs_disconnect (vs);
    return r;
  }
  *out = vs;
  return 0;
}

/* Sleep the keep-alive interval, or less if told to stop: true if told to. */
static bool
keepalive_sleep (struct vsphere *vs)
{
  struct timespec until;

  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += vs->ka_interval_s;
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&vs->ka_lock);
  while (!vs->ka_stop
         && pthread_cond_timedwait (&vs->ka_cond, &vs->ka_lock, &until) != ETIMEDOUT)
    ;
  return vs->ka_stop;
}

/* The keep-alive thread: CurrentTime on its own connection, with the
 * session cookie, every ka_interval_s, so the session never idles out
 * while the disks are read with it (datastore HTTPS, export leases) and
 * no SOAP call is made for minutes. */
static void *
keepalive_main (void *arg)
{
  struct vsphere *vs = arg;
  struct http *h = http_new (vs->host);
  CLEANUP_FREE char *action = NULL;
  CLEANUP_FREE char *cookie = NULL;
  CLEANUP_FREE char *host = NULL;
  const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<soapenv:Envelope xmlns:soapenv=\"" SOAPENV_NS "\"><soapenv:Body>"
    "<CurrentTime xmlns=\"" VIM25_NS "\"><_this type=\"ServiceInstance\">ServiceInstance"
    "</_this></CurrentTime></soapenv:Body></soapenv:Envelope>";

  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&vs->ka_lock);
    action = xasprintf ("SOAPAction: %s", vs->soap_action);
    cookie = vs->cookie ? strdup (vs->cookie) : NULL;
    host = strdup (vs->host);
  }
  if (h && host) {
    char *colon = strchr (host, ':');
    if (colon)
      *colon = '\0';
    http_set_tls (h, &vs->tls);
    if (cookie)
      http_set_cookie (h, host, "vmware_soap_session", cookie);
  }
  for (;;) {
    if (keepalive_sleep (vs) || h == NULL)
      break;
    {
      const char *headers[] = { "Content-Type: text/xml; charset=utf-8", action, NULL };
      struct http_request req = { .method = "POST", .url = vs->url, .headers = headers,
                                  .body = body, .body_len = strlen (body), .idempotent = true,
                                  .error_is_answer = true, .what = "vCenter keep-alive" };
      struct http_response resp = { 0 };
      if (http_request (h, &req, &resp) == 0)
        log_debug ("%s: keep-alive: HTTP %ld", vs->host, resp.status);
      http_response_free (&resp);
    }
  }
  http_free (h);
  return NULL;
}

int
vs_keepalive_start (struct vsphere *vs, int interval_s)
{
  if (vs->ka_running)
    return 0;
  vs->ka_stop = false;
  vs->ka_interval_s = interval_s > 0 ? interval_s : 300;
  if (pthread_create (&vs->ka_thread, NULL, keepalive_main, vs) != 0) {
    log_warn ("%s: cannot start the session keep-alive: %s", vs->host, strerror (errno));
    return -1;
  }
  vs->ka_running = true;
  return 0;
}

void
vs_keepalive_stop (struct vsphere *vs)
{
  if (!vs->ka_running)
    return;
  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&vs->ka_lock);
    vs->ka_stop = true;
    pthread_cond_signal (&vs->ka_cond);
  }
  pthread_join (vs->ka_thread, NULL);
  vs->ka_running = false;
}

/* A second session with vs's server, user and TLS settings, on a
 * connection of its own.  Reads only what vs_connect set, so another
 * thread may call it while vs's owner uses vs. */
int
vs_connect_same (const struct vsphere *vs, struct vsphere **out)
{
  struct vs_opts o = { .host = vs->host, .user = vs->user, .password = vs->password,
                       .insecure = vs->tls.insecure, .cacert = vs->cacert,
                       .thumbprint = vs->thumbprint };

  return vs_connect (&o, out);
}

void
vs_disconnect (struct vsphere *vs)
{
  if (vs == NULL)
    return;
  vs_datastore_forget (vs);             /* datastore.c: no reader renews through vs now */
  vs_keepalive_stop (vs);
  if (vs->logged_in) {
    const json_t *sm = vs_get (vs->sc, "sessionManager");
    struct vs_fault f = { 0 };
    xmlDocPtr doc = NULL;
    vs->logged_in = false;
    if (call_once (vs, "Logout", vs_str (sm, "type"), vs_str (sm, "value"), NULL, &doc, &f) == 0)
      xmlFreeDoc (doc);
    vs_fault_free (&f);
  }
  http_free (vs->http);
  free (vs->host);
  free (vs->url);
  free (vs->user);
  free (vs->password);
  free (vs->soap_action);
  free (vs->cookie);
  free (vs->cacert);
  free (vs->thumbprint);
  json_decref (vs->sc);
  pthread_mutex_destroy (&vs->ka_lock);
  pthread_cond_destroy (&vs->ka_cond);
  free (vs);
}
