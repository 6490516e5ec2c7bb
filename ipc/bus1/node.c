// SPDX-License-Identifier: GPL-2.0
/*
 * Nodes and handles, and the two commands that manage them directly:
 * TRANSFER (create nodes and handles) and RELEASE (drop them).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/file.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/bus1.h>
#include "acct.h"
#include "main.h"
#include "node.h"
#include "peer.h"
#include "tx.h"

/**
 * bus1_node_new() - allocate a node
 * @owner:	the owning peer
 *
 * Return: the node (no ID, not charged), or ERR_PTR(-ENOMEM).
 */
struct bus1_node *bus1_node_new(struct bus1_peer *owner)
{
	struct bus1_node *node;

	node = kzalloc(sizeof(*node), GFP_KERNEL);
	if (!node)
		return ERR_PTR(-ENOMEM);

	node->obj.kind = BUS1_OBJECT_NODE;
	kref_init(&node->ref);
	node->owner = bus1_peer_ref(owner);
	spin_lock_init(&node->lock);
	INIT_LIST_HEAD(&node->handles);
	node->release_entry.kind = BUS1_ENTRY_HANDLE_RELEASE;
	bus1_stat_inc(BUS1_STAT_NODES);
	return node;
}

/**
 * bus1_node_free() - free a node once its last reference is gone
 * @ref:	the node's reference count
 *
 * Context: process context, no spinlock held.
 */
void bus1_node_free(struct kref *ref)
{
	struct bus1_node *node = container_of(ref, struct bus1_node, ref);

	/* only set if staging failed; released nodes were discharged */
	bus1_acct_discharge(node->charge, 1, 0);
	bus1_peer_unref(node->owner);
	kfree(node);
	bus1_stat_dec(BUS1_STAT_NODES);
}

static struct kmem_cache *bus1_handle_cache;

/**
 * bus1_handle_new() - allocate a handle
 * @owner:	the owning peer
 * @node:	the node it refers to
 *
 * Return: the handle (no ID, not charged, not counted), or ERR_PTR(-ENOMEM).
 */
struct bus1_handle *bus1_handle_new(struct bus1_peer *owner,
				    struct bus1_node *node)
{
	struct bus1_handle *handle;

	handle = kmem_cache_zalloc(bus1_handle_cache, GFP_KERNEL);
	if (!handle)
		return ERR_PTR(-ENOMEM);

	handle->obj.kind = BUS1_OBJECT_HANDLE;
	kref_init(&handle->ref);
	handle->owner = bus1_peer_ref(owner);
	handle->node = bus1_node_ref(node);
	INIT_LIST_HEAD(&handle->node_link);
	handle->release_entry.kind = BUS1_ENTRY_NODE_RELEASE;
	bus1_stat_inc(BUS1_STAT_HANDLES);
	return handle;
}

/**
 * bus1_handle_free() - free a handle once its last reference is gone
 * @ref:	the handle's reference count
 *
 * Context: process context, no spinlock held.
 */
void bus1_handle_free(struct kref *ref)
{
	struct bus1_handle *handle = container_of(ref, struct bus1_handle, ref);

	bus1_acct_discharge(handle->charge, 1, 0);
	bus1_node_unref(handle->node);
	bus1_peer_unref(handle->owner);
	kmem_cache_free(bus1_handle_cache, handle);
	bus1_stat_dec(BUS1_STAT_HANDLES);
}

/**
 * bus1_handle_cache_init() - create the slab cache for handles
 *
 * Return: 0 or -ENOMEM.
 */
int bus1_handle_cache_init(void)
{
	/* named after the module: two instances may be loaded at once */
	bus1_handle_cache = kmem_cache_create(KBUILD_MODNAME "_handle",
					      sizeof(struct bus1_handle), 0,
					      0, NULL);
	return bus1_handle_cache ? 0 : -ENOMEM;
}

/**
 * bus1_handle_cache_deinit() - destroy the slab cache for handles
 */
