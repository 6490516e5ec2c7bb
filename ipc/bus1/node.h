/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BUS1_NODE_H
#define __BUS1_NODE_H

/**
 * DOC: Nodes, handles and queue entries
 *
 * A node is a receiving end, owned by one peer forever. A handle is a
 * sending capability owned by one peer and pointing at one node. Both are
 * named by IDs in their owner's table; both embed a struct bus1_object with
 * the owner-side state (ID, staging link, installed/staged), which only the
 * owner touches, under its peer lock.
 *
 * The node side of a handle (is it counted in the node's handle count, linked
 * on the node's list, released, has its NODE_RELEASE been used) lives in
 * handle->nstate and is protected by node->lock, because peers other than the
 * owner change it: the sender of a message links the handles it carried, and
 * the node owner walks the list when it releases the node.
 *
 * Notifications need no allocation: every handle embeds the entry of its
 * NODE_RELEASE and every node the entry of its HANDLE_RELEASE (each is sent
 * at most once).
 */

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct bus1_acct_trace;
struct bus1_peer;
struct bus1_tx;

enum bus1_entry_kind {
	BUS1_ENTRY_USER,
	BUS1_ENTRY_NODE_RELEASE,
	BUS1_ENTRY_HANDLE_RELEASE,
};

/**
 * struct bus1_entry - one item of a peer's queue
 * @next:	link in the incoming stack, or in the ready/busy list
 * @op_next:	link in the list of entries pushed by one transaction
 * @tx:		the transaction that makes this entry receivable (set once,
 *		before the entry is pushed)
 * @kind:	enum bus1_entry_kind, tells the containing object
 *
 * An entry is pushed at most once in its lifetime. While queued it holds a
 * reference on its containing object.
 */
struct bus1_entry {
	struct bus1_entry *next;
	struct bus1_entry *op_next;
	struct bus1_tx *tx;
	unsigned int kind;
};

enum bus1_object_kind {
	BUS1_OBJECT_NODE,
	BUS1_OBJECT_HANDLE,
};

/* bus1_object.state bits, protected by the owner's peer lock */
#define BUS1_OBJECT_INSTALLED	BIT(0)	/* ID valid in the owner's table */
#define BUS1_OBJECT_STAGED	BIT(1)	/* collected by a RELEASE or close */

/**
 * struct bus1_object - owner-side part of nodes and handles
 * @id:		ID in the owner's table, 0 while none is assigned
 * @stage_next:	link while collected by the owner's current command
 * @kind:	enum bus1_object_kind
 * @state:	BUS1_OBJECT_* bits
 *
 * Protected by the owner's peer lock.
 */
struct bus1_object {
	u64 id;
	struct bus1_object *stage_next;
	u8 kind;
	u8 state;
};

/**
 * struct bus1_node - a receiving end
 * @obj:		owner-side state
 * @ref:		memory reference count
 * @owner:		owning peer (holds a reference), never changes
 * @lock:		protects @handles, @n_handles, @dead and every linked
 *			handle's nstate
 * @handles:		handles linked to this node (protected by @lock)
 * @n_handles:		live handles, installed or in flight (protected by @lock)
 * @dead:		the node's release has committed (protected by @lock)
 * @release_entry:	the node's HANDLE_RELEASE notification
 * @charge:		accounting charge of the node, on its owner
 */
struct bus1_node {
	struct bus1_object obj;
	struct kref ref;
	struct bus1_peer *owner;
	spinlock_t lock;
	struct list_head handles;
	u64 n_handles;
	bool dead;
	struct bus1_entry release_entry;
	struct bus1_acct_trace *charge;
};

/* bus1_handle.nstate bits, protected by handle->node->lock */
#define BUS1_HANDLE_COUNTED	BIT(0)	/* counts in node->n_handles */
#define BUS1_HANDLE_LINKED	BIT(1)	/* on node->handles */
#define BUS1_HANDLE_RELEASED	BIT(2)	/* released, retired or discarded */
#define BUS1_HANDLE_NOTIFIED	BIT(3)	/* NODE_RELEASE entry used */

/**
 * struct bus1_handle - a sending capability
 * @obj:		owner-side state
 * @ref:		memory reference count
 * @nstate:		BUS1_HANDLE_* bits (protected by @node->lock)
 * @owner:		owning peer (holds a reference), never changes
 * @node:		the node (holds a reference), never changes
 * @node_link:		link in @node->handles (protected by @node->lock)
 * @release_entry:	the handle's NODE_RELEASE notification
 * @charge:		accounting charge of the handle, on its owner
 */
struct bus1_handle {
	struct bus1_object obj;
	struct kref ref;
	u8 nstate;
	struct bus1_peer *owner;
	struct bus1_node *node;
	struct list_head node_link;
	struct bus1_entry release_entry;
	struct bus1_acct_trace *charge;
};

struct bus1_node *bus1_node_new(struct bus1_peer *owner);
struct bus1_node *bus1_node_stage(struct bus1_peer *owner,
				  struct bus1_object **list);
void bus1_node_free(struct kref *ref);

static inline struct bus1_node *bus1_node_ref(struct bus1_node *node)
{
	if (node)
		kref_get(&node->ref);
	return node;
}

static inline struct bus1_node *bus1_node_unref(struct bus1_node *node)
{
	if (node)
		kref_put(&node->ref, bus1_node_free);
	return NULL;
}

struct bus1_handle *bus1_handle_new(struct bus1_peer *owner,
				    struct bus1_node *node);
void bus1_handle_free(struct kref *ref);

static inline struct bus1_handle *bus1_handle_ref(struct bus1_handle *handle)
{
	if (handle)
		kref_get(&handle->ref);
	return handle;
}

static inline struct bus1_handle *bus1_handle_unref(struct bus1_handle *handle)
{
	if (handle)
		kref_put(&handle->ref, bus1_handle_free);
	return NULL;
}

int bus1_handle_cache_init(void);
void bus1_handle_cache_deinit(void);
struct bus1_handle *bus1_handle_stage(struct bus1_peer *owner,
				      struct bus1_node *node,
				      struct bus1_peer *claimant);
void bus1_handle_unstage(struct bus1_handle *handle);
void bus1_handle_count(struct bus1_handle *handle);
void bus1_handle_uncount(struct bus1_handle *handle);
void bus1_handle_install_link(struct bus1_handle *handle);

int bus1_cmd_transfer(struct bus1_peer *peer, unsigned long arg);
int bus1_cmd_release(struct bus1_peer *peer, unsigned long arg);

#endif /* __BUS1_NODE_H */
