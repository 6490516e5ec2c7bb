/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User memory of the model checker: one arena at a fixed address whose
 * page protections the checker controls, so the model can tell exactly
 * which bytes the kernel can read or write, and a shadow of the bytes one
 * command may touch, into which the model writes its prediction.
 *
 * Arena layout (pages):
 *   scratch      RW, bump-allocated anew for every command
 *   zones R      [RW][NONE]: an array placed at the boundary has a readable
 *                prefix and an unreadable tail
 *   zones W      [RW][RO]: a writable prefix and a read-only tail
 *   big          RW, for large payloads
 * Addresses outside the arena are never accessible (the checker only uses
 * NULL, kernel addresses and addresses near 2^64 there).
 */
#ifndef BUS1_MODEL_MEM_H
#define BUS1_MODEL_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_PAGE		4096ULL
#define MEM_BASE		0x200000000000ULL
#define MEM_SCRATCH_PAGES	32
#define MEM_ZONES_R		6
#define MEM_ZONES_W		4
#define MEM_BIG_PAGES		64
/* highest user address on x86-64 with 4-level paging, plus one page */
#define MEM_USER_TOP		0x7ffffffff000ULL

int mem_init(void);

/* Per-command allocation. */
void mem_reset(void);
uint64_t mem_scratch(size_t size);
/* Boundary address of a fresh zone: bytes below it are RW, above it the
 * zone's second page (NONE for R zones, RO for W zones). 0 if none left. */
uint64_t mem_zone_r(void);
uint64_t mem_zone_w(void);
uint64_t mem_big(void);
size_t mem_big_size(void);

/* Store bytes at an address the checker generated, RO pages included. */
void mem_store(uint64_t addr, const void *buf, size_t len);

bool mem_readable(uint64_t addr, uint64_t len);
bool mem_writable(uint64_t addr, uint64_t len);
/* Like access_ok(): the range lies in user space (mapped or not). */
bool mem_user_range(uint64_t addr, uint64_t len);
/* Read real memory; false if any byte is unreadable. */
bool mem_read(uint64_t addr, void *buf, size_t len);
/* Address of element @i of an array, false on overflow (EFAULT). */
bool mem_elem(uint64_t base, uint64_t i, uint64_t size, uint64_t *addr);

/* Shadow: regions snapshot before a command, predicted writes, compare. */
void shadow_begin(void);
void shadow_region(uint64_t addr, size_t len);
void shadow_write(uint64_t addr, const void *buf, size_t len);
void shadow_reset(void);
/*
 * The prefix log: writes a command makes in this order until one faults
 * (spec 5.5). The real memory may show any byte-wise prefix of the log,
 * ending at the latest at the first byte that is not writable; every byte
 * beyond that prefix must keep its value from before the command (or the
 * value shadow_write() predicts for it). shadow_log_commit() turns the
 * whole log into exact writes (the command did not fault after all).
 */
void shadow_log(uint64_t addr, const void *buf, size_t len);
void shadow_log_commit(void);
/* 0 if the real memory equals the shadow; else describe in @why. */
int shadow_compare(char *why, size_t n);

#endif /* BUS1_MODEL_MEM_H */
