// SPDX-License-Identifier: GPL-2.0
/*
 * Transactions: committing messages and notifications atomically.
 *
 * Commit of an op, in order (the peer lock of op->peer is held throughout):
 *
 *  1. Enqueue, with op->tx not yet committed:
 *     a. every message onto its receiver's stack; a failed push (receiver
 *        closed) marks the message discarded;
 *     b. for every released node: the NODE_RELEASE of every handle linked to
 *        it, except handles released by this op;
 *     c. for every released handle (and every carried handle of a discarded
 *        message): mark it released, unlink and uncount it; if that was the
 *        node's last handle and the node is neither dead nor released by
 *        this op, the node's HANDLE_RELEASE.
 *  2. Commit point: op->tx->committed = true (store-release).
 *  3. After the commit:
 *     a. link the carried handles of delivered messages into their nodes
 *        (or, if the node died meanwhile, send their NODE_RELEASE now, which
 *        keeps it behind the message that carried the handle);
 *     b. mark released nodes dead and notify handles linked since 1b.
 *
 * Handles carried by messages are counted at staging, so a node's handle
 * count includes handles in flight. bus1_op_finish() then wakes receivers,
 * drops IDs, charges and references.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include "acct.h"
#include "main.h"
#include "message.h"
#include "node.h"
#include "peer.h"
#include "tx.h"

struct bus1_tx bus1_tx_done = {
	.ref = REFCOUNT_INIT(1),
	.committed = true,
};

/**
 * bus1_tx_new() - allocate an uncommitted transaction
 *
 * Return: the transaction with one reference, or NULL.
 */
struct bus1_tx *bus1_tx_new(void)
{
	struct bus1_tx *tx;

	tx = kmalloc(sizeof(*tx), GFP_KERNEL);
	if (!tx)
		return NULL;
	refcount_set(&tx->ref, 1);
	tx->committed = false;
	tx->embedded = false;
	bus1_stat_inc(BUS1_STAT_TXS);
	return tx;
}

/**
 * bus1_tx_init_embedded() - initialise a transaction embedded in a message
 * @tx:		the transaction
 *
 * Only for a transaction whose entries are all contained in the object that
 * embeds it, so it cannot outlive its memory.
 */
void bus1_tx_init_embedded(struct bus1_tx *tx)
{
	refcount_set(&tx->ref, 1);
	tx->committed = false;
	tx->embedded = true;
}

/**
 * bus1_tx_unref() - drop a reference on a transaction
 * @tx:		the transaction, or NULL
 */
void bus1_tx_unref(struct bus1_tx *tx)
{
	if (!tx || tx == &bus1_tx_done)
		return;
	if (refcount_dec_and_test(&tx->ref) && !tx->embedded) {
		kfree(tx);
		bus1_stat_dec(BUS1_STAT_TXS);
	}
}

/**
 * bus1_entry_ref() - take a reference on the object containing an entry
 * @entry:	the entry
 */
void bus1_entry_ref(struct bus1_entry *entry)
{
	switch (entry->kind) {
	case BUS1_ENTRY_USER:
		bus1_msg_ref(container_of(entry, struct bus1_msg,
					      entry));
		break;
	case BUS1_ENTRY_NODE_RELEASE:
		bus1_handle_ref(container_of(entry, struct bus1_handle,
					     release_entry));
		break;
	case BUS1_ENTRY_HANDLE_RELEASE:
		bus1_node_ref(container_of(entry, struct bus1_node,
					   release_entry));
		break;
	}
}

/**
 * bus1_entry_unref() - drop a reference on the object containing an entry
 * @entry:	the entry
 *
 * Context: process context, no spinlock held.
 */
void bus1_entry_unref(struct bus1_entry *entry)
{
	switch (entry->kind) {
	case BUS1_ENTRY_USER:
		bus1_msg_unref(container_of(entry, struct bus1_msg,
						entry));
		break;
	case BUS1_ENTRY_NODE_RELEASE:
		bus1_handle_unref(container_of(entry, struct bus1_handle,
					       release_entry));
		break;
	case BUS1_ENTRY_HANDLE_RELEASE:
		bus1_node_unref(container_of(entry, struct bus1_node,
					     release_entry));
		break;
	}
}

