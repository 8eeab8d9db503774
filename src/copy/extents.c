/* ferry: the --extents file: a JSON array [{"start":N,"length":N},...],
 * the form of vSphere CBT's changed areas. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <jansson.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "copy/rw.h"

static int
get_u64 (json_t *area, size_t i, const char *key, const char *what, uint64_t *out)
{
  json_t *v = json_object_get (area, key);

  if (v == NULL) {
    log_error ("extents %s: area %zu has no \"%s\"", what, i, key);
    return -1;
  }
  if (!json_is_integer (v) || json_integer_value (v) < 0) {
    log_error ("extents %s: area %zu: \"%s\" must be a non-negative integer", what, i, key);
    return -1;
  }
  *out = (uint64_t) json_integer_value (v);
  return 0;
}

int
copy_parse_extents (const char *text, const char *what, struct copy_range **ranges, size_t *n)
{
  CLEANUP_JSON json_t *root = NULL;
  json_error_t jerr;
  range_vector v = empty_vector;
  size_t i;
  json_t *area;

  root = json_loads (text, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL) {
    log_error ("extents %s: not valid JSON: line %d column %d: %s",
               what, jerr.line, jerr.column, jerr.text);
    return -1;
  }
  if (!json_is_array (root)) {
    log_error ("extents %s: expected a JSON array of {\"start\":N,\"length\":N}", what);
    return -1;
  }
  json_array_foreach (root, i, area) {
    struct copy_range r;
    if (!json_is_object (area)) {
      log_error ("extents %s: area %zu is not an object {\"start\":N,\"length\":N}", what, i);
      goto err;
    }
    if (get_u64 (area, i, "start", what, &r.start) == -1 ||
        get_u64 (area, i, "length", what, &r.length) == -1)
      goto err;
    if (r.start + r.length < r.start) {
      log_error ("extents %s: area %zu overflows", what, i);
      goto err;
    }
    if (range_vector_append (&v, r) == -1) {
      log_error ("extents %s: out of memory", what);
      goto err;
    }
  }
  ranges_normalize (&v);
  *ranges = v.ptr;
  *n = v.len;
  return 0;

 err:
  range_vector_reset (&v);
  return -1;
}

int
copy_load_extents (const char *path, struct copy_range **ranges, size_t *n)
{
  CLEANUP_FCLOSE FILE *fp = NULL;
  CLEANUP_FREE char *text = NULL;
  size_t len = 0;

  fp = fopen (path, "re");
  if (fp == NULL) {
    log_error ("extents file %s: %s", path, strerror (errno));
    return -1;
  }
  /* Read the whole file, whatever its size. */
  {
    FILE *mem = open_memstream (&text, &len);
    char chunk[65536];
    size_t got;
    if (mem == NULL) {
      log_error ("extents file %s: out of memory", path);
      return -1;
    }
    while ((got = fread (chunk, 1, sizeof chunk, fp)) > 0)
      fwrite (chunk, 1, got, mem);
    fclose (mem);
    if (ferror (fp)) {
      log_error ("extents file %s: %s", path, strerror (errno));
      return -1;
    }
  }
  if (text == NULL || strlen (text) != len) {
    log_error ("extents file %s: not a JSON text file", path);
    return -1;
  }
  return copy_parse_extents (text, path, ranges, n);
}
