// SPDX-License-Identifier: GPL-2.0
/*
 * Peers: lifetime, ID table, queue and close.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/bus1.h>
#include "acct.h"
#include "main.h"
#include "message.h"
#include "node.h"
#include "peer.h"
#include "tx.h"

/*
 * The incoming stack of a closed peer. llist cannot refuse pushes, which
 * close needs (a push must fail once the drain has started, so that the
 * pusher, not the closed peer, discards the entry), hence this small stack.
 */
#define BUS1_PEER_SEALED ((struct bus1_entry *)1UL)

static atomic64_t bus1_peer_seq = ATOMIC64_INIT(0);

/**
 * bus1_peer_new() - create a peer
 * @cred:	credentials of the opener, pinned for the peer's lifetime
 *
 * Everything close needs is allocated here, so close cannot fail.
 *
 * Return: the new peer, or ERR_PTR(-ENOMEM).
 */
struct bus1_peer *bus1_peer_new(const struct cred *cred)
{
	struct bus1_peer *peer;
	int r;

	peer = kzalloc(sizeof(*peer), GFP_KERNEL);
	if (!peer)
		return ERR_PTR(-ENOMEM);

	kref_init(&peer->ref);
	mutex_init(&peer->lock);
	init_waitqueue_head(&peer->waitq);
	peer->seq = atomic64_inc_return(&bus1_peer_seq);
	atomic_long_set(&peer->n_committed, 0);
	xa_init(&peer->ids);

	peer->close_tx = bus1_tx_new();
	if (!peer->close_tx) {
		r = -ENOMEM;
		goto err_free;
	}

	r = bus1_acct_actor_init(&peer->actor, bus1_acct, cred->euid);
	if (r)
		goto err_tx;

	peer->cred = get_cred(cred);
	bus1_stat_inc(BUS1_STAT_PEERS);
	return peer;

err_tx:
	bus1_tx_unref(peer->close_tx);
err_free:
	kfree(peer);
	return ERR_PTR(r);
}

/**
 * bus1_peer_free() - free a peer once its last reference is gone
 * @ref:	the peer's reference count
 *
 * Context: process context, no spinlock held (the accounting user may go).
 */
void bus1_peer_free(struct kref *ref)
{
	struct bus1_peer *peer = container_of(ref, struct bus1_peer, ref);

	xa_destroy(&peer->ids);
	if (peer->close_tx)
		bus1_tx_unref(peer->close_tx);
	bus1_acct_actor_deinit(&peer->actor);
	put_cred(peer->cred);
	mutex_destroy(&peer->lock);
	kfree(peer);
	bus1_stat_dec(BUS1_STAT_PEERS);
}

/**
 * bus1_peer_push() - push an entry onto a peer's incoming stack
 * @peer:	the receiver
 * @entry:	the entry, with its tx set
 *
 * Lock-free; may be called under any lock. The caller must already have
 * taken the queue's reference on the entry's container and on its tx: once
 * pushed, the entry may be taken (or drained by close) at any time.
 *
 * Return: true if queued, false if the peer is closed.
 */
bool bus1_peer_push(struct bus1_peer *peer, struct bus1_entry *entry)
{
	struct bus1_entry *first = READ_ONCE(peer->incoming);

	do {
		if (first == BUS1_PEER_SEALED)
			return false;
		entry->next = first;
	} while (!try_cmpxchg_release(&peer->incoming, &first, entry));

	return true;
}

/**
 * bus1_peer_wake() - account one newly receivable entry and wake pollers
 * @peer:	the receiver
 *
 * Called after the entry's transaction committed.
 */
void bus1_peer_wake(struct bus1_peer *peer)
{
	atomic_long_inc(&peer->n_committed);
	/* the barrier in wq_has_sleeper() pairs with the one in poll_wait() */
	if (wq_has_sleeper(&peer->waitq))
		wake_up_interruptible_poll(&peer->waitq, EPOLLIN | EPOLLRDNORM);
}

