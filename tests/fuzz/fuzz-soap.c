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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  int r = vs_parse_answer ((const char *) data, size, &doc, &f);

  if (r == 0) {
    xmlNodePtr body = vs_xml_body (doc);
    for (xmlNodePtr rv = vs_xml_child (body, "returnval"); rv; rv = vs_xml_next (rv, "returnval")) {
      json_t *j = vs_xml_to_json (rv);
      json_t *objs = json_array ();
      char *token = vs_xml_collect_objects (rv, objs);
      json_t *a = vs_array (j, "objects");
      (void) vs_str (j, "about.apiVersion");
      (void) vs_int (j, "hardware.numCPU", 0);
      free (token);
      json_decref (a);
      json_decref (objs);
      json_decref (j);
    }
    xmlFreeDoc (doc);
  }
  free (f.type);
  free (f.message);
  return 0;
}
