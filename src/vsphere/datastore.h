/* ferry: datastore file access over HTTPS (/folder/<path>?dcPath=&dsName=),
 * authenticated with the vSphere session cookie. */
#ifndef FERRY_VSPHERE_DATASTORE_H
#define FERRY_VSPHERE_DATASTORE_H

#include "vsphere/vsphere.h"

/* "[LocalDS_0] dir/disk.vmdk" -> https://host/folder/dir/disk.vmdk?dcPath=DC&dsName=LocalDS_0
 * (malloc'd), or NULL if file is not in that form. */
char *vs_datastore_url (const struct vsphere *vs, const char *datacenter, const char *file);

/* GET a (small) datastore file, e.g. a VMDK descriptor.  Returns the body
 * (malloc'd, NUL-terminated) or NULL after logging. */
char *vs_datastore_get (struct vsphere *vs, const char *datacenter, const char *file,
                        size_t max_bytes);

#endif
