/* Unit tests of the nbdkit nfc plugin's pure parts: framing, fragment
 * reassembly, thumbprints, ticket checks, parameters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "nfc-conn.h"
#include "nfc-params.h"
#include "nfc-proto.h"
#include "nfc-vs.h"

static void
test_classic_messages (void **state)
{
  uint8_t m[NFC_MSG_SIZE];

  (void) state;
  nfc_msg_handshake (m);
  assert_int_equal (nfc_msg_type (m), 43);
  assert_memory_equal (m + 4, "PlainText", 9);
  assert_int_equal (m[13], 0);
  assert_int_equal (m[NFC_MSG_SIZE - 1], 0);
  nfc_msg_version (m, 11);
  assert_int_equal (nfc_msg_type (m), 51);
  assert_int_equal (nfc_get32 (m + 4), 11);
  nfc_msg_connection_data (m, 5, 10);
  assert_int_equal (nfc_msg_type (m), 54);
  assert_int_equal (nfc_get32 (m + 4), 5);
  assert_int_equal (nfc_get32 (m + 8), 10);
  nfc_msg_features (m, 3);
  assert_int_equal (m[0], 55);
  assert_int_equal (nfc_get32 (m + 4), 3);
}

static void
test_aio_header (void **state)
{
  uint8_t h[NFC_AIO_HDR_SIZE];
  struct nfc_aio_hdr d;
  char why[256];
  static const uint8_t wire_magic[4] = { 0x7a, 0xda, 0x00, 0xa1 };

  (void) state;
  nfc_aio_hdr_encode (h, NFC_AIO_IO, 44, 18);
  assert_memory_equal (h, wire_magic, 4);       /* nfc_open.md: 7a da 00 a1 */
  assert_int_equal (nfc_aio_hdr_decode (h, &d, why, sizeof why), 0);
  assert_int_equal (d.type, 7);
  assert_int_equal (d.size, 44);
  assert_int_equal (d.opid, 18);
  h[0] ^= 1;
  assert_int_equal (nfc_aio_hdr_decode (h, &d, why, sizeof why), -1);
  assert_non_null (strstr (why, "magic"));
  nfc_aio_hdr_encode (h, NFC_AIO_IO, NFC_AIO_MAX_PAYLOAD + 1, 1);
  assert_int_equal (nfc_aio_hdr_decode (h, &d, why, sizeof why), -1);
  assert_non_null (strstr (why, "payload bytes"));
  nfc_aio_hdr_encode (h, NFC_AIO_IO, UINT32_MAX, 1);
  assert_int_equal (nfc_aio_hdr_decode (h, &d, why, sizeof why), -1);
}

static void
test_open_file (void **state)
{
  uint8_t p[NFC_OPEN_FILE_SIZE], r[60];
  struct nfc_open_reply o;
  char why[256];

  (void) state;
  nfc_open_file_encode (p, 38, NFC_OPEN_READ_ONLY);
  assert_int_equal (nfc_get32 (p), 38);
  assert_int_equal (nfc_get32 (p + 16), 2);
  assert_int_equal (nfc_get32 (p + 20), 0x1e);
  for (int i = 24; i < 60; i++)
    assert_int_equal (p[i], 0);
  memset (r, 0, sizeof r);
  nfc_put64 (r + 8, 0x1122334455667788ULL);
  nfc_put32 (r + 16, 2);
  nfc_put32 (r + 20, 0x1e);
  nfc_put32 (r + 36, 512);
  assert_int_equal (nfc_open_file_reply_decode (r, sizeof r, &o, why, sizeof why), 0);
  assert_true (o.handle == 0x1122334455667788ULL);
  assert_int_equal (o.sector_size, 512);
  assert_int_equal (nfc_open_file_reply_decode (r, 20, &o, why, sizeof why), -1);
  nfc_put32 (r + 36, 513);
  assert_int_equal (nfc_open_file_reply_decode (r, sizeof r, &o, why, sizeof why), -1);
  nfc_put32 (r + 36, 0);
  assert_int_equal (nfc_open_file_reply_decode (r, sizeof r, &o, why, sizeof why), -1);
  nfc_put32 (r + 36, 4096);
  nfc_put32 (r + 16, 1);
  assert_int_equal (nfc_open_file_reply_decode (r, sizeof r, &o, why, sizeof why), -1);
}

