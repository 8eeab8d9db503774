/* Unit tests: a vSphere answer read as it streams in (vsphere/xml.h,
 * struct vs_xml_stream).  The objects it hands over are the same as the
 * tree-based reading's (vs_xml_collect_objects), whatever the pieces the
 * answer comes in; its limits are the same; an answer read again after a
 * lost connection makes the sink forget what it took of it. */
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

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
  "<soapenv:Envelope xmlns:soapenv=\"" SOAPENV_NS "\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" " \
  "xmlns:xsi=\"" XSI_NS "\"><soapenv:Body><RetrievePropertiesExResponse xmlns=\"urn:vim25\">" \
  "<returnval>"
#define TAIL "</returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>"

/* Every rule of the conversion, and the odd shapes a server may send. */
static const char answer[] = HEAD
  "<objects><obj type=\"VirtualMachine\">vm-1</obj>"
  "<propSet><name>name</name><val xsi:type=\"xsd:string\">a &amp; b</val></propSet>"
  "<propSet><name>config.hardware</name><val xsi:type=\"VirtualHardware\">"
  "<numCPU>2</numCPU>"
  "<device xsi:type=\"VirtualDisk\"><key>2000</key><backing xsi:type=\"VirtualDiskFlatVer2BackingInfo\">"
  "<fileName>[ds] vm/vm.vmdk</fileName><thinProvisioned>true</thinProvisioned></backing></device>"
  "<device xsi:type=\"VirtualVmxnet3\"><key>4000</key></device>"
  "<device xsi:type=\"VirtualE1000\"><key>4001</key></device>"
  "</val></propSet>"
  "<propSet><name>nums</name><val xsi:type=\"ArrayOfInt\"><int xsi:type=\"xsd:int\">1</int>"
  "<int xsi:type=\"xsd:long\">-2</int><int xsi:type=\"xsd:short\">3</int>"
  "<int xsi:type=\"xsd:byte\">4</int></val></propSet>"
  "<propSet><name>empty</name><val xsi:type=\"ArrayOfString\"></val></propSet>"
  "<propSet><name>flags</name><val><a xsi:type=\"xsd:boolean\">true</a><b xsi:type=\"xsd:boolean\">1</b>"
  "<c xsi:type=\"xsd:boolean\">false</c></val></propSet>"
  "<propSet><name>refs</name><val xsi:type=\"ArrayOfManagedObjectReference\">"
  "<ManagedObjectReference type=\"Datastore\">ds-1</ManagedObjectReference>"
  "<ManagedObjectReference xsi:type=\"ManagedObjectReference\" type=\"A&amp;B\">x&lt;y</ManagedObjectReference>"
  "</val></propSet>"
  "<propSet><name>nested-arrays</name><val><list xsi:type=\"ArrayOfString\"><s>1</s></list>"
  "<list xsi:type=\"ArrayOfString\"><s>2</s></list><list>3</list></val></propSet>"
  "<propSet><name>odd</name><val xsi:type=\"Odd\"><_type>t</_type><x>1<!-- c --></x>"
  "<y><![CDATA[<cdata>]]> and text</y>text ignored<z/></val></propSet>"
  "<propSet><name>unbound prefixes</name><val u:type=\"xsd:int\" type=\"T\"><u:x>1</u:x><x>2</x>"
  "</val></propSet>"
  "<propSet><name>spaces</name><val xsi:type=\"xsd:string\">  </val></propSet>"
  "<propSet><name>no value</name></propSet>"
  "<propSet><val>no name</val></propSet>"
  "<propSet><name>na<i>me</i>d</name><name>second</name><val>1</val><val>2</val></propSet>"
  "<missingSet><path>config.keyId</path><fault><fault xsi:type=\"NoPermission\"/></fault></missingSet>"
  "<missingSet><path>guest</path><fault><localizedMessage>x</localizedMessage></fault></missingSet>"
  "<missingSet><fault><fault/></fault></missingSet>"
  "<obj type=\"VirtualMachine\">second obj, ignored</obj><unknown><a>1</a></unknown>"
  "</objects>"
  "<objects><obj type=\"Folder\">group-1</obj>"
  "<propSet><name>name</name><val xsi:type=\"xsd:string\">vm</val></propSet></objects>"
  "<objects><propSet><name>no obj</name><val>x</val></propSet></objects>"
  "<token>page-2</token>"
  TAIL;

struct kept {
  json_t *objects;
  size_t forgotten;
  int stop_after;             /* take fails after this many, if > 0 */
};

static int
keep (void *arg, const json_t *object)
{
  struct kept *k = arg;

  if (k->stop_after > 0 && json_array_size (k->objects) >= (size_t) k->stop_after)
    return -1;
  return json_array_append (k->objects, (json_t *) object);
}

static void
forget (void *arg, size_t n)
{
  struct kept *k = arg;

  k->forgotten += n;
  while (n--)
    json_array_remove (k->objects, json_array_size (k->objects) - 1);
}