/**
 * bus1_entry_peer() - the peer an entry is queued to
 * @entry:	the entry
 *
 * Return: the receiver (the containing object holds a reference on it).
 */
struct bus1_peer *bus1_entry_peer(struct bus1_entry *entry)
{
	switch (entry->kind) {
	case BUS1_ENTRY_USER:
		return container_of(entry, struct bus1_msg,
				    entry)->dst->owner;
	case BUS1_ENTRY_NODE_RELEASE:
		return container_of(entry, struct bus1_handle,
				    release_entry)->owner;
	default:
		return container_of(entry, struct bus1_node,
				    release_entry)->owner;
	}
}

/**
 * bus1_op_init() - start an op
 * @op:		the op
 * @peer:	the acting peer, locked for the op's whole lifetime
 * @tx:		the transaction; the op takes over the caller's reference
 */
void bus1_op_init(struct bus1_op *op, struct bus1_peer *peer,
		  struct bus1_tx *tx)
{
	lockdep_assert_held(&peer->lock);
	memset(op, 0, sizeof(*op));
	op->peer = peer;
	op->tx = tx;
}

/**
 * bus1_op_stage_object() - collect a node or handle of the acting peer
 * @op:		the op
 * @obj:	an installed object of op->peer
 *
 * An object collected twice is released once.
 */
void bus1_op_stage_object(struct bus1_op *op, struct bus1_object *obj)
{
	lockdep_assert_held(&op->peer->lock);

	if (obj->state & BUS1_OBJECT_STAGED)
		return;
	obj->state |= BUS1_OBJECT_STAGED;
	if (obj->kind == BUS1_OBJECT_NODE) {
		obj->stage_next = op->nodes;
		op->nodes = obj;
	} else {
		obj->stage_next = op->handles;
		op->handles = obj;
	}
}

static void bus1_op_unstage_list(struct bus1_object *obj)
{
	struct bus1_object *next;

	for (; obj; obj = next) {
		next = obj->stage_next;
		obj->stage_next = NULL;
		obj->state &= ~BUS1_OBJECT_STAGED;
	}
}

/**
 * bus1_op_unstage() - forget every collected object (error path)
 * @op:		the op
 */
void bus1_op_unstage(struct bus1_op *op)
{
	lockdep_assert_held(&op->peer->lock);

	bus1_op_unstage_list(op->nodes);
	bus1_op_unstage_list(op->handles);
	op->nodes = NULL;
	op->handles = NULL;
}

/*
 * Push @entry to @to as part of @op with @tx. The references the queue and
 * the op need are taken before the push: once pushed, the entry may be
 * drained by a closing receiver at any time. If the receiver is closed, the
 * references stay with the op (dropped in bus1_op_finish()), so nothing is
 * freed under a node lock.
 */
static bool bus1_op_push(struct bus1_op *op, struct bus1_peer *to,
			 struct bus1_entry *entry, struct bus1_tx *tx)
{
	entry->tx = bus1_tx_ref(tx);
	bus1_entry_ref(entry);
	bus1_entry_ref(entry);
	if (bus1_peer_push(to, entry)) {
		entry->op_next = op->pushed;
		op->pushed = entry;
		return true;
	}
	/* the op still holds its own reference on @tx */
	if (tx != &bus1_tx_done)
		refcount_dec(&tx->ref);
	entry->tx = NULL;
	entry->op_next = op->failed;
	op->failed = entry;
	return false;
}

static bool bus1_op_releases_node(struct bus1_op *op, struct bus1_node *node)
{
	return node->owner == op->peer &&
	       (node->obj.state & BUS1_OBJECT_STAGED);
}