static void
test_io_request (void **state)
{
  uint8_t p[NFC_IO_SIZE];

  (void) state;
  /* nfc_read.md "Request (44 bytes)": Read(0, 129) is 66048 bytes. */
  nfc_io_read_encode (p, 0xabcdef, 0, 66048);
  assert_true (nfc_get64 (p) == 0xabcdef);
  assert_true (nfc_get64 (p + 8) == 1);
  assert_true (nfc_get64 (p + 16) == 0);
  assert_true (nfc_get64 (p + 24) == 66048);
  assert_int_equal (nfc_get32 (p + 32), 66048);
  assert_int_equal (nfc_get32 (p + 36), 66048);
  assert_int_equal (nfc_get32 (p + 40), 0);
}

static struct nfc_io_frag
frag (uint64_t off, uint32_t total, uint32_t fo, uint32_t fl)
{
  return (struct nfc_io_frag) { .opcode = 1, .req_offset = off, .total = total,
                                .frag_offset = fo, .frag_len = fl };
}

static void
test_reply_decode (void **state)
{
  uint8_t p[NFC_IO_SIZE] = { 0 };
  struct nfc_io_frag f;

  (void) state;
  /* nfc_read.md "Reply": the 129-sector example's second fragment. */
  nfc_put64 (p + 8, 1);
  nfc_put64 (p + 16, 4096);
  nfc_put32 (p + 24, 66048);
  nfc_put32 (p + 28, 65536);
  nfc_put32 (p + 32, 512);
  nfc_put32 (p + 36, 512);
  nfc_io_reply_decode (p, &f);
  assert_true (f.req_offset == 4096);
  assert_int_equal (f.total, 66048);
  assert_int_equal (f.frag_offset, 65536);
  assert_int_equal (f.frag_len, 512);
}

static void
test_reasm_any_order (void **state)
{
  struct nfc_reasm a;
  char why[256];
  const uint32_t len = 4 * 65536 + 512;
  struct nfc_io_frag f;

  (void) state;
  assert_int_equal (nfc_reasm_init (&a, 8192, len), 0);
  /* 3, 1, 4(last, short), 0, 2: complete only at the end. */
  f = frag (8192, len, 3 * 65536, 65536);
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), 0);
  f = frag (8192, len, 65536, 65536);
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), 0);
  f = frag (8192, len, 4 * 65536, 512);
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), 0);
  f = frag (8192, len, 0, 65536);
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), 0);
  assert_false (nfc_reasm_done (&a));
  f = frag (8192, len, 2 * 65536, 65536);
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), 0);
  assert_true (nfc_reasm_done (&a));
  assert_int_equal (a.n, 1);                    /* all merged */
  /* Anything more now overlaps. */
  f = frag (8192, len, 0, 512);
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  nfc_reasm_free (&a);
}

static void
test_reasm_bad (void **state)
{
  struct nfc_reasm a;
  char why[256];
  struct nfc_io_frag f;

  (void) state;
  assert_int_equal (nfc_reasm_init (&a, 0, 131072), 0);
  f = frag (0, 131072, 131072, 512);              /* past the end */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  assert_non_null (strstr (why, "past the end"));
  f = frag (0, 131072, 131072 - 100, 512);        /* straddles the end */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  f = frag (0, 131072, UINT32_MAX - 10, 512);     /* wraps */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  f = frag (0, 131072, 0, 0);                     /* empty */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  f = frag (0, 131072, 0, 65537);                 /* over 64 KiB */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  f = frag (512, 131072, 0, 512);                 /* another request's offset */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  f = frag (0, 65536, 0, 512);                    /* another request's length */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  f = frag (0, 131072, 0, 512);
  f.opcode = 1 | (2ULL << 32);                    /* FastLZ: not asked */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  f = frag (0, 131072, 1000, 2000);
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), 0);
  f = frag (0, 131072, 2999, 10);                 /* overlaps the end of the last */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  assert_non_null (strstr (why, "overlapping"));
  f = frag (0, 131072, 0, 1001);                  /* overlaps its start */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), -1);
  f = frag (0, 131072, 0, 1000);                  /* touches: fine */
  assert_int_equal (nfc_reasm_accept (&a, &f, why, sizeof why), 0);
  assert_int_equal (a.received, 3000);
  nfc_reasm_free (&a);
}

static void
test_reasm_bounded (void **state)
{
  struct nfc_reasm a;
  char why[256];
  struct nfc_io_frag f;
  int r = 0;
  uint32_t i;

  (void) state;
  /* One-byte fragments with gaps: the range list stops growing. */
  assert_int_equal (nfc_reasm_init (&a, 0, 1 << 20), 0);
  for (i = 0; i < (1 << 20) && r == 0; i += 2) {
    f = frag (0, 1 << 20, i, 1);
    r = nfc_reasm_accept (&a, &f, why, sizeof why);
  }
  assert_int_equal (r, -1);
  assert_non_null (strstr (why, "scattered"));
  assert_true (a.n <= a.cap);
  assert_true (a.cap <= (1 << 20) / 65536 + 16);
  nfc_reasm_free (&a);
}

