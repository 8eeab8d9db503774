/* ferry: many migrations at once -- how many disks are copied at a time,
 * and what is shown of them.
 *
 * Disk slots: a disk copy takes a slot for as long as its source is read;
 * at most max_total copies run at once overall and at most max_per_host
 * per ESXi host (the VM's host from discovery: NFC connections and memory
 * are per host).  A copy waits for a slot, or gives up when cancelled.
 *
 * The board: what each VM and disk is doing, shown as
 *   - on a terminal (progress tty): one line per active VM / disk copy at
 *     the bottom of stderr, redrawn about every second under the log lines;
 *   - JSON events (progress json, and/or an events file): one object per
 *     line, flushed at once:
 *       {"event":"vm-start","vm":V,"time":T}
 *       {"event":"phase","vm":V,"phase":P,"time":T}
 *       {"event":"disk-start","vm":V,"disk":K,"total":N,"time":T}
 *       {"event":"disk-progress","vm":V,"disk":K,"bytes":N,"total":N,"rate":R}
 *       {"event":"disk-done","vm":V,"disk":K,"result":"ok"|"failed",
 *        "bytes":N,"total":N,"seconds":S}
 *       {"event":"vm-done","vm":V,"result":"ok"|"failed"|"interrupted",
 *        "seconds":S,"exit_code":C,"error":E|null}
 *       {"event":"summary","vms":N,"ok":N,"failed":N,"not_found":N,"seconds":S}
 *     every event also has "t": seconds since the run started (monotonic);
 *     (bytes: of total done so far, checkpointed earlier runs included;
 *     rate: bytes/s over the last second; K: the disk's device key);
 *   - the final summary table and the report (board_report): an array of
 *     {vm, result, exit_code, error, seconds, disks: [{disk, volume,
 *     result, bytes, total, seconds}]}. */
#ifndef FERRY_WORKFLOW_BOARD_H
#define FERRY_WORKFLOW_BOARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

struct disk_slots;

/* max_total, max_per_host: <= 0 means no limit. */
struct disk_slots *slots_new (int max_total, int max_per_host);
void slots_free (struct disk_slots *s);
/* 0 when a slot is taken, -1 if cancel was set while waiting. */
int slots_acquire (struct disk_slots *s, const char *host, atomic_bool *cancel);
void slots_release (struct disk_slots *s, const char *host);

enum board_mode { BOARD_PLAIN, BOARD_TTY, BOARD_JSON };

struct board;

/* events: a stream for JSON events besides mode's (may be NULL). */
struct board *board_new (enum board_mode mode, FILE *events);
void board_free (struct board *b);

void board_vm_start (struct board *b, const char *vm);
void board_vm_phase (struct board *b, const char *vm, const char *phase);
void board_disk_start (struct board *b, const char *vm, long long disk, const char *volume,
                       uint64_t total);
void board_disk_progress (struct board *b, const char *vm, long long disk, uint64_t bytes,
                          uint64_t total, double rate);
void board_disk_done (struct board *b, const char *vm, long long disk, bool ok,
                      uint64_t bytes, uint64_t total, double seconds);
/* result: "ok", "failed" or "interrupted"; error may be NULL. */
void board_vm_done (struct board *b, const char *vm, const char *result, int exit_code,
                    const char *error, double seconds);
void board_summary (struct board *b, size_t vms, size_t ok, size_t failed, size_t missing,
                    double seconds);

/* Redraw the terminal lines (BOARD_TTY; called about every second by the
 * thread that waits for the workers), or remove them (final). */
void board_draw (struct board *b, bool final);

/* What a VM did: a new {vm, result, exit_code, error, seconds, disks:
 * [...]}, or NULL if it never started. */
json_t *board_vm_report (struct board *b, const char *vm);
/* Add key: value (a reference taken) to the VM's entry in the report
 * (e.g. "boot_chain": what the conversion's verification found and changed). */
void board_vm_note (struct board *b, const char *vm, const char *key, json_t *value);

#endif
