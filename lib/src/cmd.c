/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command layer: open(2) of the device and the four bus1 ioctls, with
 * 0/-errno results. Nothing here keeps state.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "libbus1.h"
#include "internal.h"

/*
 * The ioctl number encodes the size of its argument; a mismatch would make
 * the kernel see an unknown command (ENOTTY) at run time.
 */
#define BUS1_CHECK_CMD(_cmd, _type) \
	_Static_assert(_IOC_SIZE(_cmd) == sizeof(_type), \
		       #_cmd " does not match sizeof(" #_type ")")

BUS1_CHECK_CMD(BUS1_CMD_TRANSFER, struct bus1_cmd_transfer);
BUS1_CHECK_CMD(BUS1_CMD_RELEASE, struct bus1_cmd_release);
BUS1_CHECK_CMD(BUS1_CMD_SEND, struct bus1_cmd_send);
BUS1_CHECK_CMD(BUS1_CMD_RECV, struct bus1_cmd_recv);

static int bus1_ioctl(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

_public_ int bus1_peer_new_at(const char *path)
{
	int fd;

	if (!path)
		return -EINVAL;

	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

_public_ int bus1_peer_new(void)
{
	const char *path = secure_getenv("BUS1_DEVICE");

	return bus1_peer_new_at(path && *path ? path : BUS1_DEVICE_PATH);
}

_public_ void bus1_peer_closep(int *peerfdp)
{
	int saved = errno;

	if (*peerfdp >= 0)
		close(*peerfdp);
	*peerfdp = -1;
	errno = saved;
}

_public_ int bus1_cmd_transfer(uint64_t flags, int from, int to, size_t n,
			       struct bus1_transfer *src,
			       struct bus1_transfer *dst)
{
	struct bus1_cmd_transfer cmd = {
		.flags = flags,
		.n_transfers = n,
		.ptr_src = BUS1_FROM_PTR(src),
		.ptr_dst = BUS1_FROM_PTR(dst),
	};

	if (to == -1)
		cmd.to = BUS1_INVALID;
	else if (to >= 0)
		cmd.to = (uint64_t)to;
	else
		return -EBADF;

	return bus1_ioctl(from, BUS1_CMD_TRANSFER, &cmd);
}

_public_ int bus1_cmd_release(int peerfd, size_t n_ids, const uint64_t *ids)
{
	struct bus1_cmd_release cmd = {
		.n_ids = n_ids,
		.ptr_ids = BUS1_FROM_PTR(ids),
	};

	return bus1_ioctl(peerfd, BUS1_CMD_RELEASE, &cmd);
}

_public_ int bus1_cmd_send(int peerfd, size_t n_destinations,
			   const uint64_t *destinations, int32_t *errors,
			   struct bus1_message *message)
{
	struct bus1_cmd_send cmd = {
		.n_destinations = n_destinations,
		.ptr_destinations = BUS1_FROM_PTR(destinations),
		.ptr_errors = BUS1_FROM_PTR(errors),
		.ptr_message = BUS1_FROM_PTR(message),
	};

	return bus1_ioctl(peerfd, BUS1_CMD_SEND, &cmd);
}

_public_ int bus1_cmd_recv(int peerfd, struct bus1_metadata *metadata,
			   struct bus1_message *message)
{
	struct bus1_cmd_recv cmd = {
		.ptr_metadata = BUS1_FROM_PTR(metadata),
		.ptr_message = BUS1_FROM_PTR(message),
	};

	return bus1_ioctl(peerfd, BUS1_CMD_RECV, &cmd);
}

_public_ int bus1_node_create(int owner, int holder, uint64_t *node_id,
			      uint64_t *handle_id)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst = { 0, BUS1_INVALID };
	int r;

	r = bus1_cmd_transfer(0, owner, holder, 1, &src, &dst);
	if (r < 0)
		return r;
	if (node_id)
		*node_id = src.id;
	if (handle_id)
		*handle_id = dst.id;
	return 0;
}

_public_ int bus1_handle_transfer(int from, int to, uint64_t handle_id,
				  uint64_t *new_handle_id)
{
	struct bus1_transfer src = { 0, handle_id };
	struct bus1_transfer dst = { 0, BUS1_INVALID };
	int r;

	r = bus1_cmd_transfer(0, from, to, 1, &src, &dst);
	if (r < 0)
		return r;
	if (new_handle_id)
		*new_handle_id = dst.id;
	return 0;
}
