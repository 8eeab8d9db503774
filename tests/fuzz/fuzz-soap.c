/* Fuzz target for the vSphere SOAP answer parser: whatever the server
 * sends (truncated, malformed, hostile XML), parsing must not crash, leak
 * or read out of bounds.
 *
 * Built two ways: with libFuzzer (clang -fsanitize=fuzzer, see
 * soap-parser-fuzz.sh, which runs it briefly from the seed corpus in
 * tests/data/soap), and as a replay program that runs every file given on
 * the command line plus truncations of each (the unit suite, under the
 * gcc sanitizers). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "vsphere/xml.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

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

#ifndef FUZZING_ENGINE
static char *
slurp (const char *path, size_t *len)
{
  FILE *fp = fopen (path, "rb");
  char *buf = NULL;
  long n;

  if (fp == NULL)
    return NULL;
  if (fseek (fp, 0, SEEK_END) == 0 && (n = ftell (fp)) >= 0 && fseek (fp, 0, SEEK_SET) == 0) {
    buf = malloc (n + 1);
    if (buf && fread (buf, 1, n, fp) != (size_t) n) {
      free (buf);
      buf = NULL;
    }
    *len = n;
  }
  fclose (fp);
  return buf;
}

int
main (int argc, char **argv)
{
  int runs = 0;

  for (int i = 1; i < argc; i++) {
    size_t len = 0;
    char *buf = slurp (argv[i], &len);
    if (buf == NULL) {
      fprintf (stderr, "fuzz-soap: cannot read %s\n", argv[i]);
      return 1;
    }
    /* The whole answer, then truncations at many points, then flipped bytes. */
    for (size_t cut = len; ; cut = cut * 7 / 8) {
      LLVMFuzzerTestOneInput ((const uint8_t *) buf, cut);
      runs++;
      if (cut == 0)
        break;
    }
    for (size_t k = 0; k < len; k += 1 + len / 64) {
      char saved = buf[k];
      buf[k] = "<>/\"&\0x"[k % 7];
      LLVMFuzzerTestOneInput ((const uint8_t *) buf, len);
      buf[k] = saved;
      runs++;
    }
    free (buf);
  }
  xmlCleanupParser ();
  printf ("fuzz-soap: %d inputs parsed\n", runs);
  return 0;
}
#endif
