// SPDX-License-Identifier: GPL-2.0
/*
 * bus1-exercise - the "use" step of the VM's load/use/unload cycles.
 *
 * Creates every kind of object the module tracks (peers, nodes, handles,
 * messages carrying handles, both notification types), checks the results
 * a user sees, and finally closes peers that still have objects and queued
 * messages, so that unloading afterwards proves close() frees everything.
 * It is short on purpose: the cycles run it many times.
 *
 * Usage: bus1-exercise [DEVICE]   (default /dev/bus1)
 * Exit status 0 if every step behaved as specified, 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/bus1.h>

static const char *dev = "/dev/bus1";

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "bus1-exercise: %s:%d: %s failed (errno %d)\n", \
				dev, __LINE__, #cond, errno);		\
			return 1;					\
		}							\
	} while (0)

static int transfer(int from, int to, struct bus1_transfer *src,
		    struct bus1_transfer *dst)
{
	struct bus1_cmd_transfer cmd = {
		.to = to < 0 ? BUS1_INVALID : (uint64_t)to,
		.n_transfers = 1,
		.ptr_src = BUS1_FROM_PTR(src),
		.ptr_dst = BUS1_FROM_PTR(dst),
	};

	return ioctl(from, BUS1_CMD_TRANSFER, &cmd);
}

static int release(int fd, uint64_t id)
{
	struct bus1_cmd_release cmd = {
		.n_ids = 1,
		.ptr_ids = BUS1_FROM_PTR(&id),
	};

	return ioctl(fd, BUS1_CMD_RELEASE, &cmd);
}

static int send(int fd, uint64_t dest, const char *data,
		struct bus1_transfer *transfers, uint64_t n_transfers)
{
	struct iovec vec = { (void *)data, strlen(data) };
	int32_t error = -1;
	struct bus1_message msg = {
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_transfers = n_transfers,
		.ptr_transfers = BUS1_FROM_PTR(transfers),
		.n_data = vec.iov_len,
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&vec),
	};
	struct bus1_cmd_send cmd = {
		.n_destinations = 1,
		.ptr_destinations = BUS1_FROM_PTR(&dest),
		.ptr_errors = BUS1_FROM_PTR(&error),
		.ptr_message = BUS1_FROM_PTR(&msg),
	};
	int r;

	r = ioctl(fd, BUS1_CMD_SEND, &cmd);
	if (r == 0 && error != 0) {
		errno = 0;
		return -1;
	}
	return r;
}

struct received {
	struct bus1_metadata meta;
	struct bus1_message msg;
	struct bus1_transfer transfers[4];
	char data[64];
};

static int recv_one(int fd, struct received *r)
{
	struct iovec vec = { r->data, sizeof(r->data) };
	struct bus1_cmd_recv cmd = {
		.ptr_metadata = BUS1_FROM_PTR(&r->meta),
		.ptr_message = BUS1_FROM_PTR(&r->msg),
	};

	memset(r, 0, sizeof(*r));
	vec.iov_base = r->data;
	r->msg.type = BUS1_INVALID;
	r->msg.n_transfers = 4;
	r->msg.ptr_transfers = BUS1_FROM_PTR(r->transfers);
	r->msg.n_data = sizeof(r->data);
	r->msg.n_data_vecs = 1;
	r->msg.ptr_data_vecs = BUS1_FROM_PTR(&vec);
	return ioctl(fd, BUS1_CMD_RECV, &cmd);
}

int main(int argc, char **argv)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst = { 0, 0 };
	struct bus1_transfer carried = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	uint64_t a_node, b_handle, b_node, a_handle;
	struct received r;
	int a, b;

	if (argc > 1)
		dev = argv[1];

	a = open(dev, O_RDWR | O_CLOEXEC);
	CHECK(a >= 0);
	b = open(dev, O_RDWR | O_CLOEXEC);
	CHECK(b >= 0);

	/* A node in A, a handle to it in B: fresh peers both allocate ID 1. */
	CHECK(transfer(a, b, &src, &dst) == 0);
	a_node = src.id;
	b_handle = dst.id;
	CHECK(a_node == 1 && b_handle == 1);

	/* B sends to A, creating a node of its own and passing A a handle. */
	CHECK(send(b, b_handle, "ping", &carried, 1) == 0);
	b_node = carried.id;
	CHECK(b_node == 3);

	CHECK(recv_one(a, &r) == 0);
	CHECK(r.msg.type == BUS1_MESSAGE_TYPE_USER);
	CHECK(r.meta.id == a_node);
	CHECK(r.msg.n_data == 4 && memcmp(r.data, "ping", 4) == 0);
	CHECK(r.msg.n_transfers == 1);
	a_handle = r.transfers[0].id;
	CHECK(a_handle == 3);
	errno = 0;
	CHECK(recv_one(a, &r) < 0 && errno == EAGAIN);

	/* Dropping the only handle to B's node tells B. */
	CHECK(release(a, a_handle) == 0);
	CHECK(recv_one(b, &r) == 0);
	CHECK(r.msg.type == BUS1_MESSAGE_TYPE_HANDLE_RELEASE);
	CHECK(r.meta.id == b_node);

	/* Releasing A's node tells the holder of its handle. */
	CHECK(release(a, a_node) == 0);
	CHECK(recv_one(b, &r) == 0);
	CHECK(r.msg.type == BUS1_MESSAGE_TYPE_NODE_RELEASE);
	CHECK(r.meta.id == b_handle);
	errno = 0;
	CHECK(recv_one(b, &r) < 0 && errno == EAGAIN);

	/*
	 * Leave work for close(): a fresh node with a handle in B, and a
	 * queued, never received message carrying a handle.
	 */
	src = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	CHECK(transfer(a, b, &src, &dst) == 0);
	carried = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	CHECK(send(b, dst.id, "left queued", &carried, 1) == 0);

	CHECK(close(a) == 0);
	CHECK(close(b) == 0);
	return 0;
}
