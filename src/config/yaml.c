/* ferry: YAML to json_t with libyaml, see yaml.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <math.h>
#include <yaml.h>

#include "config/yaml.h"
#include "common/cleanup.h"

/* Guard against alias expansion bombs ("billion laughs"). */
#define MAX_NODES_OUT 2000000
#define MAX_DEPTH 256

static char *
fmt_err (const char *name, size_t line, size_t col, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

static char *
fmt_err (const char *name, size_t line, size_t col, const char *fmt, ...)
{
  char *msg = NULL, *out = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) == -1)
    msg = NULL;
  va_end (ap);
  if (asprintf (&out, "%s:%zu:%zu: %s", name, line, col, msg ? msg : "error") == -1)
    out = NULL;
  free (msg);
  return out;
}

static bool
all_match (const char *s, size_t n, const char *set)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!strchr (set, s[i]))
      return false;
  return true;
}

static bool
word_in (const char *s, size_t n, const char *const *words)
{
  for (size_t i = 0; words[i]; i++)
    if (strlen (words[i]) == n && memcmp (words[i], s, n) == 0)
      return true;
  return false;
}

json_t *
yaml_resolve_plain (const char *value, size_t len)
{
  static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
  static const char *const trues[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
                                       "on", "On", "ON", NULL };
  static const char *const falses[] = { "false", "False", "FALSE", "no", "No", "NO",
                                        "off", "Off", "OFF", NULL };
  const char *s = value;
  size_t n = len, i = 0;
  char buf[128];

  if (word_in (s, n, nulls))
    return json_null ();
  if (word_in (s, n, trues))
    return json_true ();
  if (word_in (s, n, falses))
    return json_false ();
  if (n == 0 || n >= sizeof buf)
    return json_stringn (value, len);

  /* Strip underscores (YAML 1.1 allows 1_000) into buf for numbers. */
  {
    size_t k = 0;
    for (size_t j = 0; j < n; j++)
      if (s[j] != '_')
        buf[k++] = s[j];
    buf[k] = '\0';
  }
  if (buf[0] == '-' || buf[0] == '+')
    i = 1;
  if (buf[i] != '\0' && s[0] != '_' && s[n-1] != '_') {
    const char *d = buf + i;
    size_t dl = strlen (d);
    long long v;
    char *end;

    errno = 0;
    if (dl > 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X')
        && all_match (d + 2, dl - 2, "0123456789abcdefABCDEF")) {
      v = strtoll (d + 2, &end, 16);
      if (errno == 0)
        return json_integer (buf[0] == '-' ? -v : v);
    }
    else if (dl > 1 && d[0] == '0' && all_match (d + 1, dl - 1, "01234567")) {
      v = strtoll (d + 1, &end, 8);
      if (errno == 0)
        return json_integer (buf[0] == '-' ? -v : v);
    }
    else if (all_match (d, dl, "0123456789")) {
      v = strtoll (buf, &end, 10);
      if (errno == 0)
        return json_integer (v);
      return json_stringn (value, len);   /* too large: keep the text */
    }
    /* Floats: digits with one dot, optional exponent. */
    if (strchr (d, '.') && all_match (d, dl, "0123456789.eE+-")
        && isdigit ((unsigned char) d[strspn (d, ".")] ) ) {
      double f = strtod (buf, &end);
      if (*end == '\0' && errno == 0)
        return json_real (f);
    }
  }
  if (strcmp (buf + i, ".inf") == 0 || strcmp (buf + i, ".Inf") == 0
      || strcmp (buf + i, ".INF") == 0 || strcmp (buf, ".nan") == 0
      || strcmp (buf, ".NaN") == 0 || strcmp (buf, ".NAN") == 0)
    return json_stringn (value, len);   /* JSON has no inf/nan; keep text */
  return json_stringn (value, len);
}

struct conv {
  yaml_document_t *doc;
  const char *name;
  size_t count;
  char *err;
};

static json_t *convert (struct conv *c, yaml_node_t *node, int depth);

