/* Unit tests: the limits on a vSphere answer (vsphere/xml.h): depth, DTDs,
 * what an unreadable answer is called, and a conversion that stays
 * shallow whatever tree it is given. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vsphere/vsphere.h"
#include "vsphere/xml.h"

#define HEAD "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"" SOAPENV_NS "\">" \
  "<soapenv:Body><RetrieveServiceContentResponse xmlns=\"urn:vim25\"><returnval>"
#define TAIL "</returnval></RetrieveServiceContentResponse></soapenv:Body></soapenv:Envelope>"
#define HEAD_DEPTH 4            /* Envelope, Body, the response, returnval */

/* An answer whose deepest element is at depth (the root is at 1). */
static char *
nested (unsigned depth)
{
  size_t n = depth - HEAD_DEPTH;
  char *s = malloc (sizeof HEAD + sizeof TAIL + n * 7 + 1), *o = s;

  assert_non_null (s);
  o = stpcpy (o, HEAD);
  for (size_t i = 0; i < n; i++)
    o = stpcpy (o, "<a>");
  for (size_t i = 0; i < n; i++)
    o = stpcpy (o, "</a>");
  stpcpy (o, TAIL);
  return s;
}

static int
parse (const char *s, char **why)
{
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  int r = vs_parse_answer_why (s, strlen (s), &doc, &f, why);

  if (r == 0) {
    json_t *j = vs_xml_to_json (vs_xml_child (vs_xml_body (doc), "returnval"));
    assert_non_null (j);
    json_decref (j);
    xmlFreeDoc (doc);
  }
  vs_fault_free (&f);
  return r;
}

static void
test_depth (void **state)
{
  char *ok = nested (VS_XML_MAX_DEPTH), *deep = nested (VS_XML_MAX_DEPTH + 1);
  char *deeper = nested (300000);
  char *why = NULL;

  assert_int_equal (parse (ok, &why), 0);
  assert_null (why);
  assert_int_equal (parse (deep, &why), -1);
  assert_string_equal (why, "XML nested deeper than 256 levels");
  free (why);
  assert_int_equal (parse (deeper, &why), -1);
  assert_string_equal (why, "XML nested deeper than 256 levels");
  free (why);
  free (ok);
  free (deep);
  free (deeper);
  (void) state;
}

static void
test_dtd (void **state)
{
  static const char laughs[] =
    "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaaaaaaaa\">"
    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
    "<soapenv:Envelope xmlns:soapenv=\"" SOAPENV_NS "\"><soapenv:Body><x>&c;</x>"
    "</soapenv:Body></soapenv:Envelope>";
  char *why = NULL;

  assert_int_equal (parse (laughs, &why), -1);
  assert_non_null (strstr (why, "document type declaration (<!DOCTYPE>), which SOAP forbids"));
  free (why);
  (void) state;
}

static void
test_unreadable (void **state)
{
  char *why = NULL;

  assert_int_equal (parse ("", &why), -1);
  assert_string_equal (why, "an empty body");
  free (why);
  assert_int_equal (parse ("<a><b></a>", &why), -1);
  assert_non_null (strstr (why, "something that is not well-formed XML (line 1: "));
  assert_int_equal (why[strlen (why) - 1], ')');
  free (why);
  assert_int_equal (parse ("<a/>", &why), -1);
  assert_string_equal (why, "XML that is not a SOAP envelope");
  free (why);
  (void) state;
}

/* A tree made otherwise than by the parser: the conversion stops at the
 * depth limit instead of overflowing the stack. */
static void
test_conversion_depth (void **state)
{
  xmlDocPtr doc = xmlNewDoc ((const xmlChar *) "1.0");
  xmlNodePtr root = xmlNewNode (NULL, (const xmlChar *) "returnval"), n = root;
  json_t *j, *v;
  unsigned depth = 1;

  xmlDocSetRootElement (doc, root);
  for (int i = 0; i < 300000; i++)
    n = xmlNewChild (n, NULL, (const xmlChar *) "a", NULL);
  xmlNodeSetContent (n, (const xmlChar *) "leaf");
  j = vs_xml_to_json (root);
  assert_non_null (j);
  for (v = j; json_is_object (v); v = json_object_get (v, "a"))
    depth++;
  assert_true (json_is_null (v));
  assert_int_equal (depth, VS_XML_MAX_DEPTH + 1);
  json_decref (j);
  xmlFreeDoc (doc);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_depth),
    cmocka_unit_test (test_dtd),
    cmocka_unit_test (test_unreadable),
    cmocka_unit_test (test_conversion_depth),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
