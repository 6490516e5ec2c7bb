/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LIBBUS1_H
#define LIBBUS1_H

/*
 * libbus1 - user-space library for bus1 services
 *
 * Two layers:
 *
 *  - The command layer (bus1_peer_new(), bus1_cmd_*()) is a thin, typed
 *    wrapper around open(2) and the four ioctls of bus1(7). Every function
 *    returns a non-negative value on success and a negative errno value on
 *    failure; errno itself is left alone.
 *
 *  - The object layer: struct bus1_msg_builder assembles outgoing messages
 *    from buffers and handles, struct bus1_msg is a received message owned
 *    by the caller, struct bus1_dispatcher routes the queue of a peer to
 *    per-node and per-handle callbacks.
 *
 * Thread safety: the command layer keeps no state and may be called from any
 * thread; the kernel serialises all commands on one peer. Objects of the
 * object layer are not locked internally: one object must not be used by two
 * threads at the same time, different objects may. The const accessors of a
 * struct bus1_msg may run concurrently with each other.
 *
 * Conventions: constructors take an output pointer and return 0 or a negative
 * errno value; destructors accept NULL and return NULL; IDs are uint64_t and
 * BUS1_INVALID means "none". See libbus1(3).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bus1.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default device; bus1_peer_new() honours the BUS1_DEVICE environment variable. */
#define BUS1_DEVICE_PATH "/dev/bus1"

/* ---- command layer ------------------------------------------------------ */

int bus1_peer_new(void);
int bus1_peer_new_at(const char *path);
void bus1_peer_closep(int *peerfdp);

int bus1_cmd_transfer(uint64_t flags, int from, int to, size_t n,
		      struct bus1_transfer *src, struct bus1_transfer *dst);
int bus1_cmd_release(int peerfd, size_t n_ids, const uint64_t *ids);
int bus1_cmd_send(int peerfd, size_t n_destinations,
		  const uint64_t *destinations, int32_t *errors,
		  struct bus1_message *message);
int bus1_cmd_recv(int peerfd, struct bus1_metadata *metadata,
		  struct bus1_message *message);

/* Shorthands for one-element TRANSFERs. */
int bus1_node_create(int owner, int holder, uint64_t *node_id,
		     uint64_t *handle_id);
int bus1_handle_transfer(int from, int to, uint64_t handle_id,
			 uint64_t *new_handle_id);

/* ---- outgoing messages -------------------------------------------------- */

/*
 * A recipe: data segments (copied, or referenced until the send) and
 * transfers (handles to pass on; nodes to create, whose IDs are stored in
 * *node_idp by each successful send). Sending does not change the recipe.
 */
struct bus1_msg_builder;

int bus1_msg_builder_new(struct bus1_msg_builder **builderp);
struct bus1_msg_builder *bus1_msg_builder_free(struct bus1_msg_builder *builder);
void bus1_msg_builder_reset(struct bus1_msg_builder *builder);
int bus1_msg_builder_add_data(struct bus1_msg_builder *builder,
			      const void *data, size_t size);
int bus1_msg_builder_add_data_ref(struct bus1_msg_builder *builder,
				  const void *data, size_t size);
int bus1_msg_builder_add_handle(struct bus1_msg_builder *builder,
				uint64_t handle_id);
int bus1_msg_builder_add_node(struct bus1_msg_builder *builder,
			      uint64_t *node_idp);
int bus1_msg_builder_send(struct bus1_msg_builder *builder, int peerfd,
			  size_t n_destinations, const uint64_t *destinations);

/* ---- received messages -------------------------------------------------- */

/*
 * One received entry, in buffers sized for it. The handles it carries are
 * installed in the peer and belong to the message: bus1_msg_free() releases
 * all that were not taken with bus1_msg_take_handle(), so the peer
 * descriptor must stay open until then. The data is followed by a NUL byte.
 */
struct bus1_msg;

int bus1_msg_recv(int peerfd, struct bus1_msg **msgp);
struct bus1_msg *bus1_msg_free(struct bus1_msg *msg);