/**
 * bus1_peer_readable() - does the peer have committed entries queued
 * @peer:	the peer
 *
 * Return: true if at least one committed entry is queued.
 */
bool bus1_peer_readable(struct bus1_peer *peer)
{
	return atomic_long_read(&peer->n_committed) > 0;
}

static bool bus1_entry_settle(struct bus1_entry *entry)
{
	struct bus1_tx *tx = entry->tx;

	if (!bus1_tx_committed(tx))
		return false;
	entry->tx = &bus1_tx_done;
	bus1_tx_unref(tx);
	return true;
}

/*
 * Take everything pushed so far and sort it: entries whose transaction has
 * committed go to @ready in push order (oldest first), the others to @busy
 * (newest first). The old busy entries are older than anything just taken,
 * so those that committed meanwhile go in front. Only called with @ready
 * empty.
 */
static void bus1_peer_prefetch(struct bus1_peer *peer)
{
	struct bus1_entry *e, *next, *ready = NULL, *todo = NULL;
	struct bus1_entry **todo_tail = &todo;

	lockdep_assert_held(&peer->lock);

	e = xchg(&peer->incoming, NULL);
	for (; e; e = next) {
		next = e->next;
		if (bus1_entry_settle(e)) {
			e->next = ready;
			ready = e;
		} else {
			*todo_tail = e;
			todo_tail = &e->next;
		}
	}

	for (e = peer->busy; e; e = next) {
		next = e->next;
		if (bus1_entry_settle(e)) {
			e->next = ready;
			ready = e;
		} else {
			*todo_tail = e;
			todo_tail = &e->next;
		}
	}

	*todo_tail = NULL;
	peer->busy = todo;
	peer->ready = ready;
}

/**
 * bus1_peer_peek() - the oldest receivable entry
 * @peer:	the receiver, locked
 *
 * Return: the entry (still queued), or NULL if none is receivable.
 */
struct bus1_entry *bus1_peer_peek(struct bus1_peer *peer)
{
	lockdep_assert_held(&peer->lock);

	if (!peer->ready)
		bus1_peer_prefetch(peer);
	return peer->ready;
}

/**
 * bus1_peer_pop() - remove the entry returned by bus1_peer_peek()
 * @peer:	the receiver, locked
 * @entry:	the head of the ready list
 *
 * The queue's reference on the entry's container passes to the caller.
 */
void bus1_peer_pop(struct bus1_peer *peer, struct bus1_entry *entry)
{
	lockdep_assert_held(&peer->lock);

	peer->ready = entry->next;
	entry->next = NULL;
	atomic_long_dec(&peer->n_committed);
}

/**
 * bus1_peer_id_reserve() - allocate the next ID for an object
 * @peer:	the owner, locked
 * @obj:	the object, without ID
 *
 * The slot is reserved so that installing cannot fail. The ID stays burned
 * if the object is never installed.
 *
 * Return: 0 or -ENOMEM.
 */
int bus1_peer_id_reserve(struct bus1_peer *peer, struct bus1_object *obj)
{
	int r;

	lockdep_assert_held(&peer->lock);

	/* the 2^63-th ID would be BUS1_INVALID; the index must fit the table */
	if (peer->n_ids >= (1ULL << 63) - 1 || peer->n_ids > ULONG_MAX)
		return -ENOMEM;

	r = xa_reserve(&peer->ids, (unsigned long)peer->n_ids, GFP_KERNEL);
	if (r)
		return r;

	obj->id = (peer->n_ids << 1) | BUS1_MANAGED;
	++peer->n_ids;
	return 0;
}

/**
 * bus1_peer_id_install() - make a reserved ID valid
 * @peer:	the owner, locked
 * @obj:	the object, with a reserved ID
 *
 * Cannot fail: the slot was reserved. The table takes over the caller's
 * reference on the object.
 */
