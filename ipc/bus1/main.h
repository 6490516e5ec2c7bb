/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BUS1_MAIN_H
#define __BUS1_MAIN_H

/**
 * DOC: Module-wide state
 *
 * One loaded module is one device instance: it owns the misc device, the
 * accounting root and the live-object counters. Nothing here is shared with
 * another instance built from the same sources under another name.
 *
 * Lock order of the whole module (outermost first; see Documentation/bus1):
 *
 *   1. peer->lock (mutex). Every command takes its own peer's lock. TRANSFER
 *      between two peers takes both, ordered by peer->seq, the second one
 *      with SINGLE_DEPTH_NESTING. No other path holds two peer locks, and no
 *      path takes another peer's lock to deliver to it.
 *   2. node->lock (spinlock). At most one at a time; protects the handle
 *      list, the handle count, the dead flag and handle->nstate.
 *   3. accounting locks (acct.c). At most one at a time; they may sleep, so
 *      they are never taken under a node lock.
 *   4. the peer's waitqueue lock, only inside wake_up()/poll_wait().
 *
 * Queue pushes are lock-free (see peer.c) and may happen under any of these.
 */

#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/types.h>

struct bus1_acct;
struct bus1_peer;
struct file;

enum bus1_stat {
	BUS1_STAT_PEERS,
	BUS1_STAT_NODES,
	BUS1_STAT_HANDLES,
	BUS1_STAT_MESSAGES,
	BUS1_STAT_PAYLOADS,
	BUS1_STAT_TXS,
	_BUS1_STAT_N,
};

extern atomic_long_t bus1_stats[_BUS1_STAT_N];
extern struct bus1_acct *bus1_acct;
extern unsigned long bus1_max_objects;

static inline void bus1_stat_inc(enum bus1_stat stat)
{
	atomic_long_inc(&bus1_stats[stat]);
}

static inline void bus1_stat_dec(enum bus1_stat stat)
{
	atomic_long_dec(&bus1_stats[stat]);
}

/**
 * bus1_uelem() - address of element @index of a user array
 * @base:	the array's address, as passed by user space
 * @index:	element index
 * @size:	element size
 *
 * Return: the address, or NULL if the element's extent overflows or cannot
 *	   be represented as a user pointer (callers turn NULL into EFAULT).
 */
static inline void __user *bus1_uelem(u64 base, u64 index, size_t size)
{
	u64 addr, end;

	if (check_mul_overflow(index, (u64)size, &addr) ||
	    check_add_overflow(addr, base, &addr) ||
	    check_add_overflow(addr, (u64)size, &end) ||
	    end - 1 > ULONG_MAX)
		return NULL;
	return u64_to_user_ptr(addr);
}

/**
 * bus1_uptr_ok() - can a user address be represented as a pointer
 * @addr:	the address, as passed by user space
 *
 * Return: false only on 32-bit kernels for addresses above 4 GiB.
 */
static inline bool bus1_uptr_ok(u64 addr)
{
	return addr == (u64)(unsigned long)addr;
}

int bus1_cdev_init(void);
void bus1_cdev_deinit(void);
struct bus1_peer *bus1_cdev_peer(struct file *file);

#endif /* __BUS1_MAIN_H */
