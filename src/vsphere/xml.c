/* ferry: SOAP/XML helpers, see xml.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "vsphere/xml.h"
#include "common/cleanup.h"
#include "common/util.h"
#include "common/vector.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_ (x)

/* An object of a RetrieveResult made into json straight from the parser's
 * events, without a tree: one frame per open element, from the objects
 * element down.  The value of an element follows vs_xml_to_json's rule;
 * the objects, propSet and missingSet elements around the values follow
 * vs_xml_object_to_json's (the tree-based reference, which
 * tests/unit/test-xml-stream.c and the SOAP fuzz target hold this to). */
enum role {
  ROLE_OBJECTS,               /* the objects element: {"obj", "props", "missing"} */
  ROLE_OBJ,                   /* its first obj: a value */
  ROLE_PROPSET,               /* a propSet: name and val */
  ROLE_PROP_NAME,             /* a propSet's first name: text */
  ROLE_PROP_VAL,              /* a propSet's first val: a value */
  ROLE_MISSING,               /* a missingSet: path and fault */
  ROLE_MISSING_PATH,          /* its first path: text */
  ROLE_MISSING_FAULT,         /* its first fault, whose first fault has the type */
  ROLE_VALUE,                 /* an element inside a value */
  ROLE_TEXT,                  /* an element inside a name or path: its text counts */
  ROLE_IGNORED,               /* anything else, with all inside it */
};

struct frame {
  enum role role;
  char *xsi_type;             /* xsi:type's local part, or NULL */
  char *mor_type;             /* the type attribute without namespace, or NULL */
  json_t *value;              /* once a child element came: the object or array */
  json_t *made_arrays;        /* keys of value whose arrays this frame made */
  char *text;                 /* character data, while it may count */
  size_t text_len, text_cap;
  bool has_children;          /* element children */
  /* ROLE_OBJECTS: the result, and which children were seen first. */
  json_t *result, *props, *missing;
  bool seen_obj;
  /* ROLE_PROPSET, ROLE_MISSING: their parts. */
  char *name;                 /* the name or path, NULL until seen */
  json_t *val;                /* the val, NULL until seen */
  bool seen_val, seen_fault, seen_inner_fault;
  char *fault_type;           /* xsi:type of the missingSet's fault/fault */
};

DEFINE_VECTOR_TYPE (frame_vector, struct frame)

/* An answer being read: libxml2's push parser, fed as the answer arrives,
 * building the tree of the envelope with its own SAX2 callbacks behind
 * ours, which check the limits of xml.h before anything grows past them
 * and, with a sink, make each object of a RetrieveResult into json
 * without a tree. */
struct vs_xml_stream {
  xmlParserCtxtPtr ctxt;
  struct vs_object_sink sink;
  bool has_sink;
  xmlSAXHandler tree;                   /* libxml2's own, which build the tree */
  frame_vector frames;                  /* open elements of an object, or empty */
  unsigned long elements;
  unsigned long tree_elements;          /* of them, kept in the tree */
  size_t bytes;                         /* of this answer */
  size_t taken;                         /* objects handed to the sink from it */
  const char *why;                      /* the limit hit, or NULL */
  bool sink_stopped;                    /* the sink could not take an object */
};

static bool
is_elem (xmlNodePtr n, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE
    && (name == NULL || xmlStrcmp (n->name, (const xmlChar *) name) == 0);
}

/* Is an element starting under parent an objects element of a
 * RetrieveResult, one that vs_xml_collect_objects would read: under a
 * returnval of the answer (vs_xml_body)? */
static bool
starts_retrieved_object (xmlNodePtr parent, const char *name)
{
  return strcmp (name, "objects") == 0
    && is_elem (parent, "returnval") && parent->parent
    && parent->parent == vs_xml_body (parent->doc);
}

static void
frame_clear (struct frame *f)
{
  free (f->xsi_type);
  free (f->mor_type);
  json_decref (f->value);
  json_decref (f->made_arrays);
  free (f->text);
  json_decref (f->result);
  json_decref (f->props);
  json_decref (f->missing);
  free (f->name);
  json_decref (f->val);
  free (f->fault_type);
}

static void
drop_frames (struct vs_xml_stream *s)
{
  for (size_t i = 0; i < s->frames.len; i++)
    frame_clear (&s->frames.ptr[i]);
  s->frames.len = 0;
}

/* An attribute's value as the tree would give it: libxml2 hands SAX2 an
 * '&' of the text as "&#38;" when it does not substitute entities. */
