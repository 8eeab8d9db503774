/* Fuzz target for VMDK descriptors (the text file naming a disk's
 * extents, read from a datastore): vmdk_parse_descriptor, then what
 * disk-source.c reads of its answer.  Corpus: tests/fuzz/corpus/vmdk. */
#include <jansson.h>

#include "copy/vmdk.h"

#define FUZZ_FLIP_CHARS "\"= \n#\0x9"
#include "fuzz-common.h"

static void
target_init (void)
{
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_cstring (data, size);
  json_t *d = vmdk_parse_descriptor (text);

  if (d) {
    size_t i;
    json_t *ext;
    (void) json_string_value (json_object_get (d, "createType"));
    (void) json_string_value (json_object_get (d, "parent"));
    json_array_foreach (json_object_get (d, "extents"), i, ext) {
      (void) json_string_value (json_object_get (ext, "type"));
      (void) json_string_value (json_object_get (ext, "file"));
      (void) json_integer_value (json_object_get (ext, "sectors"));
      (void) json_integer_value (json_object_get (ext, "offset"));
    }
    free (json_dumps (d, JSON_COMPACT));
    json_decref (d);
  }
  free (text);
  return 0;
}
