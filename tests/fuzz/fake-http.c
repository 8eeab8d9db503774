/* A stand-in for src/common/http.c in the OpenStack fuzz targets: see
 * fake-http.h.  Defines every function of common/http.h, so that the real
 * one is never linked in (nor needed) beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "common/http.h"
#include "common/redact.h"
#include "fake-http.h"

/* At most this many requests answered per input. */
#define MAX_REQUESTS 256

struct http { int dummy; };

static char *input;
static size_t input_len, pos;
static bool canned;
static unsigned requests;

static const char canned_token[] =
  "{\"token\": {\"methods\": [\"password\"], \"expires_at\": \"2999-12-31T00:00:00.000000Z\","
  " \"user\": {\"id\": \"5ea1cd8d0b9b4c12a7b1c0c8d7f1e001\", \"name\": \"ferry\"},"
  " \"project\": {\"id\": \"0a8f4e2ac5c24e6b9d8f1e2a3b4c5d6e\", \"name\": \"migration\"},"
  " \"catalog\": ["
  "  {\"type\": \"identity\", \"name\": \"keystone\", \"endpoints\": [{\"interface\": \"public\","
  "   \"region_id\": \"RegionOne\", \"url\": \"https://keystone.example.com:5000/v3\"}]},"
  "  {\"type\": \"compute\", \"name\": \"nova\", \"endpoints\": [{\"interface\": \"public\","
  "   \"region_id\": \"RegionOne\", \"url\": \"https://nova.example.com:8774/v2.1\"}]},"
  "  {\"type\": \"volumev3\", \"name\": \"cinderv3\", \"endpoints\": [{\"interface\": \"public\","
  "   \"region_id\": \"RegionOne\","
  "   \"url\": \"https://cinder.example.com:8776/v3/0a8f4e2ac5c24e6b9d8f1e2a3b4c5d6e\"}]},"
  "  {\"type\": \"network\", \"name\": \"neutron\", \"endpoints\": [{\"interface\": \"public\","
  "   \"region_id\": \"RegionOne\", \"url\": \"https://neutron.example.com:9696\"}]},"
  "  {\"type\": \"image\", \"name\": \"glance\", \"endpoints\": [{\"interface\": \"public\","
  "   \"region_id\": \"RegionOne\", \"url\": \"https://glance.example.com:9292\"}]}]}}";

static const char token_header[] = "X-Subject-Token: gAAAAABfuzzfuzzfuzzTOKEN0123456789\r\n";

void
fake_http_load (const uint8_t *data, size_t size, bool canned_keystone)
{
  free (input);
  input = malloc (size + 1);
  if (input == NULL)
    abort ();
  memcpy (input, data, size);
  input[size] = '\0';
  input_len = size;
  pos = 0;
  canned = canned_keystone;
  requests = 0;
}

unsigned
fake_http_requests (void)
{
  return requests;
}

void
fake_http_done (void)
{
  free (input);
  input = NULL;
  input_len = pos = 0;
  redact_clear ();
  os_plain_http_reset ();
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcmp (s + n - m, suffix) == 0;
}

static char *
dup_bytes (const char *p, size_t n)
{
  char *s = malloc (n + 1);
  if (s == NULL)
    abort ();
  memcpy (s, p, n);
  s[n] = '\0';
  return s;
}

/* The next answer of the input into resp; false if there is none. */
static bool
next_answer (bool keystone, struct http_response *resp)
{
  const char *start, *end, *sep, *body;
  bool token = true;
  long status = keystone ? 201 : 200;

  if (input == NULL || pos > input_len || (pos == input_len && pos > 0))
    return false;
  start = input + pos;
  /* Up to the next "\n%%\n" (or "\n%%" at the very end). */
  sep = memmem (start, input_len - pos, "\n%%\n", 4);
  if (sep) {
    end = sep;
    pos = (size_t) (sep - input) + 4;
  }
  else {
    end = input + input_len;
    if (end - start >= 3 && memcmp (end - 3, "\n%%", 3) == 0)
      end -= 3;
    pos = input_len + 1;        /* the last one */
  }
  body = start;
  if (end - start >= 3 && start[0] >= '1' && start[0] <= '5' &&
      start[1] >= '0' && start[1] <= '9' && start[2] >= '0' && start[2] <= '9' &&
      (end - start == 3 || start[3] == '\n' || start[3] == ' ')) {
    status = (start[0] - '0') * 100 + (start[1] - '0') * 10 + (start[2] - '0');
    body = start + 3;
    if (end - body >= 2 && body[0] == ' ' && body[1] == '-') {
      token = false;
      body += 2;
    }
    while (body < end && *body != '\n')
      body++;
    if (body < end)
      body++;
  }
  resp->status = status;
  resp->len = (size_t) (end - body);
  resp->body = dup_bytes (body, resp->len);
  {
    char head[256];
    snprintf (head, sizeof head, "HTTP/1.1 %ld Fuzz\r\nContent-Type: application/json\r\n%s\r\n",
              status, keystone && token ? token_header : "");
    resp->headers = strdup (head);
  }
  return true;
}

