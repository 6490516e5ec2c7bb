/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Received messages. bus1_msg_recv() returns one queue entry as an object the
 * caller owns: payload, handle IDs and metadata in a single allocation sized
 * exactly for the entry.
 *
 * Small entries are received into a buffer on the stack and copied; an entry
 * that does not fit makes the kernel fail with EMSGSIZE and report the sizes
 * it needs, and the entry is then received straight into an allocation of
 * that size.
 *
 * The handles a message carries are installed in the peer when it is
 * received. The message owns them until they are taken with
 * bus1_msg_take_handle(); bus1_msg_free() releases the rest, so ignoring a
 * message never leaks capabilities.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "libbus1.h"
#include "internal.h"

#define BUS1_MSG_STACK_DATA 2048
#define BUS1_MSG_STACK_TRANSFERS 8

struct bus1_msg {
	int peerfd;
	uint64_t type;
	uint64_t id;
	uint64_t account;
	size_t n_handles;
	unsigned char *data;	/* followed by a NUL byte */
	size_t n_data;

	/*
	 * The transfer array as the kernel wrote it (storage[i].id is
	 * BUS1_INVALID once taken), followed by n_data + 1 bytes of data.
	 */
	struct bus1_transfer storage[];
};

static struct bus1_msg *bus1_msg_alloc(uint64_t n_transfers, uint64_t n_data)
{
	const size_t tsize = sizeof(struct bus1_transfer);
	struct bus1_msg *msg;
	size_t size;

	if (n_transfers > (SIZE_MAX - sizeof(*msg)) / tsize)
		return NULL;
	size = sizeof(*msg) + (size_t)n_transfers * tsize;
	if (n_data >= SIZE_MAX - size)
		return NULL;
	size += (size_t)n_data + 1;

	msg = malloc(size);
	if (!msg)
		return NULL;

	*msg = (struct bus1_msg){
		.peerfd = -1,
		.type = BUS1_INVALID,
		.id = BUS1_INVALID,
		.account = BUS1_INVALID,
		.n_handles = n_transfers,
		.data = (unsigned char *)(msg->storage + n_transfers),
		.n_data = n_data,
	};
	return msg;
}

_public_ int bus1_msg_recv(int peerfd, struct bus1_msg **msgp)
{
	unsigned char stack_data[BUS1_MSG_STACK_DATA];
	struct bus1_transfer stack_transfers[BUS1_MSG_STACK_TRANSFERS];
	struct bus1_transfer *transfers = stack_transfers;
	void *data = stack_data;
	size_t cap_transfers = BUS1_ARRAY_SIZE(stack_transfers);
	size_t cap_data = sizeof(stack_data);
	struct bus1_msg *msg = NULL;
	struct bus1_metadata meta;
	struct bus1_message m;
	struct iovec iov;
	int r;

	if (!msgp)
		return -EINVAL;

	for (;;) {
		iov = (struct iovec){ .iov_base = data, .iov_len = cap_data };
		m = (struct bus1_message){
			.type = BUS1_INVALID,
			.n_transfers = cap_transfers,
			.ptr_transfers = BUS1_FROM_PTR(transfers),
			.n_data = cap_data,
			.n_data_vecs = 1,
			.ptr_data_vecs = BUS1_FROM_PTR(&iov),
		};

		r = bus1_cmd_recv(peerfd, &meta, &m);
		if (r != -EMSGSIZE)
			break;

		/*
		 * The entry at the head needs more room; the kernel wrote
		 * back what it needs. Receive it into an exact allocation.
		 * (If the entry becomes stale before the retry, the next one
		 * may need yet another size; the loop handles that too.) A
		 * requirement we already meet would make this loop forever:
		 * report it instead.
		 */
		if (m.n_transfers <= cap_transfers && m.n_data <= cap_data) {
			free(msg);
			return -EMSGSIZE;
		}
		free(msg);
		msg = bus1_msg_alloc(m.n_transfers, m.n_data);
		if (!msg)
			return -ENOMEM;
		transfers = msg->storage;
		data = msg->data;
		cap_transfers = msg->n_handles;
		cap_data = msg->n_data;
	}

	if (r < 0) {
		free(msg);
		return r;
	}

	if (!msg) {
		msg = bus1_msg_alloc(m.n_transfers, m.n_data);
		if (!msg) {
			/*
			 * The entry is consumed and its handles installed;
			 * do not leak them.
			 */
			size_t i;

			for (i = 0; i < m.n_transfers; ++i)
				bus1_cmd_release(peerfd, 1, (const uint64_t *)
						 &stack_transfers[i].id);
			return -ENOMEM;
		}
		memcpy(msg->storage, stack_transfers,
		       m.n_transfers * sizeof(*stack_transfers));
		memcpy(msg->data, stack_data, m.n_data);
	}

	msg->peerfd = peerfd;
	msg->type = m.type;
	msg->id = meta.id;
	msg->account = meta.account;
	msg->n_data = m.n_data;
	msg->n_handles = m.n_transfers;
	msg->data[m.n_data] = 0;

	*msgp = msg;
	return 0;
}