static char *
attribute_value (const xmlChar *value, const xmlChar *end)
{
  size_t n = end - value;
  char *out = malloc (n + 1), *o = out;

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; ) {
    if (n - i >= 5 && memcmp (value + i, "&#38;", 5) == 0) {
      *o++ = '&';
      i += 5;
    }
    else
      *o++ = value[i++];
  }
  *o = '\0';
  return out;
}

/* xsi:type's local part and the type attribute without namespace (nor
 * prefix: libxml2's tree names an attribute whose prefix is bound to
 * nothing "prefix:type"). */
static void
frame_attributes (struct frame *f, int nb_attributes, const xmlChar **attrs)
{
  for (int i = 0; i < nb_attributes; i++) {
    const xmlChar *const *a = attrs + 5 * i;  /* localname, prefix, URI, value, end */
    if (xmlStrcmp (a[0], (const xmlChar *) "type") != 0)
      continue;
    if (a[2] && xmlStrcmp (a[2], (const xmlChar *) XSI_NS) == 0 && f->xsi_type == NULL) {
      char *t = attribute_value (a[3], a[4]);
      const char *colon = t ? strchr (t, ':') : NULL;
      f->xsi_type = colon ? strdup (colon + 1) : t;
      if (colon)
        free (t);
    }
    else if (a[1] == NULL && a[2] == NULL && f->mor_type == NULL)
      f->mor_type = attribute_value (a[3], a[4]);
  }
}

/* The role of a child element, from its parent's and its name. */
static enum role
child_role (struct frame *parent, const char *name)
{
  switch (parent->role) {
  case ROLE_OBJECTS:
    if (strcmp (name, "obj") == 0 && !parent->seen_obj) {
      parent->seen_obj = true;
      return ROLE_OBJ;
    }
    if (strcmp (name, "propSet") == 0)
      return ROLE_PROPSET;
    if (strcmp (name, "missingSet") == 0)
      return ROLE_MISSING;
    return ROLE_IGNORED;
  case ROLE_PROPSET:
    if (strcmp (name, "name") == 0 && parent->name == NULL)
      return ROLE_PROP_NAME;
    if (strcmp (name, "val") == 0 && !parent->seen_val) {
      parent->seen_val = true;
      return ROLE_PROP_VAL;
    }
    return ROLE_IGNORED;
  case ROLE_MISSING:
    if (strcmp (name, "path") == 0 && parent->name == NULL)
      return ROLE_MISSING_PATH;
    if (strcmp (name, "fault") == 0 && !parent->seen_fault) {
      parent->seen_fault = true;
      return ROLE_MISSING_FAULT;
    }
    return ROLE_IGNORED;
  case ROLE_OBJ:
  case ROLE_PROP_VAL:
  case ROLE_VALUE:
    return ROLE_VALUE;
  case ROLE_PROP_NAME:
  case ROLE_MISSING_PATH:
  case ROLE_TEXT:
    return ROLE_TEXT;
  case ROLE_MISSING_FAULT:
  case ROLE_IGNORED:
  default:
    return ROLE_IGNORED;
  }
}

static bool
is_value_role (enum role r)
{
  return r == ROLE_OBJ || r == ROLE_PROP_VAL || r == ROLE_VALUE;
}

static bool
is_text_role (enum role r)
{
  return r == ROLE_PROP_NAME || r == ROLE_MISSING_PATH || r == ROLE_TEXT;
}

static bool
is_array_type (const char *xsi_type)
{
  return xsi_type && strncmp (xsi_type, "ArrayOf", 7) == 0;
}

/* A value element gets its first child element: it becomes an array
 * (ArrayOf...) or an object, its xsi:type first; its text no longer counts. */
static int
value_gets_children (struct frame *f)
{
  f->has_children = true;
  free (f->text);
  f->text = NULL;
  f->text_len = f->text_cap = 0;
  if (is_array_type (f->xsi_type))
    f->value = json_array ();
  else {
    f->value = json_object ();
    if (f->value && f->xsi_type
        && json_object_set_new (f->value, "_type", json_string (f->xsi_type)) == -1)
      return -1;
  }
  return f->value ? 0 : -1;
}

static int
frame_text_add (struct frame *f, const char *data, size_t len)
{
  if (f->text_len + len + 1 > f->text_cap) {
    size_t cap = f->text_cap ? f->text_cap : 32;
    char *t;
    while (cap < f->text_len + len + 1)
      cap *= 2;
    t = realloc (f->text, cap);
    if (t == NULL)
      return -1;
    f->text = t;
    f->text_cap = cap;
  }
  memcpy (f->text + f->text_len, data, len);
  f->text_len += len;
  f->text[f->text_len] = '\0';
  return 0;
}

