/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the bus1 API tests: raw ioctl wrappers returning
 * 0 or -errno, and shorthands for the common set-up steps. They call the
 * ioctls directly (not libbus1) so that the tests exercise the ABI itself.
 */
#ifndef BUS1_TEST_UTIL_H
#define BUS1_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/bus1.h>

#ifndef BUS1_DEVICE
#define BUS1_DEVICE "/dev/bus1"
#endif

static inline int t_open(void)
{
	return open(BUS1_DEVICE, O_RDWR | O_CLOEXEC);
}

static inline int t_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static inline int t_transfer(int from, uint64_t to, uint64_t n,
			     struct bus1_transfer *src,
			     struct bus1_transfer *dst)
{
	struct bus1_cmd_transfer cmd = {
		.flags = 0,
		.to = to,
		.n_transfers = n,
		.ptr_src = BUS1_FROM_PTR(src),
		.ptr_dst = BUS1_FROM_PTR(dst),
	};

	return t_ioctl(from, BUS1_CMD_TRANSFER, &cmd);
}

static inline int t_release(int fd, uint64_t n, const uint64_t *ids)
{
	struct bus1_cmd_release cmd = {
		.n_ids = n,
		.ptr_ids = BUS1_FROM_PTR(ids),
	};

	return t_ioctl(fd, BUS1_CMD_RELEASE, &cmd);
}

static inline int t_release1(int fd, uint64_t id)
{
	return t_release(fd, 1, &id);
}

/*
 * Create a node in @owner and a handle to it in @holder (@holder == -1 or
 * @holder == @owner: the owner itself). Returns 0 or -errno.
 */
static inline int t_node(int owner, int holder, uint64_t *node,
			 uint64_t *handle)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst = { 0, 0 };
	int r;

	r = t_transfer(owner, holder < 0 ? BUS1_INVALID : (uint64_t)holder,
		       1, &src, &dst);
	if (r)
		return r;
	if (node)
		*node = src.id;
	if (handle)
		*handle = dst.id;
	return 0;
}

/* Send @len bytes of @data with @n_tr transfers to @n_dst destinations. */
static inline int t_send(int fd, uint64_t n_dst, const uint64_t *dst,
			 const void *data, size_t len,
			 uint64_t n_tr, struct bus1_transfer *tr)
{
	int32_t errors[n_dst ? n_dst : 1];
	struct iovec vec = { (void *)data, len };
	struct bus1_message msg = {
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_transfers = n_tr,
		.ptr_transfers = BUS1_FROM_PTR(tr),
		.n_data = len,
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&vec),
	};
	struct bus1_cmd_send cmd = {
		.n_destinations = n_dst,
		.ptr_destinations = BUS1_FROM_PTR(dst),
		.ptr_errors = BUS1_FROM_PTR(errors),
		.ptr_message = BUS1_FROM_PTR(&msg),
	};

	return t_ioctl(fd, BUS1_CMD_SEND, &cmd);
}

static inline int t_send1(int fd, uint64_t dst, const void *data, size_t len)
{
	return t_send(fd, 1, &dst, data, len, 0, NULL);
}

/* A received entry, filled in by t_recv(). */
struct t_msg {
	struct bus1_metadata meta;
	struct bus1_message msg;
	struct bus1_transfer tr[64];
	char data[4096];
};

/* Receive into @m with full capacities; returns 0 or -errno. */
static inline int t_recv(int fd, struct t_msg *m)
{
	struct iovec vec = { m->data, sizeof(m->data) };
	struct bus1_cmd_recv cmd;

	memset(m, 0, sizeof(*m));
	m->msg.type = BUS1_INVALID;
	m->msg.n_transfers = sizeof(m->tr) / sizeof(m->tr[0]);
	m->msg.ptr_transfers = BUS1_FROM_PTR(m->tr);
	m->msg.n_data = sizeof(m->data);
	m->msg.n_data_vecs = 1;
	m->msg.ptr_data_vecs = BUS1_FROM_PTR(&vec);
	cmd = (struct bus1_cmd_recv){
		.ptr_metadata = BUS1_FROM_PTR(&m->meta),
		.ptr_message = BUS1_FROM_PTR(&m->msg),
	};
	return t_ioctl(fd, BUS1_CMD_RECV, &cmd);
}

#endif /* BUS1_TEST_UTIL_H */
