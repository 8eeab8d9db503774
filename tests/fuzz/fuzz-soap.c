/* Fuzz target for the vSphere SOAP answer parser: whatever the server
 * sends (truncated, malformed, hostile XML), parsing must not crash, leak
 * or read out of bounds.
 *
 * Built two ways (fuzz-common.h): with libFuzzer (fuzz-all.sh, from the
 * seed corpus in tests/data/soap), and as a replay program over those
 * files, their truncations and flipped bytes (the unit suite). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "vsphere/xml.h"

#define FUZZ_FLIP_CHARS "<>/\"&\0x"
#include "fuzz-common.h"

static void
target_init (void)
{
}

static int
keep_object (void *array, const json_t *object)
{
  return json_array_append ((json_t *) array, (json_t *) object);
}

/* The same answer read as it streams in, in pieces of 1000 bytes, its
 * objects handed over as they are read: the same result as the tree's
 * (r, and the objects of its returnvals, in the same order). */
static void
check_streamed (const uint8_t *data, size_t size, int tree_r, const json_t *tree_objects)
{
  json_t *objects = json_array ();
  struct vs_object_sink sink = { keep_object, NULL, objects };
  struct vs_xml_stream *s = vs_xml_stream_new (&sink);
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  char *why = NULL;
  int r;

  for (size_t off = 0; off < size; off += 1000)
    vs_xml_stream_feed (s, (const char *) data + off, size - off < 1000 ? size - off : 1000);
  r = vs_xml_stream_end (s, &doc, &f, &why);
  if (r != tree_r) {
    fuzz_report ("streamed reading: %d, the tree's: %d (%s)", r, tree_r, why ? why : "");
    abort ();
  }
  if (r == 0) {
    char *a = json_dumps (tree_objects, JSON_PRESERVE_ORDER);
    char *b = json_dumps (objects, JSON_PRESERVE_ORDER);
    if (a && b && strcmp (a, b) != 0) {
      fuzz_report ("streamed objects differ from the tree's:\n%s\n%s", a, b);
      abort ();
    }
    free (a);
    free (b);
  }
  xmlFreeDoc (doc);
  free (f.type);
  free (f.message);
  free (why);
  vs_xml_stream_free (s);
  json_decref (objects);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  int r = vs_parse_answer ((const char *) data, size, &doc, &f);
  json_t *objs = json_array ();

  if (r == 0) {
    xmlNodePtr body = vs_xml_body (doc);
    for (xmlNodePtr rv = vs_xml_child (body, "returnval"); rv; rv = vs_xml_next (rv, "returnval")) {
      json_t *j = vs_xml_to_json (rv);
      char *token = vs_xml_collect_objects (rv, objs);
      json_t *a = vs_array (j, "objects");
      (void) vs_str (j, "about.apiVersion");
      (void) vs_int (j, "hardware.numCPU", 0);
      free (token);
      json_decref (a);
      json_decref (j);
    }
    xmlFreeDoc (doc);
  }
  check_streamed (data, size, r, objs);
  json_decref (objs);
  free (f.type);
  free (f.message);
  return 0;
}
