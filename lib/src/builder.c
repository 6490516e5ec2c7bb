/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Outgoing messages. A builder records data segments (copied into its own
 * arena, or referenced in caller memory) and transfers (existing handles, or
 * CREATE requests). Sending turns the recipe into the iovec and transfer
 * arrays the kernel wants; the recipe itself is never modified by a send, so
 * one builder can be sent any number of times.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "libbus1.h"
#include "internal.h"

struct bus1_msg_segment {
	const void *ref;	/* caller memory, or NULL: arena data */
	size_t offset;		/* offset into the arena if !ref */
	size_t size;
};

struct bus1_msg_item {
	uint64_t flags;		/* 0 or BUS1_TRANSFER_FLAG_CREATE */
	uint64_t id;		/* handle ID, BUS1_INVALID for CREATE */
	uint64_t *node_idp;	/* where to store a created node's ID */
};

struct bus1_msg_builder {
	unsigned char *arena;
	size_t arena_size;
	size_t arena_cap;

	struct bus1_msg_segment *segs;
	size_t n_segs;
	size_t cap_segs;
	size_t n_data;

	struct bus1_msg_item *items;
	size_t n_items;
	size_t cap_items;

	/* scratch arrays reused by every send */
	struct iovec *iov;
	size_t cap_iov;
	struct bus1_transfer *transfers;
	size_t cap_transfers;
	int32_t *errors;
	size_t cap_errors;
};

_public_ int bus1_msg_builder_new(struct bus1_msg_builder **builderp)
{
	struct bus1_msg_builder *b;

	if (!builderp)
		return -EINVAL;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;

	*builderp = b;
	return 0;
}

_public_ struct bus1_msg_builder *
bus1_msg_builder_free(struct bus1_msg_builder *b)
{
	if (b) {
		free(b->errors);
		free(b->transfers);
		free(b->iov);
		free(b->items);
		free(b->segs);
		free(b->arena);
		free(b);
	}
	return NULL;
}

_public_ void bus1_msg_builder_reset(struct bus1_msg_builder *b)
{
	if (b) {
		b->arena_size = 0;
		b->n_segs = 0;
		b->n_data = 0;
		b->n_items = 0;
	}
}

static int bus1_msg_builder_reserve(struct bus1_msg_builder *b, size_t size)
{
	void *p;

	if (size > SIZE_MAX - b->n_data)
		return -EMSGSIZE;
	if (b->n_segs >= b->cap_segs) {
		p = bus1_grow(b->segs, &b->cap_segs, b->n_segs + 1,
			      sizeof(*b->segs));
		if (!p)
			return -ENOMEM;
		b->segs = p;
	}
	return 0;
}

_public_ int bus1_msg_builder_add_data(struct bus1_msg_builder *b,
				       const void *data, size_t size)
{
	struct bus1_msg_segment *last;
	void *p;
	int r;

	if (!b || (!data && size))
		return -EINVAL;
	if (!size)
		return 0;

	r = bus1_msg_builder_reserve(b, size);
	if (r < 0)
		return r;
	if (size > SIZE_MAX - b->arena_size)
		return -ENOMEM;
	if (b->arena_size + size > b->arena_cap) {
		p = bus1_grow(b->arena, &b->arena_cap, b->arena_size + size, 1);
		if (!p)
			return -ENOMEM;
		b->arena = p;
	}

	memcpy(b->arena + b->arena_size, data, size);

	/* Copies that follow each other in the arena share one iovec. */
	last = b->n_segs ? &b->segs[b->n_segs - 1] : NULL;
	if (last && !last->ref && last->offset + last->size == b->arena_size)
		last->size += size;
	else
		b->segs[b->n_segs++] = (struct bus1_msg_segment){
			.offset = b->arena_size,
			.size = size,
		};

	b->arena_size += size;
	b->n_data += size;
	return 0;
}

