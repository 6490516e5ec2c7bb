// SPDX-License-Identifier: GPL-2.0
/*
 * Messages and the two commands that move them: SEND and RECV.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/bus1.h>
#include "acct.h"
#include "main.h"
#include "message.h"
#include "node.h"
#include "peer.h"
#include "tx.h"

static void bus1_payload_unref(struct bus1_payload *payload)
{
	if (payload && refcount_dec_and_test(&payload->ref)) {
		kvfree(payload->data);
		kfree(payload);
		bus1_stat_dec(BUS1_STAT_PAYLOADS);
	}
}

/**
 * bus1_msg_free() - free a message once its last reference is gone
 * @ref:	the message's reference count
 *
 * Drops the message's references on its carried handles; handles that were
 * installed at the receiver live on through the table's reference.
 *
 * Context: process context, no spinlock held.
 */
void bus1_msg_free(struct kref *ref)
{
	struct bus1_msg *msg = container_of(ref, struct bus1_msg, ref);
	size_t i;

	/* only set if staging failed; otherwise discharged at receive/discard */
	bus1_acct_discharge(msg->charge, 1, msg->n_data);
	for (i = 0; i < msg->n_handles; ++i)
		bus1_handle_unref(msg->handles[i]);
	bus1_tx_unref(msg->discard_tx);
	bus1_payload_unref(msg->payload);
	bus1_node_unref(msg->dst);
	kvfree(msg);
	bus1_stat_dec(BUS1_STAT_MESSAGES);
}

/*
 * Stage one copy of a message to @dst: charge its receiver, allocate the
 * message and one new handle (owned by the receiver) per transfer. With
 * @inline_data the payload gets room behind the handles (a small unicast
 * needs no shared buffer).
 */
static struct bus1_msg *bus1_msg_stage(struct bus1_peer *sender,
				       struct bus1_node *dst,
				       struct bus1_node **tr_nodes,
				       size_t n_transfers, u64 n_data,
				       bool inline_data)
{
	struct bus1_peer *receiver = dst->owner;
	struct bus1_acct_trace *charge;
	struct bus1_handle *handle;
	struct bus1_msg *msg;
	size_t i;
	int r;

	r = bus1_acct_charge(receiver->actor.user, &sender->actor, 1, n_data,
			     &charge);
	if (r)
		return ERR_PTR(r);

	msg = kvmalloc(size_add(struct_size(msg, handles, n_transfers),
			       inline_data ? n_data : 0),
		       GFP_KERNEL | __GFP_NOWARN);
	if (!msg) {
		bus1_acct_discharge(charge, 1, n_data);
		return ERR_PTR(-ENOMEM);
	}
	memset(msg, 0, sizeof(*msg));
	kref_init(&msg->ref);
	msg->entry.kind = BUS1_ENTRY_USER;
	msg->dst = bus1_node_ref(dst);
	msg->sender_uid = sender->cred->euid;
	msg->charge = charge;
	msg->n_data = n_data;
	if (inline_data)
		msg->data = (u8 *)&msg->handles[n_transfers];
	bus1_stat_inc(BUS1_STAT_MESSAGES);

	if (!n_transfers)
		return msg;

	msg->discard_tx = bus1_tx_new();
	if (!msg->discard_tx) {
		r = -ENOMEM;
		goto err;
	}

	for (i = 0; i < n_transfers; ++i) {
		handle = bus1_handle_stage(receiver, tr_nodes[i], sender);
		if (IS_ERR(handle)) {
			r = PTR_ERR(handle);
			goto err;
		}
		msg->handles[msg->n_handles++] = handle;
		cond_resched();
	}
	return msg;

err:
	for (i = 0; i < msg->n_handles; ++i)
		bus1_handle_uncount(msg->handles[i]);
	bus1_msg_unref(msg);
	return ERR_PTR(r);
}

