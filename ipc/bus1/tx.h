/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BUS1_TX_H
#define __BUS1_TX_H

/**
 * DOC: Transactions
 *
 * A transaction is a set of queue entries, possibly for many peers, that
 * becomes receivable at one instant: when its committed flag is set. Every
 * entry is pushed onto its receiver's incoming stack with a pointer to its
 * transaction before the flag is set (store-release); a receiver moves an
 * entry to its ready list only once it observes the flag (load-acquire).
 * This gives atomic visibility, and because a transaction that happens
 * before another is committed before the other one pushes anything, causal
 * order (see peer.c for the receive side).
 *
 * struct bus1_op collects what one command commits: messages to deliver,
 * nodes and handles to release, messages to discard. Staging builds it
 * without any visible effect; bus1_op_commit() cannot fail and never waits
 * for another peer's lock; bus1_op_finish() then drops IDs, charges and
 * references, which may sleep.
 */

#include <linux/refcount.h>
#include <linux/types.h>

struct bus1_entry;
struct bus1_msg;
struct bus1_object;
struct bus1_peer;

/**
 * struct bus1_tx - commit state shared by the entries of one transaction
 * @ref:	one reference per queued entry pointing here, plus the committer's
 * @committed:	set once with release semantics; the linearisation point
 * @embedded:	lives inside a message (unicast without handles, where only
 *		that message's entry ever points at it), never freed on its own
 */
struct bus1_tx {
	refcount_t ref;
	bool committed;
	bool embedded;
};

/* Always committed; used for entries that are receivable at once. */
extern struct bus1_tx bus1_tx_done;

struct bus1_tx *bus1_tx_new(void);
void bus1_tx_init_embedded(struct bus1_tx *tx);
void bus1_tx_unref(struct bus1_tx *tx);

static inline struct bus1_tx *bus1_tx_ref(struct bus1_tx *tx)
{
	if (tx != &bus1_tx_done)
		refcount_inc(&tx->ref);
	return tx;
}

static inline bool bus1_tx_committed(struct bus1_tx *tx)
{
	/* pairs with the store-release in bus1_op_commit() */
	return smp_load_acquire(&tx->committed);
}

/**
 * struct bus1_op - one transaction being built and committed
 * @peer:	the acting peer; its lock is held throughout
 * @tx:		the transaction (the op owns one reference)
 * @messages:	messages to deliver, in destination order (msg->op_next)
 * @discards:	messages whose carried handles this op releases
 *		(msg->discard_next; the sender may still walk msg->op_next)
 * @nodes:	nodes of @peer to release (obj.stage_next)
 * @handles:	handles of @peer to release (obj.stage_next)
 * @pushed:	entries pushed so far (entry->op_next), each holding an extra
 *		reference on its container until bus1_op_finish()
 * @failed:	entries whose push failed because the receiver is closed; they
 *		hold two references on their container until bus1_op_finish()
 */
struct bus1_op {
	struct bus1_peer *peer;
	struct bus1_tx *tx;
	struct bus1_msg *messages;
	struct bus1_msg *discards;
	struct bus1_object *nodes;
	struct bus1_object *handles;
	struct bus1_entry *pushed;
	struct bus1_entry *failed;
};

void bus1_op_init(struct bus1_op *op, struct bus1_peer *peer,
		  struct bus1_tx *tx);
void bus1_op_stage_object(struct bus1_op *op, struct bus1_object *obj);
void bus1_op_unstage(struct bus1_op *op);
void bus1_op_commit(struct bus1_op *op);
void bus1_op_finish(struct bus1_op *op);

void bus1_entry_ref(struct bus1_entry *entry);
void bus1_entry_unref(struct bus1_entry *entry);
struct bus1_peer *bus1_entry_peer(struct bus1_entry *entry);

#endif /* __BUS1_TX_H */