/* The value of a finished value element (new reference, NULL if out of
 * memory), by vs_xml_to_json's rule. */
static json_t *
frame_value (struct frame *f)
{
  const char *text = f->text ? f->text : "";
  const char *type = f->xsi_type;
  json_t *out;

  if (is_array_type (type)) {
    out = f->value ? f->value : json_array ();
    f->value = NULL;
    return out;
  }
  if (f->has_children) {
    out = f->value;
    f->value = NULL;
    return out;
  }
  if (f->mor_type && (type == NULL || strcmp (type, "ManagedObjectReference") == 0))
    out = json_pack ("{s:s, s:s}", "type", f->mor_type, "value", text);
  else if (type && (strcmp (type, "int") == 0 || strcmp (type, "long") == 0
                    || strcmp (type, "short") == 0 || strcmp (type, "byte") == 0))
    out = json_integer (strtoll (text, NULL, 10));
  else if (type && strcmp (type, "boolean") == 0)
    out = json_boolean (strcmp (text, "true") == 0 || strcmp (text, "1") == 0);
  else
    out = json_string (text);
  if (out == NULL)            /* invalid UTF-8 */
    out = json_string ("");
  return out;
}

/* Put a child's value v (stolen) into its parent value element named name:
 * arrays in order; objects by name, a repeated name making an array. */
static int
value_add_child (struct frame *parent, const char *name, json_t *v)
{
  json_t *prev, *a;

  if (v == NULL)
    return -1;
  if (json_is_array (parent->value))
    return json_array_append_new (parent->value, v);
  prev = json_object_get (parent->value, name);
  if (prev == NULL)
    return json_object_set_new (parent->value, name, v);
  if (parent->made_arrays && json_object_get (parent->made_arrays, name))
    return json_array_append_new (prev, v);
  /* Second occurrence: an array of both.  Arrays made here are noted, so
   * an ArrayOf value (already an array) is never taken for one. */
  if (parent->made_arrays == NULL && (parent->made_arrays = json_object ()) == NULL) {
    json_decref (v);
    return -1;
  }
  a = json_pack ("[O, o]", prev, v);
  if (a == NULL || json_object_set_new (parent->value, name, a) == -1)
    return -1;
  return json_object_set_new (parent->made_arrays, name, json_true ());
}

static int
object_begin (struct vs_xml_stream *s)
{
  struct frame f = { .role = ROLE_OBJECTS };

  f.result = json_pack ("{s:n}", "obj");
  f.props = json_object ();
  f.missing = json_object ();
  if (f.result == NULL || f.props == NULL || f.missing == NULL
      || frame_vector_append (&s->frames, f) == -1) {
    frame_clear (&f);
    return -1;
  }
  return 0;
}

static int
object_element_start (struct vs_xml_stream *s, const char *name, int nb_attributes,
                      const xmlChar **attrs)
{
  struct frame *parent = &s->frames.ptr[s->frames.len - 1];
  struct frame f = { .role = child_role (parent, name) };

  if (is_value_role (parent->role) && !parent->has_children
      && value_gets_children (parent) == -1)
    return -1;
  if (parent->role == ROLE_MISSING_FAULT && !parent->seen_inner_fault
      && strcmp (name, "fault") == 0) {
    /* missingSet/fault/fault: its type is what is missing's reason. */
    struct frame inner = { 0 };
    parent->seen_inner_fault = true;
    frame_attributes (&inner, nb_attributes, attrs);
    parent->fault_type = inner.xsi_type;
    free (inner.mor_type);
  }
  if (is_value_role (f.role))
    frame_attributes (&f, nb_attributes, attrs);
  if (frame_vector_append (&s->frames, f) == -1) {
    frame_clear (&f);
    return -1;
  }
  return 0;
}

