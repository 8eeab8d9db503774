/* ferry: VMDK descriptor parsing, see vmdk.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "copy/vmdk.h"

static char *
quoted_value (const char *line, const char *key)
{
  size_t kl = strlen (key);
  const char *q, *e;

  if (strncmp (line, key, kl) != 0)
    return NULL;
  line += kl;
  while (*line == ' ' || *line == '\t')
    line++;
  if (*line != '=')
    return NULL;
  q = strchr (line, '"');
  if (q == NULL)
    return NULL;
  e = strchr (q + 1, '"');
  return e ? strndup (q + 1, e - q - 1) : NULL;
}

json_t *
vmdk_parse_descriptor (const char *text)
{
  json_t *out, *extents;
  char *copy, *save = NULL;
  int seen_header = 0;

  if (text == NULL || strstr (text, "# Disk DescriptorFile") == NULL)
    return NULL;
  out = json_object ();
  extents = json_array ();
  json_object_set_new (out, "parent", json_null ());
  copy = strdup (text);
  for (char *line = strtok_r (copy, "\r\n", &save); line; line = strtok_r (NULL, "\r\n", &save)) {
    char access[16], type[32], file[4096];
    unsigned long long sectors, offset = 0;
    char *v;
    int n;

    while (*line == ' ' || *line == '\t')
      line++;
    if ((v = quoted_value (line, "createType"))) {
      json_object_set_new (out, "createType", json_string (v));
      free (v);
      seen_header = 1;
      continue;
    }
    if ((v = quoted_value (line, "parentFileNameHint"))) {
      json_object_set_new (out, "parent", json_string (v));
      free (v);
      continue;
    }
    n = sscanf (line, "%15s %llu %31s \"%4095[^\"]\" %llu", access, &sectors, type, file, &offset);
    if (n >= 4 && (!strcmp (access, "RW") || !strcmp (access, "RDONLY") || !strcmp (access, "NOACCESS")))
      json_array_append_new (extents, json_pack ("{s:s, s:I, s:s, s:s, s:I}",
                                                 "access", access,
                                                 "sectors", (json_int_t) sectors,
                                                 "type", type, "file", file,
                                                 "offset", (json_int_t) offset));
  }
  free (copy);
  json_object_set_new (out, "extents", extents);
  if (!seen_header && json_array_size (extents) == 0) {
    json_decref (out);
    return NULL;
  }
  return out;
}
