/* ferry: the vSphere Web Services client (SOAP over HTTPS).
 *
 * One struct vsphere is one logged-in session with vCenter or ESXi, used by
 * one thread at a time.  It keeps the session cookie, logs in again by
 * itself when the server says NotAuthenticated (session expired or
 * terminated), and logs out when closed.  Calls return:
 *    0  success;
 *    1  a SOAP fault (struct vs_fault filled; the caller decides what it
 *       means and reports it, naming the call and the fault type);
 *   -1  no usable answer (transport, TLS, malformed XML): already logged.
 * Every call counts one round trip (vs_round_trips) for benchmarks. */
#ifndef FERRY_VSPHERE_H
#define FERRY_VSPHERE_H

#include <stdbool.h>
#include <jansson.h>
#include <libxml/tree.h>

#include "common/http.h"
#include "vsphere/xml.h"

struct vsphere;

struct vs_opts {
  const char *host;           /* vcenter_hostname or esxi_hostname, host[:port] */
  const char *user;
  const char *password;
  bool insecure;              /* vmware_insecure */
  const char *cacert;         /* vcenter_cacert */
  const char *thumbprint;     /* vddk_thumbprint / vcenter_thumbprint: pin */
};

void vs_fault_free (struct vs_fault *f);

/* Connect and log in.  Returns 0, or an exit code (FERRY_EXIT_SOURCE for
 * an unreachable server, a refused login or TLS trouble; FERRY_EXIT_USAGE
 * for bad options) after logging what went wrong and what to do. */
int vs_connect (const struct vs_opts *opts, struct vsphere **out);
/* Log out (best effort) and free. */
void vs_disconnect (struct vsphere *vs);
/* Connect and log in again as vs did (server, user, TLS settings): a new,
 * independent session (vs_connect's return values).  Safe to call from
 * another thread while vs's owner uses vs. */
int vs_connect_same (const struct vsphere *vs, struct vsphere **out);

/* Call METHOD on the managed object (this_type, this_value) with the
 * argument elements args_xml (already escaped XML, may be NULL).  On 0,
 * *answer is the parsed document (caller frees with xmlFreeDoc); its
 * returnval is vs_xml_child (vs_xml_body (*answer), "returnval"). */
int vs_call (struct vsphere *vs, const char *method, const char *this_type,
             const char *this_value, const char *args_xml, xmlDocPtr *answer,
             struct vs_fault *fault);

/* vs_call with each object of a RetrieveResult answer handed to sink as it
 * is read (xml.h), not kept in *answer. */
int vs_call_into (struct vsphere *vs, const char *method, const char *this_type,
                  const char *this_value, const char *args_xml,
                  const struct vs_object_sink *sink, xmlDocPtr *answer,
                  struct vs_fault *fault);

/* vs_call for the common case: the returnval as json_t (json null when the
 * method returns nothing).  On a fault, logs "vCenter METHOD: TYPE: message"
 * and returns NULL; on -1 returns NULL too. */
json_t *vs_invoke (struct vsphere *vs, const char *method, const char *this_type,
                   const char *this_value, const char *args_xml);

/* Keep the session alive while no SOAP call is made for a long time (a
 * long copy reading disks with the session cookie): a thread calls
 * CurrentTime on its own connection every interval_s seconds (300 if 0).
 * vs_disconnect stops it.  The cookie it holds is the one at start; after a
 * re-login, restart it. */
int vs_keepalive_start (struct vsphere *vs, int interval_s);
void vs_keepalive_stop (struct vsphere *vs);

/* ServiceContent as json ({rootFolder, propertyCollector, viewManager,
 * sessionManager, about{apiVersion, fullName, apiType, instanceUuid}, ...}). */
const json_t *vs_service_content (const struct vsphere *vs);
const char *vs_host (const struct vsphere *vs);
unsigned vs_round_trips (const struct vsphere *vs);
/* Changes whenever the session was renewed (re-login): objects scoped to a
 * session, such as views, must then be made again. */
unsigned vs_session_generation (const struct vsphere *vs);
struct http *vs_http (struct vsphere *vs);
/* The session cookie value (for datastore and NFC HTTP), borrowed. */
const char *vs_cookie (struct vsphere *vs);

/* Property collector.
 * vs_retrieve: one RetrievePropertiesEx with the given <specSet> body (one
 * or more specSet elements, escaped XML), following ContinueRetrieve-
 * PropertiesEx tokens.  Returns an array of
 *   {"obj": {"type","value"}, "props": {"path": value, ...},
 *    "missing": {"path": "fault type", ...}}
 * or NULL after logging. */
json_t *vs_retrieve (struct vsphere *vs, const char *specset_xml);
/* As vs_retrieve, but a SOAP fault is returned in *f, not logged. */
json_t *vs_retrieve_fault (struct vsphere *vs, const char *specset_xml, struct vs_fault *f);
/* As vs_retrieve_fault, but each object is handed to sink as soon as it is
 * read, and none is kept: memory stays that of one object, whatever the
 * inventory's size.  0, 1 for a SOAP fault (*f), -1 (logged). */
int vs_retrieve_each (struct vsphere *vs, const char *specset_xml,
                      const struct vs_object_sink *sink, struct vs_fault *f);
/* Make sure the session is alive (some servers answer calls of a dead
 * session with ManagedObjectNotFound rather than NotAuthenticated): 0 if
 * it is, 1 if it was renewed, -1 if logging in again failed. */
int vs_ensure_session (struct vsphere *vs);
int vs_relogin (struct vsphere *vs);
/* Properties of one object: {"path": value} or NULL. */
json_t *vs_get_props (struct vsphere *vs, const char *type, const char *value,
                      const char *const *paths);
/* A ContainerView of container (type/value) over the given types, recursive.
 * Returns the view moref value (malloc'd) or NULL. */
char *vs_create_view (struct vsphere *vs, const char *ctype, const char *cvalue,
                      const char *const *types);
void vs_destroy_view (struct vsphere *vs, const char *view);

/* Wait for a Task to finish.  Returns 0 and *result (info.result, may be
 * json null; may be NULL if not wanted) on success; on error logs
 * "WHAT: fault type: message" and returns -1. */
int vs_wait_task (struct vsphere *vs, const json_t *task, const char *what, json_t **result);

#endif