static json_t *
convert_scalar (struct conv *c, yaml_node_t *node)
{
  const char *v = (const char *) node->data.scalar.value;
  size_t n = node->data.scalar.length;
  const char *tag = (const char *) node->tag;

  if (tag && strcmp (tag, "!vault") == 0) {
    c->err = fmt_err (c->name, node->start_mark.line + 1, node->start_mark.column + 1,
                      "value encrypted with ansible-vault: ferry cannot decrypt it; "
                      "give the plain value in a file with mode 0600 instead");
    return NULL;
  }
  if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return json_stringn (v, n);
  /* libyaml's loader gives every untagged plain scalar the str tag, so an
   * explicit !!str can't be told apart: plain scalars are always resolved. */
  return yaml_resolve_plain (v, n);
}

static int
merge_into (json_t *obj, json_t *src)
{
  const char *k;
  json_t *v;

  if (!json_is_object (src))
    return -1;
  json_object_foreach (src, k, v)
    if (json_object_get (obj, k) == NULL)
      json_object_set (obj, k, v);
  return 0;
}

static json_t *
convert (struct conv *c, yaml_node_t *node, int depth)
{
  json_t *out;

  if (node == NULL) {
    c->err = fmt_err (c->name, 1, 1, "malformed YAML document");
    return NULL;
  }
  if (depth > MAX_DEPTH || ++c->count > MAX_NODES_OUT) {
    c->err = fmt_err (c->name, node->start_mark.line + 1, node->start_mark.column + 1,
                      "document too deep or too large (alias expansion?)");
    return NULL;
  }

  switch (node->type) {
  case YAML_SCALAR_NODE:
    return convert_scalar (c, node);

  case YAML_SEQUENCE_NODE:
    out = json_array ();
    for (yaml_node_item_t *it = node->data.sequence.items.start;
         it < node->data.sequence.items.top; it++) {
      json_t *v = convert (c, yaml_document_get_node (c->doc, *it), depth + 1);
      if (v == NULL) { json_decref (out); return NULL; }
      json_array_append_new (out, v);
    }
    return out;

  case YAML_MAPPING_NODE: {
    json_t *merges = json_array ();
    out = json_object ();
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
         p < node->data.mapping.pairs.top; p++) {
      yaml_node_t *kn = yaml_document_get_node (c->doc, p->key);
      json_t *k, *v;
      CLEANUP_FREE char *kstr = NULL;

      if (kn == NULL || kn->type != YAML_SCALAR_NODE) {
        c->err = fmt_err (c->name, kn ? kn->start_mark.line + 1 : 0,
                          kn ? kn->start_mark.column + 1 : 0,
                          "mapping keys must be scalars");
        goto map_fail;
      }
      v = convert (c, yaml_document_get_node (c->doc, p->value), depth + 1);
      if (v == NULL)
        goto map_fail;
      if (kn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
          && kn->data.scalar.length == 2
          && memcmp (kn->data.scalar.value, "<<", 2) == 0) {
        json_array_append_new (merges, v);   /* merge key, applied below */
        continue;
      }
      k = convert_scalar (c, kn);
      if (k == NULL) { json_decref (v); goto map_fail; }
      if (json_is_string (k))
        kstr = strndup (json_string_value (k), json_string_length (k));
      else
        kstr = json_dumps (k, JSON_ENCODE_ANY);
      json_decref (k);
      if (kstr == NULL) { json_decref (v); goto map_fail; }
      json_object_set_new (out, kstr, v);
    }
    /* Merge keys: explicit keys win, then earlier merged maps. */
    {
      size_t i;
      json_t *m;
      json_array_foreach (merges, i, m) {
        if (json_is_array (m)) {
          size_t j;
          json_t *e;
          json_array_foreach (m, j, e)
            merge_into (out, e);
        }
        else if (merge_into (out, m) == -1) {
          c->err = fmt_err (c->name, node->start_mark.line + 1,
                            node->start_mark.column + 1,
                            "merge key '<<' needs a mapping");
          goto map_fail;
        }
      }
    }
    json_decref (merges);
    return out;
  map_fail:
    json_decref (merges);
    json_decref (out);
    return NULL;
  }

  case YAML_NO_NODE:
    break;
  }
  return json_null ();
}

