/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared pieces of the libbus1 tests that run against the real module.
 * Every test opens its peers with bus1_peer_new(), so the whole suite can be
 * pointed at another instance with BUS1_DEVICE=/dev/bus1x.
 */
#ifndef LIBBUS1_TEST_H
#define LIBBUS1_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <libbus1.h>
#include "kselftest_harness.h"

/* Three fresh peers per test. */
FIXTURE(peers) {
	int a;
	int b;
	int c;
};

FIXTURE_SETUP(peers)
{
	self->a = bus1_peer_new();
	self->b = bus1_peer_new();
	self->c = bus1_peer_new();
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->b);
	ASSERT_LE(0, self->c);
}

FIXTURE_TEARDOWN(peers)
{
	bus1_peer_closep(&self->a);
	bus1_peer_closep(&self->b);
	bus1_peer_closep(&self->c);
}

/* Send @size bytes from @data to one destination through the command layer. */
static inline int t_send(int fd, uint64_t dest, const void *data, size_t size,
			 size_t n_transfers, struct bus1_transfer *transfers)
{
	struct iovec iov = { (void *)data, size };
	int32_t err = -1;
	struct bus1_message m = {
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_transfers = n_transfers,
		.ptr_transfers = BUS1_FROM_PTR(transfers),
		.n_data = size,
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&iov),
	};
	int r;

	r = bus1_cmd_send(fd, 1, &dest, &err, &m);
	if (r == 0 && err != 0)
		return -EPROTO;
	return r;
}

/* Send a string (without its NUL) through the object layer. */
static inline int t_send_str(int fd, uint64_t dest, const char *s)
{
	struct bus1_msg_builder *b;
	int r;

	r = bus1_msg_builder_new(&b);
	if (r < 0)
		return r;
	r = bus1_msg_builder_add_data(b, s, strlen(s));
	if (r == 0)
		r = bus1_msg_builder_send(b, fd, 1, &dest);
	bus1_msg_builder_free(b);
	return r;
}

/* Is anything receivable on @fd right now? */
static inline bool t_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Is @id a live handle of @fd? (TRANSFER from it succeeds.) */
static inline bool t_is_handle(int fd, uint64_t id)
{
	uint64_t copy;

	if (bus1_handle_transfer(fd, -1, id, &copy) < 0)
		return false;
	bus1_cmd_release(fd, 1, &copy);
	return true;
}

#endif /* LIBBUS1_TEST_H */
