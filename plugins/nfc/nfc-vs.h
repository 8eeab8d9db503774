/* nbdkit nfc plugin: what it asks vSphere (through ferry's SOAP client,
 * src/vsphere): the disk to open, NFC tickets, changed areas. */
#ifndef NFC_VS_H
#define NFC_VS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "nfc-conn.h"
#include "vsphere/vsphere.h"

struct nfc_vs_disk {
  char *vm;                   /* VirtualMachine moref */
  char *vm_name;
  char *host;                 /* HostSystem moref running it (runtime.host) */
  char *snapshot;             /* VirtualMachineSnapshot moref, or NULL */
  int key;                    /* VirtualDisk device key, -1 if not known */
  char *file;                 /* "[datastore] dir/disk.vmdk": what OPEN_FILE opens */
  uint64_t capacity;          /* bytes */
  bool vm_ticket;             /* ask NfcGetVmFiles (a file or a snapshot's state) */
};
void nfc_vs_disk_free (struct nfc_vs_disk *d);

/* Find the disk: by key (disk >= 0) or by file; with a snapshot, as the
 * snapshot froze it (its file, its capacity).  0, or -1 after logging. */
int nfc_vs_resolve (struct vsphere *vs, const char *vm, const char *snapshot, int disk,
                    const char *file, struct nfc_vs_disk *out);

/* A fresh NFC ticket for the disk (nfc_auth.md "Stage 2"): for a file or
 * a snapshot's state, NfcGetVmFiles, what VDDK's read-only open asks (its
 * OPEN_FILE names the file, "leaf or snapshot parent"); for a disk's
 * current state, the disk-scoped NfcRandomAccessOpenReadonly.  0, or -1
 * after logging. */
int nfc_vs_ticket (struct vsphere *vs, const struct nfc_vs_disk *d, struct nfc_ticket *t);

/* The HostServiceTicket of an answer (returnval as json), every field
 * checked.  0, or -1 with why. */
int nfc_ticket_from_json (const json_t *rv, struct nfc_ticket *t, char *why, size_t n);

#endif