/* A finished element of an object gives its part to its parent. */
static int
object_element_end (struct vs_xml_stream *s, const char *name)
{
  struct frame f = s->frames.ptr[--s->frames.len];
  struct frame *parent = &s->frames.ptr[s->frames.len - 1];
  int r = 0;

  switch (f.role) {
  case ROLE_OBJ:
    r = json_object_set_new (parent->result, "obj", frame_value (&f));
    break;
  case ROLE_PROP_VAL:
    parent->val = frame_value (&f);
    r = parent->val ? 0 : -1;
    break;
  case ROLE_VALUE:
    r = value_add_child (parent, name, frame_value (&f));
    break;
  case ROLE_PROP_NAME:
  case ROLE_MISSING_PATH:
    parent->name = f.text ? f.text : strdup ("");
    f.text = NULL;
    r = parent->name ? 0 : -1;
    break;
  case ROLE_TEXT:
    if (f.text_len)
      r = frame_text_add (parent, f.text, f.text_len);
    break;
  case ROLE_PROPSET:
    r = json_object_set_new (parent->props, f.name ? f.name : "",
                             f.val ? f.val : json_null ());
    f.val = NULL;
    break;
  case ROLE_MISSING:
    r = json_object_set_new (parent->missing, f.name ? f.name : "",
                             json_string (f.fault_type ? f.fault_type : "unknown"));
    break;
  case ROLE_MISSING_FAULT:
    parent->fault_type = f.fault_type;
    f.fault_type = NULL;
    break;
  case ROLE_OBJECTS:
  case ROLE_IGNORED:
  default:
    break;
  }
  frame_clear (&f);
  return r;
}

/* The objects element is complete: its json goes to the sink. */
static int
object_end (struct vs_xml_stream *s)
{
  struct frame f = s->frames.ptr[--s->frames.len];
  int r;

  r = json_object_set (f.result, "props", f.props) == 0
    && json_object_set (f.result, "missing", f.missing) == 0
    ? s->sink.take (s->sink.arg, f.result) : -1;
  frame_clear (&f);
  if (r == 0)
    s->taken++;
  return r;
}

static void
stop_for_memory (struct vs_xml_stream *s)
{
  s->why = "more objects than memory can hold";
  s->sink_stopped = true;
  xmlStopParser (s->ctxt);
}

/* The name the tree gives an element: its local name, or "prefix:name"
 * when the prefix is bound to no namespace, as libxml2's SAX2 does. */
static const char *
tree_name (xmlParserCtxtPtr ctxt, const xmlChar *localname, const xmlChar *prefix,
           const xmlChar *uri)
{
  const xmlChar *qname;

  if (prefix && uri == NULL && (qname = xmlDictQLookup (ctxt->dict, prefix, localname)))
    return (const char *) qname;
  return (const char *) localname;
}

static void
on_element_start (void *ctx, const xmlChar *localname, const xmlChar *prefix,
                  const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                  int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct vs_xml_stream *s = ctxt->_private;
  int r;

  /* nameNr: the open ancestors.  Checked before the element is made, and
   * before libxml2's own limit (256, with advice about XML_PARSE_HUGE). */
  if (ctxt->nameNr >= VS_XML_MAX_DEPTH)
    s->why = "XML nested deeper than " STRINGIFY (VS_XML_MAX_DEPTH) " levels";
  else if (++s->elements > VS_XML_MAX_ELEMENTS)
    s->why = "XML of more than " STRINGIFY (VS_XML_MAX_ELEMENTS) " elements";
  if (s->why) {
    xmlStopParser (ctxt);
    return;
  }
  if (s->frames.len)
    r = object_element_start (s, tree_name (ctxt, localname, prefix, uri), nb_attributes,
                              attributes);
  else if (s->has_sink
           && starts_retrieved_object (ctxt->node, tree_name (ctxt, localname, prefix, uri)))
    r = object_begin (s);
  else if (s->has_sink && ++s->tree_elements > VS_XML_MAX_TREE_ELEMENTS) {
    s->why = "XML of more than " STRINGIFY (VS_XML_MAX_TREE_ELEMENTS)
      " elements around its objects";
    xmlStopParser (ctxt);
    return;
  }
  else {
    s->tree.startElementNs (ctx, localname, prefix, uri, nb_namespaces, namespaces,
                            nb_attributes, nb_defaulted, attributes);
    return;
  }
  if (r == -1)
    stop_for_memory (s);
}

static void
on_element_end (void *ctx, const xmlChar *localname, const xmlChar *prefix,
                const xmlChar *uri)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct vs_xml_stream *s = ctxt->_private;
  int r;

  if (s->frames.len == 0) {
    s->tree.endElementNs (ctx, localname, prefix, uri);
    return;
  }
  r = s->frames.len == 1 ? object_end (s)
    : object_element_end (s, tree_name (ctxt, localname, prefix, uri));
  if (r == -1)
    stop_for_memory (s);
}