json_t *
yaml_parse_string (const char *text, size_t len, const char *name, char **err)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_node_t *root;
  json_t *out = NULL;
  struct conv c = { .doc = &doc, .name = name };

  *err = NULL;
  if (len >= 14 && memcmp (text, "$ANSIBLE_VAULT", 14) == 0) {
    *err = fmt_err (name, 1, 1, "file encrypted with ansible-vault: ferry cannot "
                    "decrypt it; run 'ansible-vault decrypt' into a file with mode 0600");
    return NULL;
  }
  if (!yaml_parser_initialize (&parser)) {
    *err = strdup ("out of memory initialising the YAML parser");
    return NULL;
  }
  yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
  if (!yaml_parser_load (&parser, &doc)) {
    yaml_mark_t m = parser.problem_mark;
    if (parser.context)
      *err = fmt_err (name, m.line + 1, m.column + 1, "%s %s", parser.problem,
                      parser.context);
    else
      *err = fmt_err (name, m.line + 1, m.column + 1, "%s",
                      parser.problem ? parser.problem : "malformed YAML");
    yaml_parser_delete (&parser);
    return NULL;
  }
  root = yaml_document_get_root_node (&doc);
  if (root == NULL)
    out = json_object ();         /* empty file */
  else {
    out = convert (&c, root, 0);
    if (out == NULL)
      *err = c.err ? c.err : fmt_err (name, 1, 1, "cannot convert document");
    else {
      free (c.err);
      if (json_is_null (out)) {
        json_decref (out);
        out = json_object ();
      }
    }
  }
  /* A second document in a vars file is most likely a mistake. */
  if (out) {
    yaml_document_t doc2;
    if (yaml_parser_load (&parser, &doc2)) {
      if (yaml_document_get_root_node (&doc2)) {
        *err = fmt_err (name, doc2.start_mark.line + 1, doc2.start_mark.column + 1,
                        "more than one YAML document ('---'): put all variables in one");
        json_decref (out);
        out = NULL;
      }
      yaml_document_delete (&doc2);
    }
  }
  yaml_document_delete (&doc);
  yaml_parser_delete (&parser);
  return out;
}

json_t *
yaml_parse_file (const char *path, char **err)
{
  CLEANUP_FCLOSE FILE *fp = NULL;
  CLEANUP_FREE char *data = NULL;
  size_t len = 0, cap = 0, n;

  *err = NULL;
  fp = fopen (path, "re");
  if (fp == NULL) {
    if (asprintf (err, "%s: cannot open: %s", path, strerror (errno)) == -1)
      *err = NULL;
    return NULL;
  }
  for (;;) {
    if (len + 65536 + 1 > cap) {
      char *p;
      cap = cap ? cap * 2 : 65536 * 2;
      p = realloc (data, cap);
      if (p == NULL) {
        *err = strdup ("out of memory");
        return NULL;
      }
      data = p;
    }
    n = fread (data + len, 1, cap - len - 1, fp);
    len += n;
    if (n == 0)
      break;
  }
  if (ferror (fp)) {
    if (asprintf (err, "%s: read error: %s", path, strerror (errno)) == -1)
      *err = NULL;
    return NULL;
  }
  data[len] = '\0';
  if (strlen (data) != len) {
    if (asprintf (err, "%s: contains a NUL byte: not a YAML or JSON file", path) == -1)
      *err = NULL;
    return NULL;
  }
  return yaml_parse_string (data, len, path, err);
}

/* ---- emitter ---- */