uint64_t bus1_msg_get_type(const struct bus1_msg *msg);
uint64_t bus1_msg_get_id(const struct bus1_msg *msg);
uint64_t bus1_msg_get_account(const struct bus1_msg *msg);
const void *bus1_msg_get_data(const struct bus1_msg *msg, size_t *sizep);
size_t bus1_msg_get_n_handles(const struct bus1_msg *msg);
uint64_t bus1_msg_get_handle(const struct bus1_msg *msg, size_t index);
uint64_t bus1_msg_take_handle(struct bus1_msg *msg, size_t index);
bool bus1_msg_is_node_release(const struct bus1_msg *msg, uint64_t *handle_idp);
bool bus1_msg_is_handle_release(const struct bus1_msg *msg, uint64_t *node_idp);

/* ---- dispatcher --------------------------------------------------------- */

/*
 * Owns one peer descriptor (pollable: POLLIN when entries are queued) and
 * routes its queue: USER and HANDLE_RELEASE to the callback of the node
 * named in the metadata, NODE_RELEASE to that of the handle; the rest to the
 * fallback, or dropped. bus1_dispatcher_dispatch() never blocks and drains
 * the queue; bus1_dispatcher_run() is a poll loop that returns the code
 * given to bus1_dispatcher_exit().
 */
struct bus1_dispatcher;

/*
 * Callback for one queue entry. @msg is borrowed: it is freed (releasing
 * every handle not taken with bus1_msg_take_handle()) when the callback
 * returns. A negative return value stops dispatching and is passed on.
 */
typedef int (*bus1_dispatch_fn)(struct bus1_dispatcher *dispatcher,
				struct bus1_msg *msg, void *userdata);

int bus1_dispatcher_new(struct bus1_dispatcher **dispatcherp, int peerfd);
struct bus1_dispatcher *bus1_dispatcher_free(struct bus1_dispatcher *dispatcher);
int bus1_dispatcher_get_fd(const struct bus1_dispatcher *dispatcher);
int bus1_dispatcher_add_node(struct bus1_dispatcher *dispatcher,
			     uint64_t node_id, bus1_dispatch_fn fn,
			     void *userdata);
int bus1_dispatcher_add_handle(struct bus1_dispatcher *dispatcher,
			       uint64_t handle_id, bus1_dispatch_fn fn,
			       void *userdata);
int bus1_dispatcher_remove(struct bus1_dispatcher *dispatcher, uint64_t id);
void bus1_dispatcher_set_fallback(struct bus1_dispatcher *dispatcher,
				  bus1_dispatch_fn fn, void *userdata);
int bus1_dispatcher_dispatch(struct bus1_dispatcher *dispatcher);
int bus1_dispatcher_run(struct bus1_dispatcher *dispatcher);
void bus1_dispatcher_exit(struct bus1_dispatcher *dispatcher, int code);

/* ---- scope-based cleanup (GCC and Clang) -------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
static inline void bus1_msg_freep(struct bus1_msg **msgp)
{
	bus1_msg_free(*msgp);
}

static inline void bus1_msg_builder_freep(struct bus1_msg_builder **builderp)
{
	bus1_msg_builder_free(*builderp);
}

static inline void bus1_dispatcher_freep(struct bus1_dispatcher **dispatcherp)
{
	bus1_dispatcher_free(*dispatcherp);
}

#define _cleanup_bus1_msg_ __attribute__((__cleanup__(bus1_msg_freep)))
#define _cleanup_bus1_msg_builder_ __attribute__((__cleanup__(bus1_msg_builder_freep)))
#define _cleanup_bus1_dispatcher_ __attribute__((__cleanup__(bus1_dispatcher_freep)))
#define _cleanup_bus1_peer_ __attribute__((__cleanup__(bus1_peer_closep)))
#endif

#ifdef __cplusplus
}
#endif

#endif /* LIBBUS1_H */