/* Character data (and CDATA): in an object, to the element whose text
 * counts; elsewhere, to the tree. */
static void
on_characters (void *ctx, const xmlChar *ch, int len)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct vs_xml_stream *s = ctxt->_private;
  struct frame *f;

  if (s->frames.len == 0) {
    s->tree.characters (ctx, ch, len);
    return;
  }
  f = &s->frames.ptr[s->frames.len - 1];
  if ((is_text_role (f->role) || (is_value_role (f->role) && !f->has_children))
      && frame_text_add (f, (const char *) ch, len) == -1)
    stop_for_memory (s);
}

static void
on_cdata (void *ctx, const xmlChar *value, int len)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct vs_xml_stream *s = ctxt->_private;

  if (s->frames.len == 0)
    s->tree.cdataBlock (ctx, value, len);
  else
    on_characters (ctx, value, len);
}

/* Comments and processing instructions: nothing inside an object. */
static void
on_comment (void *ctx, const xmlChar *value)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct vs_xml_stream *s = ctxt->_private;

  if (s->frames.len == 0 && s->tree.comment)
    s->tree.comment (ctx, value);
}

static void
on_processing_instruction (void *ctx, const xmlChar *target, const xmlChar *data)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct vs_xml_stream *s = ctxt->_private;

  if (s->frames.len == 0 && s->tree.processingInstruction)
    s->tree.processingInstruction (ctx, target, data);
}

/* Called at <!DOCTYPE, before its entity declarations are read. */
static void
refuse_dtd (void *ctx, const xmlChar *name, const xmlChar *external_id,
            const xmlChar *system_id)
{
  xmlParserCtxtPtr ctxt = ctx;
  struct vs_xml_stream *s = ctxt->_private;

  (void) name;
  (void) external_id;
  (void) system_id;
  s->why = "XML with a document type declaration (<!DOCTYPE>), which SOAP forbids";
  xmlStopParser (ctxt);
}

static void
drop_parser (struct vs_xml_stream *s)
{
  drop_frames (s);
  if (s->ctxt == NULL)
    return;
  xmlFreeDoc (s->ctxt->myDoc);
  s->ctxt->myDoc = NULL;
  xmlFreeParserCtxt (s->ctxt);
  s->ctxt = NULL;
}

struct vs_xml_stream *
vs_xml_stream_new (const struct vs_object_sink *sink)
{
  struct vs_xml_stream *s = calloc (1, sizeof *s);

  if (s == NULL)
    return NULL;
  if (sink) {
    s->sink = *sink;
    s->has_sink = true;
  }
  if (vs_xml_stream_begin (s) == -1) {
    free (s);
    return NULL;
  }
  return s;
}

void
vs_xml_stream_free (struct vs_xml_stream *s)
{
  if (s == NULL)
    return;
  drop_parser (s);
  frame_vector_reset (&s->frames);
  free (s);
}

int
vs_xml_stream_begin (struct vs_xml_stream *s)
{
  xmlParserCtxtPtr ctxt;

  drop_parser (s);
  if (s->taken && s->sink.forget)
    s->sink.forget (s->sink.arg, s->taken);
  s->taken = 0;
  s->bytes = 0;
  s->elements = 0;
  s->tree_elements = 0;
  s->why = NULL;
  s->sink_stopped = false;
  ctxt = xmlCreatePushParserCtxt (NULL, NULL, NULL, 0, "soap.xml");
  if (ctxt == NULL)
    return -1;
  /* No XML_PARSE_HUGE: libxml2's own limits stay (entity amplification,
   * text node size, depth); no XML_PARSE_NOENT or DTDLOAD: nothing is
   * substituted or fetched.  No XML_PARSE_NOBLANKS either: which blanks
   * its heuristic drops depends on where the pieces of the answer end
   * (a value of spaces could vanish); the readers skip text between
   * elements anyway.  The encoding an answer declares is not followed:
   * vSphere's are UTF-8 (or UTF-16, which its first bytes tell), and a
   * stateful one such as UTF-7 would read differently depending on where
   * the pieces end. */
  xmlCtxtUseOptions (ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
                     | XML_PARSE_IGNORE_ENC);
  ctxt->_private = s;
  s->tree = *ctxt->sax;
  ctxt->sax->startElementNs = on_element_start;
  ctxt->sax->endElementNs = on_element_end;
  ctxt->sax->characters = on_characters;
  ctxt->sax->ignorableWhitespace = on_characters;   /* so: no blank is "ignorable" */
  ctxt->sax->cdataBlock = on_cdata;
  ctxt->sax->comment = on_comment;
  ctxt->sax->processingInstruction = on_processing_instruction;
  ctxt->sax->internalSubset = refuse_dtd;
  s->ctxt = ctxt;
  return 0;
}