_public_ struct bus1_msg *bus1_msg_free(struct bus1_msg *msg)
{
	unsigned char *ids;
	size_t i, n = 0;
	int saved, r;

	if (!msg)
		return NULL;

	saved = errno;

	/*
	 * Pack the IDs of the handles nobody took into a plain __u64 array
	 * (in place: the packed array never overtakes the element read).
	 */
	ids = (unsigned char *)msg->storage;
	for (i = 0; i < msg->n_handles; ++i)
		if (msg->storage[i].id != BUS1_INVALID)
			memmove(ids + 8 * n++, &msg->storage[i].id, 8);

	/*
	 * One transaction for all of them; if the caller released one of
	 * them behind our back the whole call is refused, so fall back to
	 * releasing them one by one.
	 */
	if (n > 0) {
		r = bus1_cmd_release(msg->peerfd, n, (const uint64_t *)ids);
		if (r == -EBADRQC)
			for (i = 0; i < n; ++i)
				bus1_cmd_release(msg->peerfd, 1,
						 (const uint64_t *)(ids + 8 * i));
	}

	free(msg);
	errno = saved;
	return NULL;
}

_public_ uint64_t bus1_msg_get_type(const struct bus1_msg *msg)
{
	return msg ? msg->type : BUS1_INVALID;
}

_public_ uint64_t bus1_msg_get_id(const struct bus1_msg *msg)
{
	return msg ? msg->id : BUS1_INVALID;
}

_public_ uint64_t bus1_msg_get_account(const struct bus1_msg *msg)
{
	return msg ? msg->account : BUS1_INVALID;
}

_public_ const void *bus1_msg_get_data(const struct bus1_msg *msg,
				       size_t *sizep)
{
	if (sizep)
		*sizep = msg ? msg->n_data : 0;
	return msg ? msg->data : NULL;
}

_public_ size_t bus1_msg_get_n_handles(const struct bus1_msg *msg)
{
	return msg ? msg->n_handles : 0;
}

_public_ uint64_t bus1_msg_get_handle(const struct bus1_msg *msg, size_t index)
{
	if (!msg || index >= msg->n_handles)
		return BUS1_INVALID;
	return msg->storage[index].id;
}

_public_ uint64_t bus1_msg_take_handle(struct bus1_msg *msg, size_t index)
{
	uint64_t id;

	if (!msg || index >= msg->n_handles)
		return BUS1_INVALID;

	id = msg->storage[index].id;
	msg->storage[index].id = BUS1_INVALID;
	return id;
}

_public_ bool bus1_msg_is_node_release(const struct bus1_msg *msg,
				       uint64_t *handle_idp)
{
	if (!msg || msg->type != BUS1_MESSAGE_TYPE_NODE_RELEASE)
		return false;
	if (handle_idp)
		*handle_idp = msg->id;
	return true;
}

_public_ bool bus1_msg_is_handle_release(const struct bus1_msg *msg,
					 uint64_t *node_idp)
{
	if (!msg || msg->type != BUS1_MESSAGE_TYPE_HANDLE_RELEASE)
		return false;
	if (node_idp)
		*node_idp = msg->id;
	return true;
}
