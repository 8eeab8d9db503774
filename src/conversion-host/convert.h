/* ferry: guest conversion with virt-v2v-in-place on the volumes attached
 * to the conversion host (virtio drivers, VMware Tools removed, bootloader
 * fixed), run after the last copy and before the instance is created. */
#ifndef FERRY_CONVERSION_HOST_CONVERT_H
#define FERRY_CONVERSION_HOST_CONVERT_H

#include <stdbool.h>
#include <jansson.h>
#include "config/config.h"
#include "openstack/openstack.h"

/* The virt-v2v-in-place program, or NULL if not installed (not logged). */
const char *convert_program (void);

/* Convert the VM whose disks are attached at devices (array of paths in
 * disk order).  workdir receives the domain XML for multi-disk guests;
 * log_path virt-v2v's output.  Returns 0 or FERRY_EXIT_CONVERSION after
 * logging (with the last lines of virt-v2v's log). */
int convert_guest (const struct config *cfg, const json_t *vm, const json_t *devices,
                   const char *workdir, const char *log_path);

/* After convert_guest, before the instance (convert-verify.c): the guest's
 * boot chain verified and fixed where safe (src/bootchain/; unless
 * skip_verify_boot), then with verify_boot one boot under QEMU.
 * *boot_chain and *boot_check get what was found (new references, or NULL
 * when not done) for the state and the report.  0, FERRY_EXIT_CONVERSION
 * after naming what would not boot and what to do, or
 * FERRY_EXIT_INTERRUPTED. */
int convert_verify (const struct config *cfg, const json_t *vm, const json_t *devices,
                    const char *workdir, const char *log_path, json_t **boot_chain,
                    json_t **boot_check);

/* Before anything is copied: what converting this VM needs is here
 * (virt-v2v-in-place; a guest OS it converts; virtio-win >= 1.9.40 for
 * Windows).  0, or FERRY_EXIT_CONVERSION after logging what to install. */
int convert_precheck (const struct config *cfg, const json_t *vm);

/* virtio-win's version on this host ("" if unknown), NULL if missing. */
char *convert_virtio_win_version (void);

/* The shell script that pins a Linux guest's NIC names to the VM's VMware
 * MACs (run inside the guest), or NULL if a MAC is malformed. */
char *convert_nic_script (const json_t *vm);

/* Restore points: a Cinder snapshot of each volume before converting.
 * take: {volume id: snapshot id} (reusing an interrupted run's); an empty
 * object when the backend can't snapshot (warned); NULL on an API error;
 * *reused set if a point of an interrupted run was found.
 * restore: revert each (detached) volume to its point; drop: delete the
 * points; purge: delete any of ferry's points of a volume (teardown).
 * 0 or -1 after logging. */
json_t *convert_restore_points_take (struct os_client *os, const char *vm,
                                     const json_t *vol_ids, bool *reused);
int convert_restore_points_restore (struct os_client *os, const char *vm, const json_t *points);
int convert_restore_points_drop (struct os_client *os, const char *vm, const json_t *points);
int convert_restore_points_purge (struct os_client *os, const char *vm, const char *volume_id);

#endif