/* Pieces of at most this size go to libxml2 (whose lengths are ints). */
#define FEED_PIECE (1 << 20)

bool
vs_xml_stream_feed (struct vs_xml_stream *s, const char *data, size_t len)
{
  s->bytes += len;
  while (len && s->ctxt && s->why == NULL && s->ctxt->wellFormed) {
    size_t n = len < FEED_PIECE ? len : FEED_PIECE;
    xmlParseChunk (s->ctxt, data, (int) n, 0);
    data += n;
    len -= n;
  }
  /* Only the sink stops the reading: anything else is told at the end. */
  return !s->sink_stopped;
}

/* What is wrong with an answer that could not be parsed (malloc'd). */
static char *
unreadable_why (struct vs_xml_stream *s)
{
  xmlErrorPtr e;
  size_t l;

  if (s->bytes == 0)
    return strdup ("an empty body");
  if (s->why)
    return strdup (s->why);
  e = s->ctxt ? xmlCtxtGetLastError (s->ctxt) : NULL;
  if (e == NULL || e->message == NULL)
    return strdup ("something that is not well-formed XML");
  l = strlen (e->message);
  while (l && (e->message[l-1] == '\n' || e->message[l-1] == ' '))
    l--;
  return xasprintf ("something that is not well-formed XML (line %d: %.*s)", e->line,
                    (int) l, e->message);
}

/* The document once the whole answer was fed, or NULL and *why. */
static xmlDocPtr
stream_document (struct vs_xml_stream *s, char **why)
{
  xmlDocPtr doc = NULL;

  *why = NULL;
  if (s->ctxt == NULL) {
    *why = strdup ("an answer ferry could not start reading (out of memory)");
    return NULL;
  }
  if (s->bytes && s->why == NULL && s->ctxt->wellFormed)
    xmlParseChunk (s->ctxt, NULL, 0, 1);
  if (s->bytes && s->why == NULL && s->ctxt->wellFormed && s->ctxt->myDoc) {
    doc = s->ctxt->myDoc;
    s->ctxt->myDoc = NULL;
    return doc;
  }
  *why = unreadable_why (s);
  return NULL;
}

/* Parse within the limits; NULL and *why (malloc'd) when the answer is not
 * well-formed XML or is over a limit. */
static xmlDocPtr
parse_guarded (const char *data, size_t len, char **why)
{
  struct vs_xml_stream *s = vs_xml_stream_new (NULL);
  xmlDocPtr doc;

  *why = NULL;
  if (s == NULL)
    return NULL;
  vs_xml_stream_feed (s, data, len);
  doc = stream_document (s, why);
  vs_xml_stream_free (s);
  return doc;
}

xmlDocPtr
vs_xml_parse (const char *data, size_t len)
{
  CLEANUP_FREE char *why = NULL;

  return parse_guarded (data, len, &why);
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

/* A parsed answer as a SOAP envelope: 0 and *answer (doc, now the
 * caller's), 1 for a fault, -1 and *why; doc is freed unless returned. */
static int
read_envelope (xmlDocPtr doc, xmlDocPtr *answer, struct vs_fault *fault, char **why)
{
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

int
vs_parse_answer_why (const char *data, size_t len, xmlDocPtr *answer,
                     struct vs_fault *fault, char **why)
{
  return read_envelope (parse_guarded (data, len, why), answer, fault, why);
}

int
vs_xml_stream_end (struct vs_xml_stream *s, xmlDocPtr *answer, struct vs_fault *fault,
                   char **why)
{
  return read_envelope (stream_document (s, why), answer, fault, why);
}

json_t *
vs_xml_object_to_json (xmlNodePtr o)
{
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
  return obj;
}

char *
vs_xml_token (xmlNodePtr rv)
{
  xmlNodePtr t = vs_xml_child (rv, "token");

  return t ? vs_xml_text (t) : NULL;
}

char *
vs_xml_collect_objects (xmlNodePtr rv, json_t *out)
{
  for (xmlNodePtr o = vs_xml_child (rv, "objects"); o; o = vs_xml_next (o, "objects"))
    json_array_append_new (out, vs_xml_object_to_json (o));
  return vs_xml_token (rv);
}