/* The tree-based reading: the objects and the token. */
static json_t *
read_as_tree (const char *data, size_t len, char **token)
{
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  json_t *out = json_array ();

  assert_int_equal (vs_parse_answer (data, len, &doc, &f), 0);
  *token = vs_xml_collect_objects (vs_xml_child (vs_xml_body (doc), "returnval"), out);
  xmlFreeDoc (doc);
  return out;
}

/* The streamed reading, fed in pieces of `piece` bytes. */
static int
read_as_stream (const char *data, size_t len, size_t piece, struct kept *k, char **token,
                char **why)
{
  struct vs_object_sink sink = { keep, forget, k };
  struct vs_xml_stream *s = vs_xml_stream_new (&sink);
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  int r;

  assert_non_null (s);
  for (size_t off = 0; off < len; off += piece)
    if (!vs_xml_stream_feed (s, data + off, len - off < piece ? len - off : piece))
      break;
  r = vs_xml_stream_end (s, &doc, &f, why);
  if (r == 0)
    *token = vs_xml_token (vs_xml_child (vs_xml_body (doc), "returnval"));
  xmlFreeDoc (doc);
  vs_fault_free (&f);
  vs_xml_stream_free (s);
  return r;
}

static void
assert_same_objects (const json_t *a, const json_t *b)
{
  char *sa = json_dumps (a, JSON_PRESERVE_ORDER);
  char *sb = json_dumps (b, JSON_PRESERVE_ORDER);

  assert_non_null (sa);
  assert_non_null (sb);
  if (strcmp (sa, sb) != 0)
    fprintf (stderr, "tree:   %s\nstream: %s\n", sa, sb);
  assert_string_equal (sa, sb);           /* the same values, keys in the same order */
  free (sa);
  free (sb);
}

static void
test_same_as_tree (void **state)
{
  static const size_t pieces[] = { 1, 2, 7, 64, 4096, sizeof answer };
  char *tree_token = NULL;
  json_t *tree = read_as_tree (answer, strlen (answer), &tree_token);

  assert_int_equal (json_array_size (tree), 3);
  assert_string_equal (tree_token, "page-2");
  for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
    struct kept k = { json_array (), 0, 0 };
    char *token = NULL, *why = NULL;
    assert_int_equal (read_as_stream (answer, strlen (answer), pieces[i], &k, &token, &why), 0);
    assert_null (why);
    assert_same_objects (tree, k.objects);
    assert_string_equal (token, tree_token);
    free (token);
    json_decref (k.objects);
  }
  /* A few values, spelled out. */
  {
    const json_t *vm = json_array_get (tree, 0);
    assert_string_equal (vs_str (vm, "props.name"), "a & b");
    assert_int_equal (json_array_size (json_object_get (json_object_get (json_object_get (vm, "props"), "config.hardware"), "device")), 3);
    assert_string_equal (vs_str (json_array_get (json_object_get (json_object_get (vm, "props"), "refs"), 1), "type"),
                         "A&B");
    assert_string_equal (vs_str (json_object_get (json_object_get (vm, "props"), "odd"), "y"),
                         "<cdata> and text");
    assert_string_equal (json_string_value (json_object_get (json_object_get (vm, "missing"),
                                                             "config.keyId")), "NoPermission");
    assert_string_equal (json_string_value (json_object_get (json_object_get (vm, "missing"),
                                                             "guest")), "unknown");
    assert_true (json_is_null (json_object_get (json_object_get (vm, "props"), "no value")));
    assert_string_equal (json_string_value (json_object_get (json_object_get (vm, "props"), "named")),
                         "1");
  }
  free (tree_token);
  json_decref (tree);
  (void) state;
}

/* The recorded answers of tests/data/soap read both ways. */
static void
test_recorded_answers (void **state)
{
  static const char *const files[] = { "retrieve-vm.xml", "service-content.xml" };
  const char *src = getenv ("FERRY_SRCDIR");

  if (src == NULL)
    skip ();
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char path[4096];
    FILE *fp;
    char *data;
    long len;
    snprintf (path, sizeof path, "%s/tests/data/soap/%s", src, files[i]);
    fp = fopen (path, "rb");
    assert_non_null (fp);
    fseek (fp, 0, SEEK_END);
    len = ftell (fp);
    rewind (fp);
    data = malloc (len);
    assert_int_equal (fread (data, 1, len, fp), (size_t) len);
    fclose (fp);
    {
      char *tree_token = NULL, *token = NULL, *why = NULL;
      json_t *tree = read_as_tree (data, len, &tree_token);
      struct kept k = { json_array (), 0, 0 };
      assert_int_equal (read_as_stream (data, len, 1000, &k, &token, &why), 0);
      assert_same_objects (tree, k.objects);
      assert_true ((token == NULL) == (tree_token == NULL));
      free (token);
      free (tree_token);
      json_decref (tree);
      json_decref (k.objects);
    }
    free (data);
  }
  (void) state;
}

/* The encoding an answer declares is not followed (it is UTF-8): a
 * stateful one such as UTF-7 would read differently with each way the
 * answer is cut in pieces. */
