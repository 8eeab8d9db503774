/* ferry: SOAP/XML helpers, see xml.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/util.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_ (x)

/* The limits of xml.h, checked by libxml2's SAX2 callbacks as the tree is
 * built, so that it never grows past them. */
struct guard {
  startElementNsSAX2Func start;         /* libxml2's own, which builds the tree */
  unsigned long elements;
  const char *why;                      /* the limit hit, or NULL */
};

static void
guard_start (void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
             int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
             int nb_defaulted, const xmlChar **attributes)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct guard *g = ctxt->_private;

  /* nameNr: the open ancestors.  Checked before the element is made, and
   * before libxml2's own limit (256, with advice about XML_PARSE_HUGE). */
  if (ctxt->nameNr >= VS_XML_MAX_DEPTH)
    g->why = "XML nested deeper than " STRINGIFY (VS_XML_MAX_DEPTH) " levels";
  else if (++g->elements > VS_XML_MAX_ELEMENTS)
    g->why = "XML of more than " STRINGIFY (VS_XML_MAX_ELEMENTS) " elements";
  if (g->why) {
    xmlStopParser (ctxt);
    return;
  }
  g->start (ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
            nb_defaulted, attributes);
}

/* Called at <!DOCTYPE, before its entity declarations are read. */
static void
guard_dtd (void *ctx, const xmlChar *name, const xmlChar *external_id,
           const xmlChar *system_id)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct guard *g = ctxt->_private;

  (void) name;
  (void) external_id;
  (void) system_id;
  g->why = "XML with a document type declaration (<!DOCTYPE>), which SOAP forbids";
  xmlStopParser (ctxt);
}

/* Parse within the limits; NULL and *why (malloc'd) when the answer is not
 * well-formed XML or is over a limit. */
