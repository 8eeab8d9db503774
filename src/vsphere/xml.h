/* ferry: SOAP/XML helpers for the vSphere client (libxml2, namespace-aware).
 *
 * vSphere answers are turned into json_t with a generic rule, so the rest
 * of ferry never walks XML:
 *  - an element with child elements -> object (repeated names -> array);
 *    its xsi:type (whatever the prefix) -> "_type";
 *  - ArrayOfXxx values -> arrays;
 *  - a ManagedObjectReference -> {"type": T, "value": V};
 *  - text -> string, or integer/boolean when xsi:type says xsd:int/long/
 *    short/byte/boolean.
 * Nested values without xsi:type stay strings: use the vs_* accessors. */
#ifndef FERRY_VSPHERE_XML_H
#define FERRY_VSPHERE_XML_H

#include <stdbool.h>
#include <jansson.h>
#include <libxml/tree.h>

#define VIM25_NS "urn:vim25"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define SOAPENV_NS "http://schemas.xmlsoap.org/soap/envelope/"

/* What an answer may be, checked while it is parsed, so that a broken or
 * hostile server can't exhaust memory or the stack: no DTD (SOAP forbids
 * them: no entities to expand), at most this deep (vSphere's own nest
 * below 50, with 32-deep snapshot trees and disk backing chains), at most
 * this many elements (vSphere's XML takes ~40 bytes an element: a 256 MiB
 * answer, http_max_body_mib's default, has 6.7 million).  libxml2's own
 * limits stay on (no XML_PARSE_HUGE): entity amplification, 10 MB text
 * nodes. */
#define VS_XML_MAX_DEPTH 256
#define VS_XML_MAX_ELEMENTS 8000000
/* An answer read with a sink (vs_xml_stream) keeps as a tree only what is
 * around its objects: a RetrieveResult's envelope, token or fault, a
 * dozen elements. */
#define VS_XML_MAX_TREE_ELEMENTS 10000

/* Parse a SOAP answer; NULL if it is not well-formed XML or is over a
 * limit. */
xmlDocPtr vs_xml_parse (const char *data, size_t len);
/* The first child element of the SOAP Body, or NULL. */
xmlNodePtr vs_xml_body (xmlDocPtr doc);
/* First child element with this local name (any namespace), or NULL. */
xmlNodePtr vs_xml_child (xmlNodePtr n, const char *name);
/* Next sibling element with this local name, or NULL. */
xmlNodePtr vs_xml_next (xmlNodePtr n, const char *name);
/* Text content (malloc'd, "" if none). */
char *vs_xml_text (xmlNodePtr n);
/* xsi:type local part (after any prefix), malloc'd, or NULL. */
char *vs_xml_type (xmlNodePtr n);

/* Convert an element to json_t as described above; elements deeper than
 * VS_XML_MAX_DEPTH below it (only in a tree not made by vs_parse_answer)
 * become null. */
json_t *vs_xml_to_json (xmlNodePtr n);

/* Parse a SOAP answer: 0 and *answer (free with xmlFreeDoc); 1 for a SOAP
 * fault (fault filled: type from the detail's xsi:type, message from
 * faultstring); -1 if it is not a SOAP envelope.  Survives any input. */
struct vs_fault {
  char *type;                 /* "NotAuthenticated", "InvalidLogin", ... */
  char *message;              /* faultstring */
};
int vs_parse_answer (const char *data, size_t len, xmlDocPtr *answer, struct vs_fault *fault);
/* The same; on -1, *why (malloc'd) completes "answered HTTP N with ...":
 * "an empty body", "XML nested deeper than 256 levels", ... */
int vs_parse_answer_why (const char *data, size_t len, xmlDocPtr *answer,
                         struct vs_fault *fault, char **why);

/* Append the objects of a RetrieveResult (returnval) to out as
 * {"obj", "props", "missing"}; return its paging token (malloc'd) or NULL. */
char *vs_xml_collect_objects (xmlNodePtr rv, json_t *out);
/* One object of a RetrieveResult (an objects element) as
 * {"obj", "props", "missing"}. */
json_t *vs_xml_object_to_json (xmlNodePtr objects);
/* The paging token of a RetrieveResult (returnval), malloc'd, or NULL. */
char *vs_xml_token (xmlNodePtr rv);

/* An answer read as it arrives, piece by piece, with the limits of
 * vs_parse_answer_why checked as it grows.  With a sink, each object of a
 * RetrieveResult (an objects element of the returnval) is handed over as
 * {"obj", "props", "missing"} as soon as its end tag is read, and its XML
 * freed: a retrieval of 10,000 VMs never holds more than one VM's XML. */
struct vs_object_sink {
  /* Take one object (borrowed): 0, or -1 to stop reading (out of memory). */
  int (*take) (void *arg, const json_t *object);
  /* Forget the last n objects taken: their answer is being read again
   * (the HTTP layer retries after a lost connection). */
  void (*forget) (void *arg, size_t n);
  void *arg;
};
struct vs_xml_stream;
/* sink may be NULL: the whole document is kept. */
struct vs_xml_stream *vs_xml_stream_new (const struct vs_object_sink *sink);
void vs_xml_stream_free (struct vs_xml_stream *s);
/* Start reading an answer, or start again: what was read is dropped (and
 * the objects given to the sink forgotten). */
int vs_xml_stream_begin (struct vs_xml_stream *s);
/* The next piece of the answer.  false: stop reading (the sink said so);
 * malformed or over-limit XML is not a reason: the rest is read and
 * ignored, and vs_xml_stream_end says why. */
bool vs_xml_stream_feed (struct vs_xml_stream *s, const char *data, size_t len);
/* The whole answer was fed: vs_parse_answer_why's results, with *answer
 * the document without the objects handed to the sink (its returnval
 * keeps the paging token). */
int vs_xml_stream_end (struct vs_xml_stream *s, xmlDocPtr *answer, struct vs_fault *fault,
                       char **why);

/* Escape text for inclusion in XML (malloc'd). */
char *vs_xml_escape (const char *s);

/* Accessors tolerant of the string/number forms.  path is dotted
 * ("hardware.numCPU"); NULL-safe. */
json_t *vs_get (const json_t *obj, const char *path);
const char *vs_str (const json_t *obj, const char *path);
long long vs_int (const json_t *obj, const char *path, long long dflt);
bool vs_bool (const json_t *obj, const char *path, bool dflt);
/* The value as an array: arrays as they are, one value as a one-item
 * array, missing as empty.  New reference. */
json_t *vs_array (const json_t *obj, const char *path);

#endif