void bus1_handle_cache_deinit(void)
{
	kmem_cache_destroy(bus1_handle_cache);
}

/**
 * bus1_handle_count() - count a new handle in its node's handle count
 * @handle:	a staged handle
 *
 * The caller holds (under its own peer lock) another counted handle to the
 * same node, or the node is new and not visible yet, so the count cannot
 * drop to zero until this one is counted.
 */
void bus1_handle_count(struct bus1_handle *handle)
{
	struct bus1_node *node = handle->node;

	spin_lock(&node->lock);
	++node->n_handles;
	handle->nstate |= BUS1_HANDLE_COUNTED;
	spin_unlock(&node->lock);
}

/**
 * bus1_handle_uncount() - revert bus1_handle_count() (staging failed)
 * @handle:	the handle
 *
 * Never reaches zero for the reason given at bus1_handle_count(), so there
 * is no notification to send.
 */
void bus1_handle_uncount(struct bus1_handle *handle)
{
	struct bus1_node *node = handle->node;

	spin_lock(&node->lock);
	if (handle->nstate & BUS1_HANDLE_COUNTED) {
		handle->nstate &= ~BUS1_HANDLE_COUNTED;
		--node->n_handles;
	}
	spin_unlock(&node->lock);
}

/**
 * bus1_handle_install_link() - link a handle created by TRANSFER
 * @handle:	a counted, installed handle
 *
 * If the node is dead already, the handle gets its NODE_RELEASE right away,
 * receivable at once.
 */
void bus1_handle_install_link(struct bus1_handle *handle)
{
	struct bus1_node *node = handle->node;
	bool queued = false, failed = false;

	spin_lock(&node->lock);
	if (node->dead) {
		handle->nstate |= BUS1_HANDLE_NOTIFIED;
		handle->release_entry.tx = &bus1_tx_done;
		bus1_handle_ref(handle);
		if (bus1_peer_push(handle->owner, &handle->release_entry))
			queued = true;
		else
			failed = true;
	} else {
		list_add_tail(&handle->node_link, &node->handles);
		handle->nstate |= BUS1_HANDLE_LINKED;
	}
	spin_unlock(&node->lock);

	if (queued)
		bus1_peer_wake(handle->owner);
	if (failed)
		bus1_handle_unref(handle);
}

/**
 * bus1_node_stage() - create a charged node with a reserved ID
 * @owner:	the owner, locked
 * @list:	staging list (obj.stage_next) the node is added to
 *
 * The ID is burned if the node is never installed.
 *
 * Return: the node, or ERR_PTR(-EDQUOT / -ENOMEM).
 */
struct bus1_node *bus1_node_stage(struct bus1_peer *owner,
					 struct bus1_object **list)
{
	struct bus1_acct_trace *charge;
	struct bus1_node *node;
	int r;

	r = bus1_acct_charge(owner->actor.user, &owner->actor, 1, 0, &charge);
	if (r)
		return ERR_PTR(r);

	node = bus1_node_new(owner);
	if (IS_ERR(node)) {
		bus1_acct_discharge(charge, 1, 0);
		return node;
	}
	node->charge = charge;

	r = bus1_peer_id_reserve(owner, &node->obj);
	if (r) {
		bus1_node_unref(node);
		return ERR_PTR(r);
	}

	node->obj.stage_next = *list;
	*list = &node->obj;
	return node;
}

/**
 * bus1_handle_stage() - create a charged, counted handle
 * @owner:	the peer that will own the handle
 * @node:	its node
 * @claimant:	the peer whose command creates it (charged as claimant)
 *
 * Return: the handle (no ID), or ERR_PTR(-EDQUOT / -ENOMEM).
 */
struct bus1_handle *bus1_handle_stage(struct bus1_peer *owner,
				      struct bus1_node *node,
				      struct bus1_peer *claimant)
{
	struct bus1_acct_trace *charge;
	struct bus1_handle *handle;
	int r;

	r = bus1_acct_charge(owner->actor.user, &claimant->actor, 1, 0,
			     &charge);
	if (r)
		return ERR_PTR(r);