static void
test_declared_encoding_ignored (void **state)
{
  static const size_t pieces[] = { 1, 7, 1000 };
  char *utf7 = strdup (answer), *at = strstr (utf7, "UTF-8");
  char *tree_token = NULL;
  json_t *tree;

  memcpy (at, "UTF-7", 5);
  tree = read_as_tree (utf7, strlen (utf7), &tree_token);
  assert_string_equal (vs_str (json_array_get (tree, 0), "props.name"), "a & b");
  for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
    struct kept k = { json_array (), 0, 0 };
    char *token = NULL, *why = NULL;
    assert_int_equal (read_as_stream (utf7, strlen (utf7), pieces[i], &k, &token, &why), 0);
    assert_same_objects (tree, k.objects);
    free (token);
    json_decref (k.objects);
  }
  free (tree_token);
  json_decref (tree);
  free (utf7);
  (void) state;
}

/* The limits hold when the answer streams in, as when it is whole. */
static void
test_limits (void **state)
{
  size_t depth = 300000;
  size_t len = strlen (HEAD) + depth * 7 + strlen (TAIL) + 1;
  char *deep = malloc (len), *o = deep;
  static const char laughs[] =
    "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaaaaaaaa\">"
    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
    "<soapenv:Envelope xmlns:soapenv=\"" SOAPENV_NS "\"><soapenv:Body><x>&b;</x>"
    "</soapenv:Body></soapenv:Envelope>";
  struct kept k = { json_array (), 0, 0 };
  char *token = NULL, *why = NULL;

  assert_non_null (deep);
  o = stpcpy (o, HEAD);
  o = stpcpy (o, "<objects>");
  for (size_t i = 0; i < depth; i++)
    o = stpcpy (o, "<a>");
  stpcpy (o, TAIL);
  assert_int_equal (read_as_stream (deep, strlen (deep), 4096, &k, &token, &why), -1);
  assert_string_equal (why, "XML nested deeper than 256 levels");
  free (why);
  free (deep);
  assert_int_equal (read_as_stream (laughs, strlen (laughs), 16, &k, &token, &why), -1);
  assert_non_null (strstr (why, "document type declaration"));
  free (why);
  assert_int_equal (read_as_stream (answer, strlen (answer) - 40, 512, &k, &token, &why), -1);
  assert_non_null (strstr (why, "something that is not well-formed XML"));
  free (why);
  /* Around the objects, a tree of a few elements only. */
  {
    size_t n = VS_XML_MAX_TREE_ELEMENTS + 1;
    char *wide = malloc (strlen (HEAD) + n * 4 + strlen (TAIL) + 1);
    assert_non_null (wide);
    o = stpcpy (wide, HEAD);
    for (size_t i = 0; i < n; i++)
      o = stpcpy (o, "<a/>");
    stpcpy (o, TAIL);
    assert_int_equal (read_as_stream (wide, strlen (wide), 4096, &k, &token, &why), -1);
    assert_string_equal (why, "XML of more than 10000 elements around its objects");
    free (why);
    free (wide);
  }
  assert_int_equal (read_as_stream ("", 0, 1, &k, &token, &why), -1);
  assert_string_equal (why, "an empty body");
  free (why);
  json_decref (k.objects);
  (void) state;
}

/* Read again from the start (the HTTP layer retries): the sink forgets
 * the objects of the first try; read to the end, it has each once. */
static void
test_read_again (void **state)
{
  struct kept k = { json_array (), 0, 0 };
  struct vs_object_sink sink = { keep, forget, &k };
  struct vs_xml_stream *s = vs_xml_stream_new (&sink);
  struct vs_fault f = { 0 };
  xmlDocPtr doc = NULL;
  char *why = NULL;
  size_t len = strlen (answer);

  json_array_append_new (k.objects, json_string ("from an earlier page"));
  assert_true (vs_xml_stream_feed (s, answer, len - 150));   /* in the third object */
  assert_int_equal (json_array_size (k.objects), 3);
  assert_int_equal (vs_xml_stream_begin (s), 0);
  assert_int_equal (k.forgotten, 2);
  assert_int_equal (json_array_size (k.objects), 1);
  assert_true (vs_xml_stream_feed (s, answer, len));
  assert_int_equal (vs_xml_stream_end (s, &doc, &f, &why), 0);
  assert_int_equal (json_array_size (k.objects), 4);
  xmlFreeDoc (doc);
  vs_xml_stream_free (s);
  json_decref (k.objects);
  (void) state;
}

/* A sink that can take no more stops the reading. */
static void
test_sink_stops (void **state)
{
  struct kept k = { json_array (), 0, 1 };
  char *token = NULL, *why = NULL;

  assert_int_equal (read_as_stream (answer, strlen (answer), 64, &k, &token, &why), -1);
  assert_non_null (why);
  assert_int_equal (json_array_size (k.objects), 1);
  free (why);
  json_decref (k.objects);
  (void) state;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_same_as_tree),
    cmocka_unit_test (test_recorded_answers),
    cmocka_unit_test (test_declared_encoding_ignored),
    cmocka_unit_test (test_limits),
    cmocka_unit_test (test_read_again),
    cmocka_unit_test (test_sink_stops),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