/* Undo bus1_msg_stage() for every message of @op, and @op's tx. */
static void bus1_msg_unstage_all(struct bus1_op *op)
{
	struct bus1_msg *msg, *next;
	size_t i;

	for (msg = op->messages; msg; msg = next) {
		next = msg->op_next;
		for (i = 0; i < msg->n_handles; ++i)
			bus1_handle_uncount(msg->handles[i]);
		bus1_msg_unref(msg);
	}
	op->messages = NULL;
}

struct bus1_send {
	struct bus1_cmd_send cmd;
	struct bus1_message umsg;
	struct iov_iter iter;
	struct bus1_node **tr_nodes;
	unsigned long *tr_created;
	struct bus1_object *created;
};

/* SEND step 9: read the transfers, creating nodes for CREATE elements. */
static int bus1_send_transfers(struct bus1_peer *peer, struct bus1_send *s)
{
	struct bus1_transfer __user *utr;
	struct bus1_transfer tr;
	struct bus1_object *obj;
	struct bus1_node *node;
	size_t j, n;

	if (s->umsg.n_transfers > bus1_max_objects)
		return -EDQUOT;
	n = s->umsg.n_transfers;
	if (!n)
		return 0;

	s->tr_nodes = kvmalloc_array(n, sizeof(*s->tr_nodes),
				     GFP_KERNEL | __GFP_NOWARN);
	s->tr_created = kvcalloc(BITS_TO_LONGS(n), sizeof(long),
				 GFP_KERNEL | __GFP_NOWARN);
	if (!s->tr_nodes || !s->tr_created)
		return -ENOMEM;

	for (j = 0; j < n; ++j) {
		utr = bus1_uelem(s->umsg.ptr_transfers, j, sizeof(tr));
		if (!utr || copy_from_user(&tr, utr, sizeof(tr)))
			return -EFAULT;
		if (tr.flags & ~BUS1_TRANSFER_FLAG_CREATE)
			return -EINVAL;
		if (tr.flags & BUS1_TRANSFER_FLAG_CREATE) {
			if (tr.id != BUS1_INVALID)
				return -EINVAL;
			node = bus1_node_stage(peer, &s->created);
			if (IS_ERR(node))
				return PTR_ERR(node);
			__set_bit(j, s->tr_created);
		} else {
			obj = bus1_peer_lookup(peer, tr.id);
			if (!obj || obj->kind != BUS1_OBJECT_HANDLE)
				return -EBADRQC;
			node = container_of(obj, struct bus1_handle, obj)->node;
		}
		s->tr_nodes[j] = node;
		cond_resched();
	}
	return 0;
}

/* SEND step 10: one message per destination, appended in order. */
static int bus1_send_destinations(struct bus1_peer *peer, struct bus1_send *s,
				  struct bus1_op *op)
{
	struct bus1_msg *msg, **tail = &op->messages;
	struct bus1_object *obj;
	u64 __user *udst;
	u64 i, id;