static void
test_thumbprint (void **state)
{
  char *t;

  (void) state;
  t = nfc_thumbprint_normalise ("be2258aa00112233445566778899aabbccdd7629");
  assert_string_equal (t, "BE:22:58:AA:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:76:29");
  free (t);
  t = nfc_thumbprint_normalise ("BE:22:58:AA:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:76:29");
  assert_non_null (t);
  free (t);
  t = nfc_thumbprint_normalise ("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  assert_int_equal (strlen (t), 95);
  free (t);
  assert_null (nfc_thumbprint_normalise ("BE:22"));
  assert_null (nfc_thumbprint_normalise ("zz2258aa00112233445566778899aabbccdd7629"));
  assert_null (nfc_thumbprint_normalise (""));
  assert_null (nfc_thumbprint_normalise (NULL));
}

/* A self-signed certificate made here, and its thumbprints checked. */
static void
test_cert_matches (void **state)
{
  EVP_PKEY *k = EVP_EC_gen ("P-256");
  X509 *x = X509_new ();
  unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
  unsigned mdlen;
  int len;
  char hex[200], *norm;

  (void) state;
  assert_non_null (k);
  X509_set_version (x, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (x), 1);
  X509_gmtime_adj (X509_getm_notBefore (x), 0);
  X509_gmtime_adj (X509_getm_notAfter (x), 3600);
  X509_set_pubkey (x, k);
  X509_NAME_add_entry_by_txt (X509_get_subject_name (x), "CN", MBSTRING_ASC,
                              (const unsigned char *) "esxi", -1, -1, 0);
  X509_set_issuer_name (x, X509_get_subject_name (x));
  assert_true (X509_sign (x, k, EVP_sha256 ()) > 0);
  len = i2d_X509 (x, &der);
  assert_true (len > 0);

  X509_digest (x, EVP_sha1 (), md, &mdlen);
  for (unsigned i = 0; i < mdlen; i++)
    sprintf (hex + 2 * i, "%02x", md[i]);
  norm = nfc_thumbprint_normalise (hex);
  assert_true (nfc_cert_matches (der, len, norm));
  norm[0] = norm[0] == 'A' ? 'B' : 'A';
  assert_false (nfc_cert_matches (der, len, norm));
  free (norm);
  X509_digest (x, EVP_sha256 (), md, &mdlen);
  for (unsigned i = 0; i < mdlen; i++)
    sprintf (hex + 2 * i, "%02x", md[i]);
  norm = nfc_thumbprint_normalise (hex);
  assert_true (nfc_cert_matches (der, len, norm));
  free (norm);
  assert_false (nfc_cert_matches (der, len, "AB:CD"));
  assert_false (nfc_cert_matches ((const unsigned char *) "junk", 4,
                                  "BE:22:58:AA:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:76:29"));
  OPENSSL_free (der);
  X509_free (x);
  EVP_PKEY_free (k);
}

static void
test_ticket (void **state)
{
  struct nfc_ticket t;
  char why[256];
  json_t *j;

  (void) state;
  j = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "host", "10.11.12.13", "port", "902",
                 "sslThumbprint", "be:22:58:aa:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:76:29",
                 "service", "vpxa-nfc", "sessionId", "52cdebc5-b7ee-359a-1dec-76f0bc105ac5");
  assert_int_equal (nfc_ticket_from_json (j, &t, why, sizeof why), 0);
  assert_string_equal (t.host, "10.11.12.13");
  assert_int_equal (t.port, 902);
  assert_string_equal (t.thumbprint, "BE:22:58:AA:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:76:29");
  nfc_ticket_free (&t);

  /* Each field missing or malformed: an error, no crash, nothing kept. */
  {
    static const char *const fields[] = { "host", "port", "sslThumbprint", "service",
                                           "sessionId" };
    for (size_t i = 0; i < 5; i++) {
      json_t *k = json_deep_copy (j);
      json_object_del (k, fields[i]);
      assert_int_equal (nfc_ticket_from_json (k, &t, why, sizeof why), -1);
      assert_null (t.host);
      assert_null (t.session);
      json_object_set_new (k, fields[i], json_string ("bad value\r\nPROXY x"));
      assert_int_equal (nfc_ticket_from_json (k, &t, why, sizeof why), -1);
      json_decref (k);
    }
  }
  json_object_set_new (j, "port", json_integer (70000));
  assert_int_equal (nfc_ticket_from_json (j, &t, why, sizeof why), -1);
  assert_int_equal (nfc_ticket_from_json (NULL, &t, why, sizeof why), -1);
  json_decref (j);
  j = json_string ("just text");
  assert_int_equal (nfc_ticket_from_json (j, &t, why, sizeof why), -1);
  json_decref (j);
}

