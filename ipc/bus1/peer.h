/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BUS1_PEER_H
#define __BUS1_PEER_H

/**
 * DOC: Peers
 *
 * A peer is created by open() of the device and closed by the last close of
 * that file description. It has one ID table shared by its nodes and
 * handles, one ID counter, and one queue made of three parts:
 *
 *   - incoming: a lock-free LIFO stack every other peer pushes onto without
 *     taking any lock of this peer; it can be sealed (close), after which
 *     every push fails and the pusher discards its entry;
 *   - ready: entries whose transaction has committed, oldest first;
 *   - busy: entries taken from incoming whose transaction has not committed
 *     yet, newest first.
 *
 * The memory of a peer is reference counted: its file, and every node,
 * handle and message that names it as owner or receiver, hold a reference;
 * so late pushes and wake-ups after close touch valid memory.
 */

#include <linux/cred.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include "acct.h"

struct bus1_entry;
struct bus1_object;
struct bus1_tx;

/**
 * struct bus1_peer - one open of the device
 * @ref:		memory reference count
 * @lock:		serialises commands on this peer and protects @ids,
 *			@n_ids, @ready, @busy and the owner side of every
 *			object this peer owns
 * @waitq:		poll waiters
 * @cred:		credentials pinned at open
 * @seq:		unique per instance; orders double locking in TRANSFER
 * @actor:		accounting identity (claimant) of this peer
 * @n_committed:	committed entries queued (may be transiently negative)
 * @incoming:		lock-free stack of pushed entries, or BUS1_PEER_SEALED
 * @ids:		ID table: index = ID >> 1, value = struct bus1_object
 * @n_ids:		number of IDs allocated so far (the ID counter)
 * @ready:		committed entries, oldest first (protected by @lock)
 * @busy:		uncommitted entries, newest first (protected by @lock)
 * @close_tx:		transaction preallocated for close
 */
struct bus1_peer {
	struct kref ref;
	struct mutex lock;
	wait_queue_head_t waitq;
	const struct cred *cred;
	u64 seq;
	struct bus1_acct_actor actor;
	atomic_long_t n_committed;
	struct bus1_entry *incoming;
	struct xarray ids;
	u64 n_ids;
	struct bus1_entry *ready;
	struct bus1_entry *busy;
	struct bus1_tx *close_tx;
};

struct bus1_peer *bus1_peer_new(const struct cred *cred);
void bus1_peer_close(struct bus1_peer *peer);
void bus1_peer_free(struct kref *ref);

static inline struct bus1_peer *bus1_peer_ref(struct bus1_peer *peer)
{
	if (peer)
		kref_get(&peer->ref);
	return peer;
}

static inline struct bus1_peer *bus1_peer_unref(struct bus1_peer *peer)
{
	if (peer)
		kref_put(&peer->ref, bus1_peer_free);
	return NULL;
}

bool bus1_peer_push(struct bus1_peer *peer, struct bus1_entry *entry);
void bus1_peer_wake(struct bus1_peer *peer);
struct bus1_entry *bus1_peer_peek(struct bus1_peer *peer);
void bus1_peer_pop(struct bus1_peer *peer, struct bus1_entry *entry);
bool bus1_peer_readable(struct bus1_peer *peer);

int bus1_peer_id_reserve(struct bus1_peer *peer, struct bus1_object *obj);
void bus1_peer_id_install(struct bus1_peer *peer, struct bus1_object *obj);
void bus1_peer_id_drop(struct bus1_peer *peer, struct bus1_object *obj);
struct bus1_object *bus1_peer_lookup(struct bus1_peer *peer, u64 id);

#endif /* __BUS1_PEER_H */