static xmlDocPtr
parse_guarded (const char *data, size_t len, char **why)
{
  xmlParserCtxtPtr ctxt;
  struct guard g = { 0 };
  xmlDocPtr doc;

  *why = NULL;
  if (len == 0) {
    *why = strdup ("an empty body");
    return NULL;
  }
  if (len > (size_t) INT_MAX) {
    *why = strdup ("XML too large for libxml2 (2 GiB or more)");
    return NULL;
  }
  ctxt = xmlNewParserCtxt ();
  if (ctxt == NULL)
    return NULL;
  ctxt->_private = &g;
  g.start = ctxt->sax->startElementNs;
  ctxt->sax->startElementNs = guard_start;
  ctxt->sax->internalSubset = guard_dtd;
  /* No XML_PARSE_HUGE: libxml2's own limits stay (entity amplification,
   * text node size, depth); no XML_PARSE_NOENT or DTDLOAD: nothing is
   * substituted or fetched. */
  doc = xmlCtxtReadMemory (ctxt, data, (int) len, "soap.xml", NULL,
                           XML_PARSE_NONET | XML_PARSE_NOBLANKS
                           | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (g.why) {
    xmlFreeDoc (doc);         /* what was built before the stop */
    doc = NULL;
    *why = strdup (g.why);
  }
  else if (doc == NULL) {
    xmlErrorPtr e = xmlCtxtGetLastError (ctxt);
    size_t l = e && e->message ? strlen (e->message) : 0;
    while (l && (e->message[l-1] == '\n' || e->message[l-1] == ' '))
      l--;
    *why = e && e->message
      ? xasprintf ("something that is not well-formed XML (line %d: %.*s)", e->line,
                   (int) l, e->message)
      : strdup ("something that is not well-formed XML");
  }
  xmlFreeParserCtxt (ctxt);
  return doc;
}

xmlDocPtr
vs_xml_parse (const char *data, size_t len)
{
  CLEANUP_FREE char *why = NULL;

  return parse_guarded (data, len, &why);
}

static bool
is_elem (xmlNodePtr n, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE
    && (name == NULL || xmlStrcmp (n->name, (const xmlChar *) name) == 0);
}

xmlNodePtr
vs_xml_child (xmlNodePtr n, const char *name)
{
  if (n == NULL)
    return NULL;
  for (xmlNodePtr c = n->children; c; c = c->next)
    if (is_elem (c, name))
      return c;
  return NULL;
}

xmlNodePtr
vs_xml_next (xmlNodePtr n, const char *name)
{
  for (xmlNodePtr c = n ? n->next : NULL; c; c = c->next)
    if (is_elem (c, name))
      return c;
  return NULL;
}

xmlNodePtr
vs_xml_body (xmlDocPtr doc)
{
  xmlNodePtr root = doc ? xmlDocGetRootElement (doc) : NULL;
  xmlNodePtr body;

  if (root == NULL || !is_elem (root, "Envelope"))
    return NULL;
  body = vs_xml_child (root, "Body");
  return vs_xml_child (body, NULL);
}

char *
vs_xml_text (xmlNodePtr n)
{
  xmlChar *t = n ? xmlNodeGetContent (n) : NULL;
  char *s = strdup (t ? (const char *) t : "");
  xmlFree (t);
  return s;
}

char *
vs_xml_type (xmlNodePtr n)
{
  xmlChar *t = xmlGetNsProp (n, (const xmlChar *) "type", (const xmlChar *) XSI_NS);
  const char *colon;
  char *s;

  if (t == NULL)
    return NULL;
  colon = strchr ((const char *) t, ':');
  s = strdup (colon ? colon + 1 : (const char *) t);
  xmlFree (t);
  return s;
}

static bool
has_child_elements (xmlNodePtr n)
{
  for (xmlNodePtr c = n->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return true;
  return false;
}

/* Children deeper than VS_XML_MAX_DEPTH below n become null rather than
 * deepen the recursion (vs_parse_answer refuses such answers anyway). */
static json_t *
to_json (xmlNodePtr n, unsigned depth)
{
  char *type = vs_xml_type (n);
  json_t *out;

  if (type && strncmp (type, "ArrayOf", 7) == 0) {
    out = json_array ();
    for (xmlNodePtr c = n->children; c; c = c->next)
      if (c->type == XML_ELEMENT_NODE)
        json_array_append_new (out, depth < VS_XML_MAX_DEPTH ? to_json (c, depth + 1)
                               : json_null ());
  }
  else if (has_child_elements (n)) {
    out = json_object ();
    if (type)
      json_object_set_new (out, "_type", json_string (type));
    for (xmlNodePtr c = n->children; c; c = c->next) {
      const char *k;
      json_t *v, *prev;
      if (c->type != XML_ELEMENT_NODE)
        continue;
      k = (const char *) c->name;
      v = depth < VS_XML_MAX_DEPTH ? to_json (c, depth + 1) : json_null ();
      prev = json_object_get (out, k);
      if (prev == NULL)
        json_object_set_new (out, k, v);
      else {
        /* Second occurrence: make (or extend) an array.  Arrays we built
         * are marked, so an ArrayOf value (already an array) is never
         * taken for one. */
        char *mark = xasprintf ("\x01%s", k);
        if (mark == NULL)
          json_decref (v);
        else if (json_object_get (out, mark))
          json_array_append_new (prev, v);
        else {
          json_t *a = json_array ();
          json_array_append (a, prev);
          json_array_append_new (a, v);
          json_object_set_new (out, k, a);
          json_object_set_new (out, mark, json_true ());
        }
        free (mark);
      }
    }
    /* Drop the array marks. */
    {
      const char *k;
      json_t *v;
      void *tmp;
      json_object_foreach_safe (out, tmp, k, v)
        if (k[0] == '\x01')
          json_object_del (out, k);
    }
  }
  else {
    char *text = vs_xml_text (n);
    xmlChar *mortype = xmlGetNoNsProp (n, (const xmlChar *) "type");
    if (mortype && (type == NULL || strcmp (type, "ManagedObjectReference") == 0)) {
      out = json_pack ("{s:s, s:s}", "type", (const char *) mortype, "value", text);
    }
    else if (type && (strcmp (type, "int") == 0 || strcmp (type, "long") == 0
                      || strcmp (type, "short") == 0 || strcmp (type, "byte") == 0)) {
      out = json_integer (strtoll (text, NULL, 10));
    }
    else if (type && strcmp (type, "boolean") == 0)
      out = json_boolean (strcmp (text, "true") == 0 || strcmp (text, "1") == 0);
    else
      out = json_string (text);
    if (out == NULL)          /* invalid UTF-8 */
      out = json_string ("");
    xmlFree (mortype);
    free (text);
  }
  free (type);
  return out;
}

json_t *
vs_xml_to_json (xmlNodePtr n)
{
  return to_json (n, 1);
}

char *
vs_xml_escape (const char *s)
{
  size_t n = 1;
  char *out, *o;

  if (s == NULL)                /* a field missing from a server's answer */
    s = "";
  for (const char *p = s; *p; p++)
    n += (*p == '&') ? 5 : (*p == '<' || *p == '>') ? 4 : (*p == '"' || *p == '\'') ? 6 : 1;
  out = o = malloc (n);
  if (out == NULL)
    return NULL;
  for (const char *p = s; *p; p++) {
    switch (*p) {
    case '&': memcpy (o, "&amp;", 5); o += 5; break;
    case '<': memcpy (o, "&lt;", 4); o += 4; break;
    case '>': memcpy (o, "&gt;", 4); o += 4; break;
    case '"': memcpy (o, "&quot;", 6); o += 6; break;
    case '\'': memcpy (o, "&apos;", 6); o += 6; break;
    default: *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}

json_t *
vs_get (const json_t *obj, const char *path)
{
  const json_t *cur = obj;
  const char *p = path;

  while (cur && *p) {
    const char *dot = strchr (p, '.');
    size_t len = dot ? (size_t) (dot - p) : strlen (p);
    char key[128];
    if (len >= sizeof key || !json_is_object (cur))
      return NULL;
    memcpy (key, p, len);
    key[len] = '\0';
    cur = json_object_get (cur, key);
    p = dot ? dot + 1 : p + len;
  }
  return (json_t *) cur;
}

const char *
vs_str (const json_t *obj, const char *path)
{
  return json_string_value (vs_get (obj, path));
}

long long
vs_int (const json_t *obj, const char *path, long long dflt)
{
  json_t *v = vs_get (obj, path);
  if (json_is_integer (v))
    return json_integer_value (v);
  if (json_is_string (v) && *json_string_value (v)) {
    char *end;
    long long r = strtoll (json_string_value (v), &end, 10);
    if (*end == '\0')
      return r;
  }
  return dflt;
}

bool
vs_bool (const json_t *obj, const char *path, bool dflt)
{
  json_t *v = vs_get (obj, path);
  if (json_is_boolean (v))
    return json_is_true (v);
  if (json_is_string (v)) {
    if (strcmp (json_string_value (v), "true") == 0) return true;
    if (strcmp (json_string_value (v), "false") == 0) return false;
  }
  return dflt;
}

json_t *
vs_array (const json_t *obj, const char *path)
{
  json_t *v = path ? vs_get (obj, path) : (json_t *) obj;
  json_t *a;

  if (json_is_array (v))
    return json_incref (v);
  a = json_array ();
  if (v && !(json_is_string (v) && json_string_length (v) == 0))
    json_array_append (a, v);
  return a;
}

int
vs_parse_answer (const char *data, size_t len, xmlDocPtr *answer, struct vs_fault *fault)
{
  CLEANUP_FREE char *why = NULL;

  return vs_parse_answer_why (data, len, answer, fault, &why);
}

int
vs_parse_answer_why (const char *data, size_t len, xmlDocPtr *answer,
                     struct vs_fault *fault, char **why)
{
  xmlDocPtr doc = parse_guarded (data, len, why);
  xmlNodePtr b;

  *answer = NULL;
  if (doc == NULL)
    return -1;
  if ((b = vs_xml_body (doc)) == NULL) {
    xmlFreeDoc (doc);
    *why = strdup ("XML that is not a SOAP envelope");
    return -1;
  }
  if (xmlStrcmp (b->name, (const xmlChar *) "Fault") == 0) {
    xmlNodePtr detail = vs_xml_child (b, "detail");
    xmlNodePtr d = vs_xml_child (detail, NULL);
    fault->message = vs_xml_text (vs_xml_child (b, "faultstring"));
    if (d) {
      fault->type = vs_xml_type (d);
      if (fault->type == NULL) {
        const char *n = (const char *) d->name;
        size_t l = strlen (n);
        fault->type = (l > 5 && strcmp (n + l - 5, "Fault") == 0) ? strndup (n, l - 5)
          : strdup (n);
      }
    }
    else
      fault->type = strdup ("SystemError");
    xmlFreeDoc (doc);
    return 1;
  }
  *answer = doc;
  return 0;
}

char *
vs_xml_collect_objects (xmlNodePtr rv, json_t *out)
{
  char *token = NULL;

  for (xmlNodePtr o = vs_xml_child (rv, "objects"); o; o = vs_xml_next (o, "objects")) {
    json_t *obj = json_object ();
    json_t *props = json_object ();
    json_t *missing = json_object ();
    xmlNodePtr on = vs_xml_child (o, "obj");

    json_object_set_new (obj, "obj", on ? vs_xml_to_json (on) : json_null ());
    for (xmlNodePtr p = vs_xml_child (o, "propSet"); p; p = vs_xml_next (p, "propSet")) {
      char *name = vs_xml_text (vs_xml_child (p, "name"));
      xmlNodePtr val = vs_xml_child (p, "val");
      if (name)
        json_object_set_new (props, name, val ? vs_xml_to_json (val) : json_null ());
      free (name);
    }
    for (xmlNodePtr m = vs_xml_child (o, "missingSet"); m; m = vs_xml_next (m, "missingSet")) {
      char *path = vs_xml_text (vs_xml_child (m, "path"));
      xmlNodePtr fault = vs_xml_child (vs_xml_child (m, "fault"), "fault");
      char *t = fault ? vs_xml_type (fault) : NULL;
      if (path)
        json_object_set_new (missing, path, json_string (t ? t : "unknown"));
      free (path);
      free (t);
    }
    json_object_set_new (obj, "props", props);
    json_object_set_new (obj, "missing", missing);
    json_array_append_new (out, obj);
  }
  if (vs_xml_child (rv, "token"))
    token = vs_xml_text (vs_xml_child (rv, "token"));
  return token;
}
