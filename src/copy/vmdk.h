/* ferry: VMDK descriptors (the text file naming a disk's extents). */
#ifndef FERRY_COPY_VMDK_H
#define FERRY_COPY_VMDK_H

#include <stdint.h>
#include <jansson.h>

/* Parse a descriptor.  Returns {"createType": "...", "parent": "fname" or
 * null, "extents": [{"access": "RW", "sectors": N, "type": "VMFS"|"FLAT"|
 * "VMFSSPARSE"|..., "file": "name-flat.vmdk", "offset": N}]} or NULL if the
 * text is not a VMDK descriptor. */
json_t *vmdk_parse_descriptor (const char *text);

#endif
