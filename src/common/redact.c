/* ferry: redaction, see redact.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <pthread.h>

#include "common/lock.h"
#include "common/redact.h"
#include "common/vector.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static string_vector secrets = empty_vector;

void
redact_add_secret (const char *value)
{
  char *copy;

  if (value == NULL || strlen (value) < REDACT_MIN_LEN)
    return;
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
  for (size_t i = 0; i < secrets.len; i++)
    if (strcmp (secrets.ptr[i], value) == 0)
      return;
  copy = strdup (value);
  if (copy && string_vector_append (&secrets, copy) == -1)
    free (copy);
}

void
redact_clear (void)
{
  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
  string_vector_free_all (&secrets);
}

static const char *const secret_words[] = {
  "password", "passwd", "secret", "token", "cookie", "authorization", "soap_session",
  "credential_secret", "private_key", NULL
};

bool
redact_is_secret_key (const char *key)
{
  if (key == NULL)
    return false;
  for (size_t i = 0; secret_words[i]; i++)
    if (strcasestr (key, secret_words[i]))
      return true;
  return false;
}

/* A growable output string. */
struct buf { char *p; size_t len, cap; bool oom; };

static void
buf_add (struct buf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    char *np;
    while (cap < b->len + n + 1)
      cap *= 2;
    np = realloc (b->p, cap);
    if (np == NULL) { b->oom = true; return; }
    b->p = np;
    b->cap = cap;
  }
  memcpy (b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

/* Pass 1: replace every registered secret, longest first so that a secret
 * containing another is masked whole. */
/* A short secret that is also a common word ("pass", "admin") is masked
 * only where it stands alone, not inside longer words ("password" stays
 * readable); longer secrets are masked wherever they appear. */
#define REDACT_WORD_LEN 8
static bool
inside_word (const char *s, size_t n, size_t i, size_t l)
{
  return (i > 0 && isalnum ((unsigned char) s[i-1])) ||
    (i + l < n && isalnum ((unsigned char) s[i+l]));
}

static char *
mask_registered (const char *s)
{
  struct buf b = { 0 };
  size_t i = 0, n = strlen (s);

  {
    ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
    while (i < n) {
      size_t best = 0;
      for (size_t k = 0; k < secrets.len; k++) {
        size_t l = strlen (secrets.ptr[k]);
        if (l > best && l <= n - i && memcmp (s + i, secrets.ptr[k], l) == 0 &&
            (l >= REDACT_WORD_LEN || !inside_word (s, n, i, l)))
          best = l;
      }
      if (best) {
        buf_add (&b, REDACTED, strlen (REDACTED));
        i += best;
      }
      else {
        buf_add (&b, s + i, 1);
        i++;
      }
    }
  }
  if (b.p == NULL && !b.oom)
    return strdup ("");
  if (b.oom) { free (b.p); return NULL; }
  return b.p;
}

/* Does s (at position i) start with word, case-insensitively? */
static bool
starts_ci (const char *s, const char *word)
{
  return strncasecmp (s, word, strlen (word)) == 0;
}

static bool
is_key_char (char c)
{
  return isalnum ((unsigned char) c) || c == '_' || c == '-' || c == '.';
}

/* Pass 2: mask values that are secrets by their position, whatever they
 * are: header values, URL passwords, key=value, <password>, "password":. */
static char *
mask_carriers (const char *s)
{
  static const char *const headers[] = {
    "cookie:", "set-cookie:", "x-auth-token:", "x-subject-token:",
    "authorization:", "proxy-authorization:", NULL
  };
  struct buf b = { 0 };
  size_t i = 0, n = strlen (s);

  while (i < n) {
    bool line_start = i == 0 || s[i-1] == '\n' || s[i-1] == ' ' || s[i-1] == '\t'
      || s[i-1] == '"' || s[i-1] == '\'';
    size_t k;

    /* libcurl's cookie-engine lines ("Added cookie NAME="VALUE" for
     * domain ..."): the value, before the cookie is ever registered. */
    if (line_start && (starts_ci (s + i, "added cookie ") ||
                       starts_ci (s + i, "replaced cookie "))) {
      const char *eq = memchr (s + i, '=', n - i);
      const char *nl = memchr (s + i, '\n', n - i);
      if (eq && (nl == NULL || eq < nl)) {
        size_t v = (size_t) (eq - s) + 1, e;
        buf_add (&b, s + i, v - i);
        buf_add (&b, REDACTED, strlen (REDACTED));
        if (v < n && s[v] == '"') {
          e = v + 1;
          while (e < n && s[e] != '"' && s[e] != '\n')
            e++;
          if (e < n && s[e] == '"')
            e++;
        }
        else
          for (e = v; e < n && s[e] != ' ' && s[e] != ';' && s[e] != '\n'; e++)
            ;
        i = e;
        continue;
      }
    }
    /* Headers: mask to end of line. */
    if (line_start) {
      for (k = 0; headers[k]; k++)
        if (starts_ci (s + i, headers[k]))
          break;
      if (headers[k]) {
        size_t l = strlen (headers[k]);
        /* Inside a quoted string the value ends at the quote, else at the
         * end of the line. */
        char q = i > 0 && (s[i-1] == '"' || s[i-1] == '\'') ? s[i-1] : '\n';
        buf_add (&b, s + i, l);
        i += l;
        buf_add (&b, " " REDACTED, strlen (REDACTED) + 1);
        while (i < n && s[i] != '\n' && s[i] != '\r' && s[i] != q)
          i++;
        continue;
      }
    }
    /* URL userinfo: scheme://user:password@host */
    if (s[i] == ':' && i + 2 < n && s[i+1] == '/' && s[i+2] == '/') {
      size_t j = i + 3, colon = 0, at = 0;
      while (j < n && s[j] != '/' && s[j] != ' ' && s[j] != '\n' && s[j] != '"') {
        if (s[j] == ':' && !colon) colon = j;
        if (s[j] == '@') at = j;
        j++;
      }
      if (colon && at > colon) {
        buf_add (&b, s + i, colon + 1 - i);
        buf_add (&b, REDACTED, strlen (REDACTED));
        i = at;
        continue;
      }
    }
    /* <password>...</password> (any namespace prefix) */
    if (s[i] == '<' && i + 1 < n && s[i+1] != '/') {
      size_t j = i + 1, name;
      while (j < n && s[j] != '>' && s[j] != ' ' && s[j] != ':') j++;
      name = (j < n && s[j] == ':') ? j + 1 : i + 1;
      if (starts_ci (s + name, "password>")) {
        const char *end = strstr (s + name, "</");
        size_t l = name + strlen ("password>") - i;
        buf_add (&b, s + i, l);
        buf_add (&b, REDACTED, strlen (REDACTED));
        i += l;
        i = end ? (size_t) (end - s) : n;
        continue;
      }
    }
    /* key=value and "key": "value" where key names a secret. */
    if (is_key_char (s[i]) && (i == 0 || !is_key_char (s[i-1]))) {
      size_t j = i;
      while (j < n && is_key_char (s[j])) j++;
      if (j < n) {
        char key[64];
        size_t kl = j - i < sizeof key - 1 ? j - i : sizeof key - 1;
        memcpy (key, s + i, kl);
        key[kl] = '\0';
        if (redact_is_secret_key (key)) {
          size_t v = j;
          bool quoted_key = i > 0 && s[i-1] == '"' && s[j] == '"';
          if (quoted_key) v++;
          if (v < n && (s[v] == '=' || s[v] == ':')) {
            /* "key: word" in prose is not a secret; "key=word" and
             * "\"key\": value" are. */
            bool mask_bare = s[v] == '=' || quoted_key;
            v++;
            while (v < n && s[v] == ' ') v++;
            if (v < n && (s[v] == '"' || s[v] == '\'')) {
              char q = s[v];
              size_t e = v + 1;
              while (e < n && s[e] != q) {
                if (s[e] == '\\' && e + 1 < n) e++;
                e++;
              }
              buf_add (&b, s + i, v + 1 - i);
              buf_add (&b, REDACTED, strlen (REDACTED));
              i = e;
              continue;
            }
            if (mask_bare && v < n && s[v] != '{' && s[v] != '[' && s[v] != '\n') {
              size_t e = v;
              while (e < n && s[e] != ' ' && s[e] != '\n' && s[e] != '&'
                     && s[e] != ',' && s[e] != ';' && s[e] != '}')
                e++;
              if (e > v) {
                buf_add (&b, s + i, v - i);
                buf_add (&b, REDACTED, strlen (REDACTED));
                i = e;
                continue;
              }
            }
          }
        }
        buf_add (&b, s + i, j - i);
        i = j;
        continue;
      }
    }
    buf_add (&b, s + i, 1);
    i++;
  }
  if (b.oom) { free (b.p); return NULL; }
  return b.p ? b.p : strdup ("");
}

char *
redact_string (const char *s)
{
  char *a, *r;

  if (s == NULL)
    return NULL;
  a = mask_registered (s);
  if (a == NULL)
    return NULL;
  r = mask_carriers (a);
  free (a);
  return r;
}

json_t *
redact_json (const json_t *j)
{
  json_t *out;
  const char *key;
  json_t *v;
  size_t i;

  switch (json_typeof (j)) {
  case JSON_OBJECT:
    out = json_object ();
    json_object_foreach ((json_t *) j, key, v) {
      if (redact_is_secret_key (key) && !json_is_null (v) && !json_is_object (v)
          && !json_is_array (v))
        json_object_set_new (out, key, json_string (REDACTED));
      else
        json_object_set_new (out, key, redact_json (v));
    }
    return out;
  case JSON_ARRAY:
    out = json_array ();
    json_array_foreach ((json_t *) j, i, v)
      json_array_append_new (out, redact_json (v));
    return out;
  case JSON_STRING: {
    char *r = redact_string (json_string_value (j));
    out = json_string (r ? r : REDACTED);
    free (r);
    return out;
  }
  default:
    return json_deep_copy (j);
  }
}

void
redact_add_secrets_from_json (const json_t *j)
{
  const char *key;
  json_t *v;
  size_t i;

  if (json_is_object (j)) {
    json_object_foreach ((json_t *) j, key, v) {
      if (redact_is_secret_key (key) && json_is_string (v))
        redact_add_secret (json_string_value (v));
      else
        redact_add_secrets_from_json (v);
    }
  }
  else if (json_is_array (j)) {
    json_array_foreach ((json_t *) j, i, v)
      redact_add_secrets_from_json (v);
  }
}

int
redact_argv_check (char *const argv[], int *bad)
{
  int r = 0;

  ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&lock);
  for (int a = 0; argv[a] && r == 0; a++)
    for (size_t k = 0; k < secrets.len; k++)
      if (strstr (argv[a], secrets.ptr[k])) {
        if (bad) *bad = a;
        r = -1;
        break;
      }
  return r;
}