static void
test_params (void **state)
{
  struct nfc_params p;
  char why[512];

  (void) state;
  nfc_params_init (&p);
  assert_true (p.ssl);
  assert_int_equal (p.connections, NFC_DEFAULT_CONNECTIONS);
  assert_int_equal (nfc_params_check (&p, why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "server", "vc.example.com", why, sizeof why), 0);
  assert_int_equal (nfc_params_set (&p, "user", "a@vsphere.local", why, sizeof why), 0);
  assert_int_equal (nfc_params_set (&p, "vm", "vm-13098", why, sizeof why), -1);
  assert_non_null (strstr (why, "moref="));
  assert_int_equal (nfc_params_set (&p, "vm", "moref=vm-13098", why, sizeof why), 0);
  assert_string_equal (p.vm, "vm-13098");
  assert_int_equal (nfc_params_set (&p, "vm", "moref=vm-1", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "vm", "moref=vm 1<x>", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "disk", "20x", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "disk", "-1", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "file", "ds1/vm.vmdk", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "file", "[ds1]vm.vmdk", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "file", "[] vm.vmdk", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "transport", "san", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "transport", "nbd", why, sizeof why), 0);
  assert_false (p.ssl);
  assert_int_equal (nfc_params_set (&p, "connections", "0", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "connections", "33", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "connections", "4", why, sizeof why), 0);
  assert_int_equal (nfc_params_set (&p, "requests", "65", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "requests", "16", why, sizeof why), 0);
  assert_int_equal (nfc_params_set (&p, "thumbprint", "12:34", why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "thumbprint",
                                    "be2258aa00112233445566778899aabbccdd7629", why, sizeof why), 0);
  assert_int_equal (nfc_params_set (&p, "bogus", "1", why, sizeof why), -1);
  assert_non_null (strstr (why, "unknown parameter"));
  assert_false (nfc_password_form ("hunter2"));
  assert_false (nfc_password_form (""));
  assert_true (nfc_password_form ("+/etc/pw"));
  assert_true (nfc_password_form ("-"));
  p.password = strdup ("x");
  /* Neither disk nor file. */
  assert_int_equal (nfc_params_check (&p, why, sizeof why), -1);
  assert_int_equal (nfc_params_set (&p, "file", "[ds1] vm/vm.vmdk", why, sizeof why), 0);
  assert_int_equal (nfc_params_check (&p, why, sizeof why), 0);
  assert_int_equal (nfc_params_set (&p, "disk", "2000", why, sizeof why), 0);
  assert_int_equal (nfc_params_check (&p, why, sizeof why), -1);   /* both */
  free (p.file);
  p.file = NULL;
  assert_int_equal (nfc_params_check (&p, why, sizeof why), 0);
  assert_int_equal (nfc_params_set (&p, "changeid", "*", why, sizeof why), 0);
  assert_int_equal (nfc_params_check (&p, why, sizeof why), -1);   /* needs snapshot */
  assert_int_equal (nfc_params_set (&p, "snapshot", "snapshot-3", why, sizeof why), 0);
  assert_int_equal (nfc_params_check (&p, why, sizeof why), 0);
  nfc_params_free (&p);
}

static void
test_safe_token (void **state)
{
  (void) state;
  assert_true (nfc_safe_token ("52cdebc5-b7ee", 64));
  assert_false (nfc_safe_token ("a b", 64));
  assert_false (nfc_safe_token ("a\r\nPROXY", 64));
  assert_false (nfc_safe_token ("", 64));
  assert_false (nfc_safe_token ("abcdef", 3));
  assert_false (nfc_safe_token ("caf\xc3\xa9", 64));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_classic_messages),
    cmocka_unit_test (test_aio_header),
    cmocka_unit_test (test_open_file),
    cmocka_unit_test (test_io_request),
    cmocka_unit_test (test_reply_decode),
    cmocka_unit_test (test_reasm_any_order),
    cmocka_unit_test (test_reasm_bad),
    cmocka_unit_test (test_reasm_bounded),
    cmocka_unit_test (test_thumbprint),
    cmocka_unit_test (test_cert_matches),
    cmocka_unit_test (test_ticket),
    cmocka_unit_test (test_params),
    cmocka_unit_test (test_safe_token),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
