/* ferry: SOAP/XML helpers, see xml.h. */
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "vsphere/xml.h"
#include "common/util.h"

xmlDocPtr
vs_xml_parse (const char *data, size_t len)
{
  if (len > (size_t) 0x7fffffff)
    return NULL;
  return xmlReadMemory (data, (int) len, "soap.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_HUGE
                        | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
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

json_t *
vs_xml_to_json (xmlNodePtr n)
{
  char *type = vs_xml_type (n);
  json_t *out;

  if (type && strncmp (type, "ArrayOf", 7) == 0) {
    out = json_array ();
    for (xmlNodePtr c = n->children; c; c = c->next)
      if (c->type == XML_ELEMENT_NODE)
        json_array_append_new (out, vs_xml_to_json (c));
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
      v = vs_xml_to_json (c);
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
  xmlDocPtr doc = vs_xml_parse (data, len);
  xmlNodePtr b;

  *answer = NULL;
  if (doc == NULL || (b = vs_xml_body (doc)) == NULL) {
    if (doc)
      xmlFreeDoc (doc);
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