_public_ int bus1_msg_builder_add_data_ref(struct bus1_msg_builder *b,
					   const void *data, size_t size)
{
	struct bus1_msg_segment *last;
	int r;

	if (!b || (!data && size))
		return -EINVAL;
	if (!size)
		return 0;

	r = bus1_msg_builder_reserve(b, size);
	if (r < 0)
		return r;

	/* Adjacent references merge, too. */
	last = b->n_segs ? &b->segs[b->n_segs - 1] : NULL;
	if (last && last->ref &&
	    (const unsigned char *)last->ref + last->size == data)
		last->size += size;
	else
		b->segs[b->n_segs++] = (struct bus1_msg_segment){
			.ref = data,
			.size = size,
		};

	b->n_data += size;
	return 0;
}

static int bus1_msg_builder_add_item(struct bus1_msg_builder *b,
				     uint64_t flags, uint64_t id,
				     uint64_t *node_idp)
{
	void *p;

	if (b->n_items >= b->cap_items) {
		p = bus1_grow(b->items, &b->cap_items, b->n_items + 1,
			      sizeof(*b->items));
		if (!p)
			return -ENOMEM;
		b->items = p;
	}

	b->items[b->n_items++] = (struct bus1_msg_item){
		.flags = flags,
		.id = id,
		.node_idp = node_idp,
	};
	return 0;
}

_public_ int bus1_msg_builder_add_handle(struct bus1_msg_builder *b,
					 uint64_t handle_id)
{
	if (!b)
		return -EINVAL;
	return bus1_msg_builder_add_item(b, 0, handle_id, NULL);
}

_public_ int bus1_msg_builder_add_node(struct bus1_msg_builder *b,
				       uint64_t *node_idp)
{
	if (!b)
		return -EINVAL;
	return bus1_msg_builder_add_item(b, BUS1_TRANSFER_FLAG_CREATE,
					 BUS1_INVALID, node_idp);
}

/* Make sure every scratch array can hold what this send needs. */
static int bus1_msg_builder_prepare(struct bus1_msg_builder *b,
				    size_t n_destinations)
{
	void *p;

	if (b->n_segs > b->cap_iov) {
		p = bus1_grow(b->iov, &b->cap_iov, b->n_segs, sizeof(*b->iov));
		if (!p)
			return -ENOMEM;
		b->iov = p;
	}
	if (b->n_items > b->cap_transfers) {
		p = bus1_grow(b->transfers, &b->cap_transfers, b->n_items,
			      sizeof(*b->transfers));
		if (!p)
			return -ENOMEM;
		b->transfers = p;
	}
	if (n_destinations > b->cap_errors) {
		p = bus1_grow(b->errors, &b->cap_errors, n_destinations,
			      sizeof(*b->errors));
		if (!p)
			return -ENOMEM;
		b->errors = p;
	}
	return 0;
}

_public_ int bus1_msg_builder_send(struct bus1_msg_builder *b, int peerfd,
				   size_t n_destinations,
				   const uint64_t *destinations)
{
	struct bus1_message message;
	size_t i;
	int r;

	if (!b || (!destinations && n_destinations))
		return -EINVAL;

	r = bus1_msg_builder_prepare(b, n_destinations);
	if (r < 0)
		return r;

	for (i = 0; i < b->n_segs; ++i) {
		const struct bus1_msg_segment *s = &b->segs[i];

		b->iov[i].iov_base = (void *)(s->ref ? s->ref
						     : b->arena + s->offset);
		b->iov[i].iov_len = s->size;
	}
	for (i = 0; i < b->n_items; ++i) {
		b->transfers[i].flags = b->items[i].flags;
		b->transfers[i].id = b->items[i].id;
	}

	message = (struct bus1_message){
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_transfers = b->n_items,
		.ptr_transfers = BUS1_FROM_PTR(b->transfers),
		.n_data = b->n_data,
		.n_data_vecs = b->n_segs,
		.ptr_data_vecs = BUS1_FROM_PTR(b->iov),
	};

	r = bus1_cmd_send(peerfd, n_destinations, destinations, b->errors,
			  &message);
	if (r < 0)
		return r;

	for (i = 0; i < b->n_items; ++i)
		if ((b->items[i].flags & BUS1_TRANSFER_FLAG_CREATE) &&
		    b->items[i].node_idp)
			*b->items[i].node_idp = b->transfers[i].id;

	return 0;
}