void bus1_peer_id_install(struct bus1_peer *peer, struct bus1_object *obj)
{
	lockdep_assert_held(&peer->lock);

	/* storing to a reserved slot needs no memory */
	xa_store(&peer->ids, obj->id >> 1, obj, GFP_NOWAIT);
	obj->state |= BUS1_OBJECT_INSTALLED;
}

/**
 * bus1_peer_id_drop() - remove an object's ID from the table
 * @peer:	the owner, locked
 * @obj:	the object
 *
 * Works for installed and for merely reserved IDs. Does not drop the table's
 * reference; the caller does.
 */
void bus1_peer_id_drop(struct bus1_peer *peer, struct bus1_object *obj)
{
	lockdep_assert_held(&peer->lock);

	if (!obj->id)
		return;
	if (obj->state & BUS1_OBJECT_INSTALLED)
		xa_erase(&peer->ids, obj->id >> 1);
	else
		xa_release(&peer->ids, obj->id >> 1);
	obj->state &= ~BUS1_OBJECT_INSTALLED;
}

/**
 * bus1_peer_lookup() - find an installed object by ID
 * @peer:	the owner, locked
 * @id:		the ID from user space
 *
 * Return: the object, or NULL for every invalid, even, unknown, released or
 *	   retired ID.
 */
struct bus1_object *bus1_peer_lookup(struct bus1_peer *peer, u64 id)
{
	lockdep_assert_held(&peer->lock);

	if (!(id & BUS1_MANAGED) || id == BUS1_INVALID)
		return NULL;
	if ((id >> 1) > ULONG_MAX)
		return NULL;
	return xa_load(&peer->ids, (unsigned long)(id >> 1));
}

/*
 * Stage everything a closing peer holds into @op: the carried handles of
 * every queued message (committed or not), all its nodes and handles.
 * Notifications queued for it are dropped.
 */
static void bus1_peer_drain(struct bus1_peer *peer, struct bus1_op *op)
{
	struct bus1_entry *lists[3], *e, *next;
	struct bus1_msg *msg;
	struct bus1_object *obj;
	unsigned long index;
	unsigned int i;

	lists[0] = xchg(&peer->incoming, BUS1_PEER_SEALED);
	lists[1] = peer->ready;
	lists[2] = peer->busy;
	peer->ready = NULL;
	peer->busy = NULL;

	for (i = 0; i < ARRAY_SIZE(lists); ++i) {
		for (e = lists[i]; e; e = next) {
			next = e->next;
			e->next = NULL;
			if (e->tx != &bus1_tx_done) {
				bus1_tx_unref(e->tx);
				e->tx = &bus1_tx_done;
			}
			if (e->kind == BUS1_ENTRY_USER) {
				/* the queue's reference moves to the op */
				msg = container_of(e, struct bus1_msg,
						   entry);
				msg->discard_next = op->discards;
				op->discards = msg;
			} else {
				bus1_entry_unref(e);
			}
			cond_resched();
		}
	}

	xa_for_each(&peer->ids, index, obj) {
		bus1_op_stage_object(op, obj);
		cond_resched();
	}
}

/**
 * bus1_peer_close() - close a peer (last close of its file)
 * @peer:	the peer
 *
 * Seals the queue, discards everything queued, and releases all nodes and
 * handles of the peer in one transaction. Never fails, never allocates.
 * Drops the file's reference.
 *
 * Context: process context, may sleep.
 */
void bus1_peer_close(struct bus1_peer *peer)
{
	struct bus1_op op;

	mutex_lock(&peer->lock);
	bus1_op_init(&op, peer, peer->close_tx);
	peer->close_tx = NULL;
	bus1_peer_drain(peer, &op);
	bus1_op_commit(&op);
	bus1_op_finish(&op);
	atomic_long_set(&peer->n_committed, 0);
	mutex_unlock(&peer->lock);

	bus1_peer_unref(peer);
}