	for (i = 0; i < s->cmd.n_destinations; ++i) {
		udst = bus1_uelem(s->cmd.ptr_destinations, i, sizeof(*udst));
		if (!udst || get_user(id, udst))
			return -EFAULT;
		obj = bus1_peer_lookup(peer, id);
		if (!obj || obj->kind != BUS1_OBJECT_HANDLE)
			return -EBADRQC;
		msg = bus1_msg_stage(peer,
				     container_of(obj, struct bus1_handle,
						  obj)->node,
				     s->tr_nodes, s->umsg.n_transfers,
				     s->umsg.n_data,
				     s->cmd.n_destinations == 1 &&
				     s->umsg.n_data <= BUS1_MSG_INLINE_MAX);
		if (IS_ERR(msg))
			return PTR_ERR(msg);
		*tail = msg;
		tail = &msg->op_next;
		cond_resched();
		if (fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/* SEND step 11: copy exactly n_data bytes, shared by all copies. */
static int bus1_send_payload(struct bus1_send *s, struct bus1_op *op)
{
	struct bus1_payload *payload;
	struct bus1_msg *msg;
	size_t n = s->umsg.n_data;

	if (!op->messages || !n)
		return 0;

	if (op->messages->data) {
		/* small unicast: the message has room for the bytes */
		if (copy_from_iter((u8 *)op->messages->data, n, &s->iter) != n)
			return -EFAULT;
		return 0;
	}

	payload = kmalloc(sizeof(*payload), GFP_KERNEL);
	if (!payload)
		return -ENOMEM;
	payload->data = kvmalloc(n, GFP_KERNEL | __GFP_NOWARN);
	if (!payload->data) {
		kfree(payload);
		return -ENOMEM;
	}
	refcount_set(&payload->ref, 1);
	payload->size = n;
	bus1_stat_inc(BUS1_STAT_PAYLOADS);

	if (copy_from_iter(payload->data, n, &s->iter) != n) {
		bus1_payload_unref(payload);
		return -EFAULT;
	}

	for (msg = op->messages; msg; msg = msg->op_next) {
		refcount_inc(&payload->ref);
		msg->payload = payload;
		msg->data = payload->data;
	}
	bus1_payload_unref(payload);
	return 0;
}

/* SEND step 12: CREATE write-backs, then errors[]. */
static int bus1_send_writeback(struct bus1_send *s)
{
	struct bus1_transfer __user *utr;
	struct bus1_transfer tr;
	s32 __user *uerr;
	u64 i;

	for (i = 0; i < s->umsg.n_transfers; ++i) {
		if (!test_bit(i, s->tr_created))
			continue;
		tr.flags = 0;
		tr.id = s->tr_nodes[i]->obj.id;
		utr = bus1_uelem(s->umsg.ptr_transfers, i, sizeof(tr));
		if (!utr || copy_to_user(utr, &tr, sizeof(tr)))
			return -EFAULT;
	}

	for (i = 0; i < s->cmd.n_destinations; ++i) {
		uerr = bus1_uelem(s->cmd.ptr_errors, i, sizeof(*uerr));
		if (!uerr || put_user(0, uerr))
			return -EFAULT;
		cond_resched();
	}
	return 0;
}

static int bus1_send_locked(struct bus1_peer *peer, struct bus1_send *s)
{
	struct bus1_object *obj, *next;
	struct bus1_msg *msg;
	struct bus1_op op;
	int r;

	r = bus1_send_transfers(peer, s);
	if (r)
		goto out;

	bus1_op_init(&op, peer, NULL);
	r = bus1_send_destinations(peer, s, &op);
	if (!r && op.messages) {
		msg = op.messages;
		if (!msg->op_next && !msg->n_handles) {
			/* no other entry can point at it: no allocation */
			bus1_tx_init_embedded(&msg->tx);
			op.tx = &msg->tx;
		} else {
			op.tx = bus1_tx_new();
			if (!op.tx)
				r = -ENOMEM;
		}
	}
	if (!r)
		r = bus1_send_payload(s, &op);
	if (!r)
		r = bus1_send_writeback(s);
	if (r) {
		if (op.tx && !op.tx->embedded)
			bus1_tx_unref(op.tx);
		bus1_msg_unstage_all(&op);
		goto out;
	}

	/* the table takes over the creation reference of new nodes */
	for (obj = s->created; obj; obj = next) {
		next = obj->stage_next;
		obj->stage_next = NULL;
		bus1_peer_id_install(peer, obj);
	}
	s->created = NULL;

	if (op.messages) {
		bus1_op_commit(&op);
		bus1_op_finish(&op);
	}

out:
	for (obj = s->created; obj; obj = next) {
		next = obj->stage_next;
		obj->stage_next = NULL;
		bus1_peer_id_drop(peer, obj);
		bus1_node_unref(container_of(obj, struct bus1_node, obj));
	}
	kvfree(s->tr_created);
	kvfree(s->tr_nodes);
	return r;
}

/**
 * bus1_cmd_send() - BUS1_CMD_SEND
 * @peer:	the calling peer
 * @arg:	user address of struct bus1_cmd_send
 *
 * Return: 0 or a negative errno (spec §5.3).
 */
int bus1_cmd_send(struct bus1_peer *peer, unsigned long arg)
{
	struct iovec iov_stack[UIO_FASTIOV], *iov = iov_stack;
	struct bus1_message __user *umsg;
	struct bus1_send s = {};
	ssize_t len;
	int r;

	if (copy_from_user(&s.cmd, (void __user *)arg, sizeof(s.cmd)))
		return -EFAULT;
	if (s.cmd.flags)
		return -EINVAL;
	umsg = bus1_uelem(s.cmd.ptr_message, 0, sizeof(*umsg));
	if (!umsg || copy_from_user(&s.umsg, umsg, sizeof(s.umsg)))
		return -EFAULT;
	if (s.umsg.flags || s.umsg.type != BUS1_MESSAGE_TYPE_USER)
		return -EINVAL;
	if (s.umsg.n_data > MAX_RW_COUNT)
		return -EMSGSIZE;
	if (s.umsg.n_data_vecs > UIO_MAXIOV)
		return -EINVAL;
	if (s.umsg.n_data_vecs && !bus1_uptr_ok(s.umsg.ptr_data_vecs))
		return -EFAULT;

	len = import_iovec(ITER_SOURCE,
			   u64_to_user_ptr(s.umsg.ptr_data_vecs),
			   s.umsg.n_data_vecs, ARRAY_SIZE(iov_stack), &iov,
			   &s.iter);
	if (len < 0)
		return len;
	if (iov_iter_count(&s.iter) < s.umsg.n_data) {
		r = -EMSGSIZE;
		goto out;
	}

	mutex_lock(&peer->lock);
	r = bus1_send_locked(peer, &s);
	mutex_unlock(&peer->lock);

out:
	kfree(iov);
	return r;
}

static int bus1_recv_write_info(struct bus1_cmd_recv *cmd,
				struct bus1_message *umsg,
				u64 type, u64 id, u64 account,
				u64 n_transfers, u64 n_data)
{
	struct bus1_metadata meta = {
		.flags = 0,
		.id = id,
		.account = account,
	};
	struct bus1_metadata __user *umeta;
	struct bus1_message __user *uptr;

	umeta = bus1_uelem(cmd->ptr_metadata, 0, sizeof(meta));
	if (!umeta || copy_to_user(umeta, &meta, sizeof(meta)))
		return -EFAULT;

	umsg->flags = 0;
	umsg->type = type;
	umsg->n_transfers = n_transfers;
	umsg->n_data = n_data;
	uptr = bus1_uelem(cmd->ptr_message, 0, sizeof(*umsg));
	if (!uptr || copy_to_user(uptr, umsg, sizeof(*umsg)))
		return -EFAULT;
	return 0;
}

/* Deliver a user message; the entry is removed only on success. */
static int bus1_recv_user(struct bus1_peer *peer, struct bus1_cmd_recv *cmd,
			  struct bus1_message *umsg, struct bus1_msg *msg)
{
	struct iovec iov_stack[UIO_FASTIOV], *iov = iov_stack;
	size_t d = msg->n_data;
	size_t j, k = msg->n_handles;
	struct bus1_transfer __user *utr;
	struct bus1_handle *handle;
	struct bus1_transfer tr;
	struct iov_iter iter;
	u64 account;
	ssize_t len;
	int r;

	account = from_kuid_munged(peer->cred->user_ns, msg->sender_uid);

	if (k > umsg->n_transfers || d > umsg->n_data)
		goto emsgsize;
	if (umsg->n_data_vecs > UIO_MAXIOV)
		return -EINVAL;
	if (umsg->n_data_vecs && !bus1_uptr_ok(umsg->ptr_data_vecs))
		return -EFAULT;
	len = import_iovec(ITER_DEST, u64_to_user_ptr(umsg->ptr_data_vecs),
			   umsg->n_data_vecs, ARRAY_SIZE(iov_stack), &iov,
			   &iter);
	if (len < 0)
		return len;
	if (iov_iter_count(&iter) < umsg->n_data) {
		kfree(iov);
		goto emsgsize;
	}

	/* IDs assigned by an earlier failed attempt are kept */
	for (j = 0; j < k; ++j) {
		handle = msg->handles[j];
		if (!handle->obj.id) {
			r = bus1_peer_id_reserve(peer, &handle->obj);
			if (r)
				goto out;
		}
	}

	for (j = 0; j < k; ++j) {
		handle = msg->handles[j];
		tr.flags = 0;
		tr.id = handle->obj.id;
		utr = bus1_uelem(umsg->ptr_transfers, j, sizeof(tr));
		if (!utr || copy_to_user(utr, &tr, sizeof(tr))) {
			r = -EFAULT;
			goto out;
		}
	}

	if (d && copy_to_iter(msg->data, d, &iter) != d) {
		r = -EFAULT;
		goto out;
	}

	r = bus1_recv_write_info(cmd, umsg, BUS1_MESSAGE_TYPE_USER,
				 msg->dst->obj.id, account, k, d);
	if (r)
		goto out;

	for (j = 0; j < k; ++j) {
		handle = msg->handles[j];
		bus1_handle_ref(handle);
		bus1_peer_id_install(peer, &handle->obj);
	}
	bus1_peer_pop(peer, &msg->entry);
	bus1_acct_discharge(msg->charge, 1, d);
	msg->charge = NULL;
	bus1_msg_unref(msg);
	r = 0;

out:
	kfree(iov);
	return r;

emsgsize:
	r = bus1_recv_write_info(cmd, umsg, BUS1_MESSAGE_TYPE_USER,
				 msg->dst->obj.id, account, k, d);
	return r ? r : -EMSGSIZE;
}

/* Retire a handle whose NODE_RELEASE was received. */
static void bus1_recv_retire_handle(struct bus1_peer *peer,
				    struct bus1_handle *handle)
{
	struct bus1_node *node = handle->node;

	/* the node's release has committed: never a HANDLE_RELEASE here */
	spin_lock(&node->lock);
	handle->nstate |= BUS1_HANDLE_RELEASED;
	if (handle->nstate & BUS1_HANDLE_LINKED) {
		list_del_init(&handle->node_link);
		handle->nstate &= ~BUS1_HANDLE_LINKED;
	}
	if (handle->nstate & BUS1_HANDLE_COUNTED) {
		handle->nstate &= ~BUS1_HANDLE_COUNTED;
		--node->n_handles;
	}
	spin_unlock(&node->lock);

	bus1_peer_id_drop(peer, &handle->obj);
	bus1_acct_discharge(handle->charge, 1, 0);
	handle->charge = NULL;
	bus1_handle_unref(handle);
}

/* Retire a node whose HANDLE_RELEASE was received. */
static void bus1_recv_retire_node(struct bus1_peer *peer,
				  struct bus1_node *node)
{
	bus1_peer_id_drop(peer, &node->obj);
	bus1_acct_discharge(node->charge, 1, 0);
	node->charge = NULL;
	bus1_node_unref(node);
}

/* Deliver a notification; it is retired only once copied out (D25). */
static int bus1_recv_notification(struct bus1_peer *peer,
				  struct bus1_cmd_recv *cmd,
				  struct bus1_message *umsg,
				  struct bus1_entry *e)
{
	struct bus1_handle *handle;
	struct bus1_node *node;
	int r;

	if (e->kind == BUS1_ENTRY_NODE_RELEASE) {
		handle = container_of(e, struct bus1_handle, release_entry);
		r = bus1_recv_write_info(cmd, umsg,
					 BUS1_MESSAGE_TYPE_NODE_RELEASE,
					 handle->obj.id, BUS1_INVALID, 0, 0);
		if (r)
			return r;
		bus1_peer_pop(peer, e);
		bus1_recv_retire_handle(peer, handle);
	} else {
		node = container_of(e, struct bus1_node, release_entry);
		r = bus1_recv_write_info(cmd, umsg,
					 BUS1_MESSAGE_TYPE_HANDLE_RELEASE,
					 node->obj.id, BUS1_INVALID, 0, 0);
		if (r)
			return r;
		bus1_peer_pop(peer, e);
		bus1_recv_retire_node(peer, node);
	}
	bus1_entry_unref(e);
	return 0;
}

static bool bus1_recv_stale(struct bus1_entry *e)
{
	struct bus1_object *obj;

	switch (e->kind) {
	case BUS1_ENTRY_USER:
		obj = &container_of(e, struct bus1_msg, entry)->dst->obj;
		break;
	case BUS1_ENTRY_NODE_RELEASE:
		obj = &container_of(e, struct bus1_handle, release_entry)->obj;
		break;
	default:
		obj = &container_of(e, struct bus1_node, release_entry)->obj;
		break;
	}
	return !(obj->state & BUS1_OBJECT_INSTALLED);
}

/* Discard a stale entry; its carried handles are released in a transaction. */
static void bus1_recv_discard(struct bus1_peer *peer, struct bus1_entry *e)
{
	struct bus1_msg *msg;
	struct bus1_op op;

	if (e->kind != BUS1_ENTRY_USER) {
		bus1_entry_unref(e);
		return;
	}

	msg = container_of(e, struct bus1_msg, entry);
	if (!msg->n_handles) {
		bus1_acct_discharge(msg->charge, 1, msg->n_data);
		msg->charge = NULL;
		bus1_msg_unref(msg);
		return;
	}

	/* the preallocated tx makes discarding infallible */
	bus1_op_init(&op, peer, msg->discard_tx);
	msg->discard_tx = NULL;
	msg->discard_next = NULL;
	op.discards = msg;
	bus1_op_commit(&op);
	bus1_op_finish(&op);
}

/**
 * bus1_cmd_recv() - BUS1_CMD_RECV
 * @peer:	the calling peer
 * @arg:	user address of struct bus1_cmd_recv
 *
 * Return: 0 or a negative errno (spec §5.4).
 */
int bus1_cmd_recv(struct bus1_peer *peer, unsigned long arg)
{
	struct bus1_message __user *uptr;
	struct bus1_message umsg;
	struct bus1_cmd_recv cmd;
	struct bus1_entry *e;
	int r;

	if (copy_from_user(&cmd, (void __user *)arg, sizeof(cmd)))
		return -EFAULT;
	if (cmd.flags)
		return -EINVAL;
	uptr = bus1_uelem(cmd.ptr_message, 0, sizeof(umsg));
	if (!uptr || copy_from_user(&umsg, uptr, sizeof(umsg)))
		return -EFAULT;
	if (umsg.flags || umsg.type != BUS1_INVALID)
		return -EINVAL;

	mutex_lock(&peer->lock);
	for (;;) {
		e = bus1_peer_peek(peer);
		if (!e) {
			r = -EAGAIN;
			break;
		}
		if (bus1_recv_stale(e)) {
			bus1_peer_pop(peer, e);
			bus1_recv_discard(peer, e);
			cond_resched();
			continue;
		}
		if (e->kind == BUS1_ENTRY_USER)
			r = bus1_recv_user(peer, &cmd, &umsg,
					   container_of(e, struct bus1_msg,
							entry));
		else
			r = bus1_recv_notification(peer, &cmd, &umsg, e);
		break;
	}
	mutex_unlock(&peer->lock);
	return r;
}