static bool bus1_op_releases_handle(struct bus1_op *op,
				    struct bus1_handle *handle)
{
	/* only the owner changes obj.state; op->peer's lock is held */
	return handle->owner == op->peer &&
	       (handle->obj.state & BUS1_OBJECT_STAGED);
}

/* Queue the NODE_RELEASE of @handle, at most once in its lifetime. */
static void bus1_op_notify_handle(struct bus1_op *op,
				  struct bus1_handle *handle,
				  struct bus1_tx *tx)
{
	lockdep_assert_held(&handle->node->lock);

	if (handle->nstate & BUS1_HANDLE_NOTIFIED)
		return;
	handle->nstate |= BUS1_HANDLE_NOTIFIED;
	bus1_op_push(op, handle->owner, &handle->release_entry, tx);
}

/* Step 1c for one handle. */
static void bus1_op_release_handle(struct bus1_op *op,
				   struct bus1_handle *handle)
{
	struct bus1_node *node = handle->node;

	spin_lock(&node->lock);
	if (!(handle->nstate & BUS1_HANDLE_RELEASED)) {
		handle->nstate |= BUS1_HANDLE_RELEASED;
		if (handle->nstate & BUS1_HANDLE_LINKED) {
			list_del_init(&handle->node_link);
			handle->nstate &= ~BUS1_HANDLE_LINKED;
		}
		if (handle->nstate & BUS1_HANDLE_COUNTED) {
			handle->nstate &= ~BUS1_HANDLE_COUNTED;
			if (!--node->n_handles && !node->dead &&
			    !bus1_op_releases_node(op, node))
				bus1_op_push(op, node->owner,
					     &node->release_entry, op->tx);
		}
	}
	spin_unlock(&node->lock);
}

static void bus1_op_release_carried(struct bus1_op *op,
				    struct bus1_msg *msg)
{
	size_t i;

	for (i = 0; i < msg->n_handles; ++i)
		bus1_op_release_handle(op, msg->handles[i]);
}

/* Step 3a for one handle of a delivered message. */
static void bus1_op_link_handle(struct bus1_op *op, struct bus1_handle *handle)
{
	struct bus1_node *node = handle->node;

	spin_lock(&node->lock);
	if (!(handle->nstate & BUS1_HANDLE_RELEASED)) {
		if (node->dead) {
			bus1_op_notify_handle(op, handle, op->tx);
		} else {
			list_add_tail(&handle->node_link, &node->handles);
			handle->nstate |= BUS1_HANDLE_LINKED;
		}
	}
	spin_unlock(&node->lock);
}

/**
 * bus1_op_commit() - commit an op
 * @op:		the op, fully staged
 *
 * Cannot fail, does not allocate, takes no peer lock but op->peer's (held).
 */
void bus1_op_commit(struct bus1_op *op)
{
	struct bus1_handle *handle, *tmp;
	struct bus1_msg *msg;
	struct bus1_object *obj;
	struct bus1_node *node;
	size_t i;

	lockdep_assert_held(&op->peer->lock);

	/* 1a */
	for (msg = op->messages; msg; msg = msg->op_next) {
		if (!bus1_op_push(op, msg->dst->owner, &msg->entry, op->tx))
			msg->discarded = true;
	}

	/* 1b */
	for (obj = op->nodes; obj; obj = obj->stage_next) {
		node = container_of(obj, struct bus1_node, obj);
		spin_lock(&node->lock);
		list_for_each_entry(handle, &node->handles, node_link)
			if (!bus1_op_releases_handle(op, handle))
				bus1_op_notify_handle(op, handle, op->tx);
		spin_unlock(&node->lock);
	}

	/* 1c */
	for (obj = op->handles; obj; obj = obj->stage_next)
		bus1_op_release_handle(op, container_of(obj, struct bus1_handle,
							obj));
	for (msg = op->discards; msg; msg = msg->discard_next)
		bus1_op_release_carried(op, msg);
	for (msg = op->messages; msg; msg = msg->op_next)
		if (msg->discarded)
			bus1_op_release_carried(op, msg);

	/* 2 */
	smp_store_release(&op->tx->committed, true);

	/* 3a */
	for (msg = op->messages; msg; msg = msg->op_next)
		if (!msg->discarded)
			for (i = 0; i < msg->n_handles; ++i)
				bus1_op_link_handle(op, msg->handles[i]);

	/* 3b */
	for (obj = op->nodes; obj; obj = obj->stage_next) {
		node = container_of(obj, struct bus1_node, obj);
		spin_lock(&node->lock);
		node->dead = true;
		list_for_each_entry_safe(handle, tmp, &node->handles,
					 node_link) {
			bus1_op_notify_handle(op, handle, op->tx);
			list_del_init(&handle->node_link);
			handle->nstate &= ~BUS1_HANDLE_LINKED;
		}
		spin_unlock(&node->lock);
	}
}