static int
emit_scalar (yaml_emitter_t *e, const char *v, size_t n, bool plain_ok)
{
  yaml_event_t ev;

  if (!yaml_scalar_event_initialize (&ev, NULL, (yaml_char_t *) YAML_STR_TAG,
                                     (yaml_char_t *) v, (int) n, plain_ok, 1,
                                     plain_ok ? YAML_ANY_SCALAR_STYLE
                                     : YAML_DOUBLE_QUOTED_SCALAR_STYLE))
    return -1;
  return yaml_emitter_emit (e, &ev) ? 0 : -1;
}

static int
emit (yaml_emitter_t *e, const json_t *j)
{
  yaml_event_t ev;
  char num[64];

  switch (json_typeof (j)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *v;
    yaml_mapping_start_event_initialize (&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!yaml_emitter_emit (e, &ev)) return -1;
    json_object_foreach ((json_t *) j, k, v) {
      json_t *r = yaml_resolve_plain (k, strlen (k));
      bool plain = json_is_string (r);
      json_decref (r);
      if (emit_scalar (e, k, strlen (k), plain) == -1 || emit (e, v) == -1)
        return -1;
    }
    yaml_mapping_end_event_initialize (&ev);
    return yaml_emitter_emit (e, &ev) ? 0 : -1;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *v;
    yaml_sequence_start_event_initialize (&ev, NULL, NULL, 1,
                                          json_array_size (j) ? YAML_BLOCK_SEQUENCE_STYLE
                                          : YAML_FLOW_SEQUENCE_STYLE);
    if (!yaml_emitter_emit (e, &ev)) return -1;
    json_array_foreach ((json_t *) j, i, v)
      if (emit (e, v) == -1)
        return -1;
    yaml_sequence_end_event_initialize (&ev);
    return yaml_emitter_emit (e, &ev) ? 0 : -1;
  }
  case JSON_STRING: {
    const char *s = json_string_value (j);
    size_t n = json_string_length (j);
    json_t *r = yaml_resolve_plain (s, n);
    bool plain = json_is_string (r);
    json_decref (r);
    return emit_scalar (e, s, n, plain);
  }
  case JSON_INTEGER:
    snprintf (num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value (j));
    return emit_scalar (e, num, strlen (num), true);
  case JSON_REAL:
    snprintf (num, sizeof num, "%.17g", json_real_value (j));
    if (!strpbrk (num, ".eEn"))
      strcat (num, ".0");
    return emit_scalar (e, num, strlen (num), true);
  case JSON_TRUE:
    return emit_scalar (e, "true", 4, true);
  case JSON_FALSE:
    return emit_scalar (e, "false", 5, true);
  case JSON_NULL:
    return emit_scalar (e, "null", 4, true);
  }
  return -1;
}

static int
write_handler (void *data, unsigned char *buffer, size_t size)
{
  FILE *fp = data;
  return fwrite (buffer, 1, size, fp) == size;
}

char *
yaml_dump (const json_t *j)
{
  yaml_emitter_t e;
  yaml_event_t ev;
  char *out = NULL;
  size_t len = 0;
  FILE *fp;
  int ok = 0;

  fp = open_memstream (&out, &len);
  if (fp == NULL)
    return NULL;
  if (!yaml_emitter_initialize (&e)) {
    fclose (fp);
    free (out);
    return NULL;
  }
  yaml_emitter_set_output (&e, write_handler, fp);
  yaml_emitter_set_unicode (&e, 1);
  yaml_emitter_set_width (&e, -1);
  yaml_stream_start_event_initialize (&ev, YAML_UTF8_ENCODING);
  if (yaml_emitter_emit (&e, &ev)) {
    yaml_document_start_event_initialize (&ev, NULL, NULL, NULL, 1);
    if (yaml_emitter_emit (&e, &ev) && emit (&e, j) == 0) {
      yaml_document_end_event_initialize (&ev, 1);
      if (yaml_emitter_emit (&e, &ev)) {
        yaml_stream_end_event_initialize (&ev);
        ok = yaml_emitter_emit (&e, &ev);
      }
    }
  }
  yaml_emitter_delete (&e);
  fclose (fp);
  if (!ok) {
    free (out);
    return NULL;
  }
  return out;
}