int
http_request (struct http *h, const struct http_request *req, struct http_response *resp)
{
  bool keystone = ends_with (req->url, "/auth/tokens");

  (void) h;
  http_response_free (resp);
  if (++requests > MAX_REQUESTS)
    return -1;
  if (keystone && canned) {
    resp->status = 201;
    resp->len = strlen (canned_token);
    resp->body = dup_bytes (canned_token, resp->len);
    resp->headers = strdup ("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                            "X-Subject-Token: gAAAAABfuzzfuzzfuzzTOKEN0123456789\r\n\r\n");
    return 0;
  }
  /* No more answers: as http.c after its retries, minus its message. */
  return next_answer (keystone, resp) ? 0 : -1;
}

struct http *
http_new (const char *service)
{
  (void) service;
  return calloc (1, sizeof (struct http));
}

void
http_free (struct http *h)
{
  free (h);
}

int
http_set_tls (struct http *h, const struct http_tls *tls)
{
  (void) h;
  (void) tls;
  return 0;
}

void
http_set_retries (struct http *h, int max_attempts, long first_delay_ms)
{
  (void) h;
  (void) max_attempts;
  (void) first_delay_ms;
}

void
http_set_timeouts (struct http *h, long connect_s, long stall_s)
{
  (void) h;
  (void) connect_s;
  (void) stall_s;
}

void
http_set_limits (long long max_body_mib, long long timeout_s)
{
  (void) max_body_mib;
  (void) timeout_s;
}

void
http_response_free (struct http_response *resp)
{
  free (resp->body);
  free (resp->headers);
  memset (resp, 0, sizeof *resp);
}

/* As http.c's. */
char *
http_response_header (const struct http_response *resp, const char *name)
{
  size_t nl = strlen (name);
  const char *p = resp->headers;

  while (p && *p) {
    const char *eol = strchr (p, '\n');
    size_t len = eol ? (size_t) (eol - p) : strlen (p);
    if (len > nl && strncasecmp (p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      size_t vl = len - nl - 1;
      while (vl && (*v == ' ' || *v == '\t')) { v++; vl--; }
      while (vl && (v[vl-1] == '\r' || v[vl-1] == ' ')) vl--;
      return strndup (v, vl);
    }
    p = eol ? eol + 1 : NULL;
  }
  return NULL;
}

char *
http_get_cookie (struct http *h, const char *name)
{
  (void) h;
  (void) name;
  return NULL;
}

int
http_set_cookie (struct http *h, const char *host, const char *name, const char *value)
{
  (void) h;
  (void) host;
  (void) name;
  (void) value;
  return 0;
}

const char *
http_peer_thumbprint (const struct http *h)
{
  (void) h;
  return NULL;
}

char *
http_normalise_thumbprint (const char *s)
{
  (void) s;
  return NULL;
}

void http_global_init (void) { }
void http_global_cleanup (void) { }

/* No sleeping in the fuzzers (see fake-http.h). */
void __wrap_sleep_ms (long ms);
void
__wrap_sleep_ms (long ms)
{
  (void) ms;
}

struct os_client *
fake_os_connect (void)
{
  json_t *cloud = json_pack ("{s:s, s:s, s:s, s:b, s:{s:s, s:s, s:s, s:s, s:s, s:s}}",
                             "auth_type", "password", "region_name", "RegionOne",
                             "interface", "public", "insecure", 0,
                             "auth", "auth_url", "https://keystone.example.com:5000/v3",
                             "username", "ferry", "password", "fuzz-password",
                             "project_name", "migration", "user_domain_name", "Default",
                             "project_domain_name", "Default");
  int ec = 0;
  struct os_client *c = os_connect (cloud, &ec);

  json_decref (cloud);
  if (c)
    os_set_conflict_retries (c, 3, 0);
  return c;
}