/* Drop what a discarded message holds: IDs assigned at @peer, charges. */
static void bus1_op_finish_discard(struct bus1_peer *peer,
				   struct bus1_msg *msg)
{
	struct bus1_handle *handle;
	size_t i;

	for (i = 0; i < msg->n_handles; ++i) {
		handle = msg->handles[i];
		if (handle->owner == peer)
			bus1_peer_id_drop(peer, &handle->obj);
		bus1_acct_discharge(handle->charge, 1, 0);
		handle->charge = NULL;
	}
	bus1_acct_discharge(msg->charge, 1, msg->n_data);
	msg->charge = NULL;
}

/**
 * bus1_op_finish() - complete a committed op
 * @op:		the op
 *
 * Wakes every receiver that got an entry, removes released objects from the
 * acting peer's table, releases their charges and drops all references the
 * op held.
 *
 * Context: process context, no spinlock held, op->peer locked.
 */
void bus1_op_finish(struct bus1_op *op)
{
	struct bus1_object *obj, *next_obj;
	struct bus1_msg *msg, *next_msg;
	struct bus1_entry *e, *next_e;
	struct bus1_handle *handle;
	struct bus1_node *node;

	lockdep_assert_held(&op->peer->lock);

	for (e = op->pushed; e; e = next_e) {
		next_e = e->op_next;
		bus1_peer_wake(bus1_entry_peer(e));
		bus1_entry_unref(e);
	}
	for (e = op->failed; e; e = next_e) {
		next_e = e->op_next;
		bus1_entry_unref(e);
		bus1_entry_unref(e);
	}

	/* before the messages: the tx may be embedded in one of them */
	bus1_tx_unref(op->tx);
	op->tx = NULL;

	for (obj = op->nodes; obj; obj = next_obj) {
		next_obj = obj->stage_next;
		node = container_of(obj, struct bus1_node, obj);
		obj->stage_next = NULL;
		obj->state &= ~BUS1_OBJECT_STAGED;
		bus1_peer_id_drop(op->peer, obj);
		bus1_acct_discharge(node->charge, 1, 0);
		node->charge = NULL;
		bus1_node_unref(node);
	}

	for (obj = op->handles; obj; obj = next_obj) {
		next_obj = obj->stage_next;
		handle = container_of(obj, struct bus1_handle, obj);
		obj->stage_next = NULL;
		obj->state &= ~BUS1_OBJECT_STAGED;
		bus1_peer_id_drop(op->peer, obj);
		bus1_acct_discharge(handle->charge, 1, 0);
		handle->charge = NULL;
		bus1_handle_unref(handle);
	}

	for (msg = op->discards; msg; msg = next_msg) {
		next_msg = msg->discard_next;
		msg->discard_next = NULL;
		bus1_op_finish_discard(op->peer, msg);
		bus1_msg_unref(msg);
	}

	for (msg = op->messages; msg; msg = next_msg) {
		next_msg = msg->op_next;
		if (msg->discarded)
			bus1_op_finish_discard(op->peer, msg);
		bus1_msg_unref(msg);
	}

	memset(op, 0, sizeof(*op));
}