	handle = bus1_handle_new(owner, node);
	if (IS_ERR(handle)) {
		bus1_acct_discharge(charge, 1, 0);
		return handle;
	}
	handle->charge = charge;
	bus1_handle_count(handle);
	return handle;
}

/**
 * bus1_handle_unstage() - destroy a handle from bus1_handle_stage()
 * @handle:	the handle, never installed
 */
void bus1_handle_unstage(struct bus1_handle *handle)
{
	bus1_handle_uncount(handle);
	bus1_handle_unref(handle);
}

static void bus1_peer_lock2(struct bus1_peer *a, struct bus1_peer *b)
{
	if (a == b) {
		mutex_lock(&a->lock);
	} else if (a->seq < b->seq) {
		mutex_lock(&a->lock);
		mutex_lock_nested(&b->lock, SINGLE_DEPTH_NESTING);
	} else {
		mutex_lock(&b->lock);
		mutex_lock_nested(&a->lock, SINGLE_DEPTH_NESTING);
	}
}

static void bus1_peer_unlock2(struct bus1_peer *a, struct bus1_peer *b)
{
	if (a != b)
		mutex_unlock(&b->lock);
	mutex_unlock(&a->lock);
}

/* One element of TRANSFER: stage a node (CREATE) and a handle in @to. */
static int bus1_transfer_one(struct bus1_peer *from, struct bus1_peer *to,
			     const struct bus1_cmd_transfer *cmd, u64 i,
			     struct bus1_object **nodes,
			     struct bus1_object **handles)
{
	struct bus1_transfer __user *usrc, *udst;
	struct bus1_transfer src, dst;
	struct bus1_handle *handle;
	struct bus1_object *obj;
	struct bus1_node *node;
	int r;

	usrc = bus1_uelem(cmd->ptr_src, i, sizeof(src));
	udst = bus1_uelem(cmd->ptr_dst, i, sizeof(dst));
	if (!usrc || copy_from_user(&src, usrc, sizeof(src)))
		return -EFAULT;
	if (src.flags & ~BUS1_TRANSFER_FLAG_CREATE)
		return -EINVAL;

	if (src.flags & BUS1_TRANSFER_FLAG_CREATE) {
		if (src.id != BUS1_INVALID)
			return -EINVAL;
		node = bus1_node_stage(from, nodes);
		if (IS_ERR(node))
			return PTR_ERR(node);
		src.flags = 0;
		src.id = node->obj.id;
		if (copy_to_user(usrc, &src, sizeof(src)))
			return -EFAULT;
	} else {
		obj = bus1_peer_lookup(from, src.id);
		if (!obj || obj->kind != BUS1_OBJECT_HANDLE)
			return -EBADRQC;
		node = container_of(obj, struct bus1_handle, obj)->node;
	}

	handle = bus1_handle_stage(to, node, from);
	if (IS_ERR(handle))
		return PTR_ERR(handle);
	r = bus1_peer_id_reserve(to, &handle->obj);
	if (r) {
		bus1_handle_unstage(handle);
		return r;
	}
	handle->obj.stage_next = *handles;
	*handles = &handle->obj;

	dst.flags = 0;
	dst.id = handle->obj.id;
	if (!udst || copy_to_user(udst, &dst, sizeof(dst)))
		return -EFAULT;
	return 0;
}

