/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BUS1_MESSAGE_H
#define __BUS1_MESSAGE_H

/**
 * DOC: Messages
 *
 * SEND creates one message per destination. All copies of one SEND share
 * one reference-counted payload buffer; each copy carries its own new
 * handles (owned by its receiver, in flight until received). A message is
 * queued at the owner of its destination node and is either received
 * (its handles get IDs and are installed) or discarded (its handles are
 * released in a transaction, so owners learn about last handles).
 */

#include <linux/kref.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include "node.h"
#include "tx.h"

struct bus1_acct_trace;
struct bus1_peer;
struct bus1_tx;

/* Payloads up to this size are stored inside a unicast message. */
#define BUS1_MSG_INLINE_MAX 512

/**
 * struct bus1_payload - payload bytes shared by the copies of one SEND
 * @ref:	one reference per message
 * @size:	number of bytes in @data
 * @data:	the bytes, allocated on their own so that large payloads take
 *		exactly their size (a header in front would round a 64 KiB
 *		payload up to a 128 KiB block)
 */
struct bus1_payload {
	refcount_t ref;
	size_t size;
	u8 *data;
};

/**
 * struct bus1_msg - one copy of a user message
 * @ref:		memory reference count
 * @entry:		queue entry at the receiver
 * @op_next:		link in the sending op (owned by the sender until its op
 *			finishes)
 * @discard_next:	link in the receiver's op that discards this message
 * @dst:		destination node (holds a reference)
 * @sender_uid:		effective UID pinned by the sending peer
 * @discarded:		the push failed (receiver closed); set by the sender
 * @charge:		accounting charge {1, n_data} on the receiver
 * @n_data:		payload size (the BYTES amount charged)
 * @data:		the payload bytes: behind @handles for a unicast, else in
 *			@payload
 * @payload:		payload shared by the copies of a multicast, or NULL
 * @tx:			transaction of a unicast without handles (see tx.h)
 * @discard_tx:		preallocated transaction for discarding, if @n_handles
 * @n_handles:		number of carried handles
 * @handles:		carried handles (each holds a reference), owned by the
 *			receiver; never changes after staging
 */
struct bus1_msg {
	struct kref ref;
	struct bus1_entry entry;
	struct bus1_msg *op_next;
	struct bus1_msg *discard_next;
	struct bus1_node *dst;
	kuid_t sender_uid;
	bool discarded;
	struct bus1_acct_trace *charge;
	u64 n_data;
	const u8 *data;
	struct bus1_payload *payload;
	struct bus1_tx tx;
	struct bus1_tx *discard_tx;
	size_t n_handles;
	struct bus1_handle *handles[];
};

void bus1_msg_free(struct kref *ref);

static inline struct bus1_msg *bus1_msg_ref(struct bus1_msg *msg)
{
	if (msg)
		kref_get(&msg->ref);
	return msg;
}

static inline struct bus1_msg *
bus1_msg_unref(struct bus1_msg *msg)
{
	if (msg)
		kref_put(&msg->ref, bus1_msg_free);
	return NULL;
}

int bus1_cmd_send(struct bus1_peer *peer, unsigned long arg);
int bus1_cmd_recv(struct bus1_peer *peer, unsigned long arg);

#endif /* __BUS1_MESSAGE_H */