static int bus1_transfer_locked(struct bus1_peer *from, struct bus1_peer *to,
				const struct bus1_cmd_transfer *cmd)
{
	struct bus1_object *nodes = NULL, *handles = NULL, *obj, *next;
	struct bus1_handle *handle;
	int r = 0;
	u64 i;

	for (i = 0; i < cmd->n_transfers; ++i) {
		r = bus1_transfer_one(from, to, cmd, i, &nodes, &handles);
		if (r)
			break;
		cond_resched();
		if (fatal_signal_pending(current)) {
			r = -EINTR;
			break;
		}
	}

	if (r) {
		for (obj = handles; obj; obj = next) {
			next = obj->stage_next;
			obj->stage_next = NULL;
			bus1_peer_id_drop(to, obj);
			bus1_handle_unstage(container_of(obj,
							 struct bus1_handle,
							 obj));
		}
		for (obj = nodes; obj; obj = next) {
			next = obj->stage_next;
			obj->stage_next = NULL;
			bus1_peer_id_drop(from, obj);
			bus1_node_unref(container_of(obj, struct bus1_node,
						     obj));
		}
		return r;
	}

	/* the tables take over the creation references */
	for (obj = nodes; obj; obj = next) {
		next = obj->stage_next;
		obj->stage_next = NULL;
		bus1_peer_id_install(from, obj);
	}
	for (obj = handles; obj; obj = next) {
		next = obj->stage_next;
		obj->stage_next = NULL;
		handle = container_of(obj, struct bus1_handle, obj);
		bus1_peer_id_install(to, obj);
		bus1_handle_install_link(handle);
	}
	return 0;
}

/**
 * bus1_cmd_transfer() - BUS1_CMD_TRANSFER
 * @peer:	the calling peer
 * @arg:	user address of struct bus1_cmd_transfer
 *
 * Return: 0 or a negative errno (spec §5.1).
 */
int bus1_cmd_transfer(struct bus1_peer *peer, unsigned long arg)
{
	struct bus1_cmd_transfer cmd;
	struct file *to_file = NULL;
	struct bus1_peer *to = peer;
	int r;

	if (copy_from_user(&cmd, (void __user *)arg, sizeof(cmd)))
		return -EFAULT;
	if (cmd.flags)
		return -EINVAL;

	if (cmd.to != BUS1_INVALID) {
		if (cmd.to > INT_MAX)
			return -EBADF;
		to_file = fget((unsigned int)cmd.to);
		if (!to_file)
			return -EBADF;
		to = bus1_cdev_peer(to_file);
		if (!to) {
			fput(to_file);
			return -EOPNOTSUPP;
		}
	}

	bus1_peer_lock2(peer, to);
	r = bus1_transfer_locked(peer, to, &cmd);
	bus1_peer_unlock2(peer, to);

	if (to_file)
		fput(to_file);
	return r;
}

/**
 * bus1_cmd_release() - BUS1_CMD_RELEASE
 * @peer:	the calling peer
 * @arg:	user address of struct bus1_cmd_release
 *
 * Return: 0 or a negative errno (spec §5.2).
 */
int bus1_cmd_release(struct bus1_peer *peer, unsigned long arg)
{
	struct bus1_cmd_release cmd;
	struct bus1_object *obj;
	struct bus1_op op;
	u64 __user *uid;
	u64 i, id;
	int r = 0;

	if (copy_from_user(&cmd, (void __user *)arg, sizeof(cmd)))
		return -EFAULT;
	if (cmd.flags)
		return -EINVAL;
	if (!cmd.n_ids)
		return 0;

	mutex_lock(&peer->lock);
	bus1_op_init(&op, peer, NULL);

	for (i = 0; i < cmd.n_ids; ++i) {
		uid = bus1_uelem(cmd.ptr_ids, i, sizeof(*uid));
		if (!uid || get_user(id, uid)) {
			r = -EFAULT;
			goto err;
		}
		obj = bus1_peer_lookup(peer, id);
		if (!obj) {
			r = -EBADRQC;
			goto err;
		}
		bus1_op_stage_object(&op, obj);
		cond_resched();
		if (fatal_signal_pending(current)) {
			r = -EINTR;
			goto err;
		}
	}

	op.tx = bus1_tx_new();
	if (!op.tx) {
		r = -ENOMEM;
		goto err;
	}

	bus1_op_commit(&op);
	bus1_op_finish(&op);
	mutex_unlock(&peer->lock);
	return 0;

err:
	bus1_op_unstage(&op);
	mutex_unlock(&peer->lock);
	return r;
}
