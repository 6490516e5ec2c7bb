/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dispatcher: owns one peer descriptor and routes its queue to callbacks.
 *
 * Routing is by the ID in the entry's metadata. USER messages and
 * HANDLE_RELEASE name one of our nodes; NODE_RELEASE names one of our
 * handles. Node and handle IDs come from one counter per peer, so a single
 * table keyed by ID serves both; each entry remembers which kind it was
 * registered as. The table is an open-addressing hash with linear probing and
 * backward-shift deletion, so removal leaves no tombstones.
 */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include "libbus1.h"
#include "internal.h"

enum bus1_reg_kind {
	BUS1_REG_EMPTY = 0,
	BUS1_REG_NODE,
	BUS1_REG_HANDLE,
};

struct bus1_reg {
	uint64_t id;
	enum bus1_reg_kind kind;
	bus1_dispatch_fn fn;
	void *userdata;
};

struct bus1_dispatcher {
	int fd;

	struct bus1_reg *regs;	/* NULL or 2^bits slots */
	unsigned int bits;
	size_t n_regs;

	bus1_dispatch_fn fallback;
	void *fallback_userdata;

	bool dispatching;
	bool exit_requested;
	int exit_code;
};

static size_t bus1_reg_home(const struct bus1_dispatcher *d, uint64_t id)
{
	/* Fibonacci hashing; IDs are odd and mostly sequential. */
	return (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - d->bits));
}

static size_t bus1_reg_mask(const struct bus1_dispatcher *d)
{
	return ((size_t)1 << d->bits) - 1;
}

static struct bus1_reg *bus1_reg_find(const struct bus1_dispatcher *d,
				      uint64_t id)
{
	size_t i;

	if (!d->regs)
		return NULL;

	for (i = bus1_reg_home(d, id);; i = (i + 1) & bus1_reg_mask(d)) {
		if (d->regs[i].kind == BUS1_REG_EMPTY)
			return NULL;
		if (d->regs[i].id == id)
			return &d->regs[i];
	}
}

static void bus1_reg_place(struct bus1_dispatcher *d,
			   const struct bus1_reg *reg)
{
	size_t i = bus1_reg_home(d, reg->id);

	while (d->regs[i].kind != BUS1_REG_EMPTY)
		i = (i + 1) & bus1_reg_mask(d);
	d->regs[i] = *reg;
}

static int bus1_reg_add(struct bus1_dispatcher *d, uint64_t id,
			enum bus1_reg_kind kind, bus1_dispatch_fn fn,
			void *userdata)
{
	struct bus1_reg reg = { id, kind, fn, userdata };

	if (!d || !fn || id == BUS1_INVALID || !(id & BUS1_MANAGED))
		return -EINVAL;
	if (bus1_reg_find(d, id))
		return -EEXIST;

	/* Keep the load factor at or below one half. */
	if (!d->regs || (d->n_regs + 1) * 2 > ((size_t)1 << d->bits)) {
		struct bus1_reg *old = d->regs;
		size_t i, n_old = old ? (size_t)1 << d->bits : 0;
		unsigned int bits = old ? d->bits + 1 : 4;
		struct bus1_reg *regs;

		if (bits >= sizeof(size_t) * CHAR_BIT - 1)
			return -ENOMEM;
		regs = calloc((size_t)1 << bits, sizeof(*regs));
		if (!regs)
			return -ENOMEM;

		d->regs = regs;
		d->bits = bits;
		for (i = 0; i < n_old; ++i)
			if (old[i].kind != BUS1_REG_EMPTY)
				bus1_reg_place(d, &old[i]);
		free(old);
	}

	bus1_reg_place(d, &reg);
	++d->n_regs;
	return 0;
}

static void bus1_reg_remove(struct bus1_dispatcher *d, struct bus1_reg *reg)
{
	size_t mask = bus1_reg_mask(d);
	size_t i = (size_t)(reg - d->regs), j = i, k;

	/*
	 * Close the gap: move back every following entry of the probe run
	 * whose home slot does not lie cyclically in (i, j].
	 */
	for (;;) {
		j = (j + 1) & mask;
		if (d->regs[j].kind == BUS1_REG_EMPTY)
			break;
		k = bus1_reg_home(d, d->regs[j].id);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		d->regs[i] = d->regs[j];
		i = j;
	}

	d->regs[i] = (struct bus1_reg){ .kind = BUS1_REG_EMPTY };
	--d->n_regs;
}

_public_ int bus1_dispatcher_new(struct bus1_dispatcher **dp, int peerfd)
{
	struct bus1_dispatcher *d;

	if (!dp)
		return -EINVAL;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;

	if (peerfd < 0) {
		peerfd = bus1_peer_new();
		if (peerfd < 0) {
			free(d);
			return peerfd;
		}
	}

	d->fd = peerfd;
	*dp = d;
	return 0;
}

_public_ struct bus1_dispatcher *bus1_dispatcher_free(struct bus1_dispatcher *d)
{
	if (d) {
		bus1_peer_closep(&d->fd);
		free(d->regs);
		free(d);
	}
	return NULL;
}

_public_ int bus1_dispatcher_get_fd(const struct bus1_dispatcher *d)
{
	return d ? d->fd : -EINVAL;
}

_public_ int bus1_dispatcher_add_node(struct bus1_dispatcher *d,
				      uint64_t node_id, bus1_dispatch_fn fn,
				      void *userdata)
{
	return bus1_reg_add(d, node_id, BUS1_REG_NODE, fn, userdata);
}

_public_ int bus1_dispatcher_add_handle(struct bus1_dispatcher *d,
					uint64_t handle_id,
					bus1_dispatch_fn fn, void *userdata)
{
	return bus1_reg_add(d, handle_id, BUS1_REG_HANDLE, fn, userdata);
}

_public_ int bus1_dispatcher_remove(struct bus1_dispatcher *d, uint64_t id)
{
	struct bus1_reg *reg;

	if (!d)
		return -EINVAL;

	reg = bus1_reg_find(d, id);
	if (!reg)
		return -ENOENT;

	bus1_reg_remove(d, reg);
	return 0;
}

_public_ void bus1_dispatcher_set_fallback(struct bus1_dispatcher *d,
					   bus1_dispatch_fn fn, void *userdata)
{
	if (d) {
		d->fallback = fn;
		d->fallback_userdata = fn ? userdata : NULL;
	}
}

static int bus1_dispatcher_route(struct bus1_dispatcher *d,
				 struct bus1_msg *msg)
{
	uint64_t type = bus1_msg_get_type(msg);
	enum bus1_reg_kind kind;
	bus1_dispatch_fn fn = d->fallback;
	void *userdata = d->fallback_userdata;
	struct bus1_reg *reg;

	switch (type) {
	case BUS1_MESSAGE_TYPE_USER:
	case BUS1_MESSAGE_TYPE_HANDLE_RELEASE:
		kind = BUS1_REG_NODE;
		break;
	case BUS1_MESSAGE_TYPE_NODE_RELEASE:
		kind = BUS1_REG_HANDLE;
		break;
	default:
		kind = BUS1_REG_EMPTY;
		break;
	}

	reg = kind != BUS1_REG_EMPTY ? bus1_reg_find(d, bus1_msg_get_id(msg))
				     : NULL;
	if (reg && reg->kind == kind) {
		fn = reg->fn;
		userdata = reg->userdata;
		/*
		 * Receiving a notification retired the ID it names; nothing
		 * can arrive for it any more.
		 */
		if (type != BUS1_MESSAGE_TYPE_USER)
			bus1_reg_remove(d, reg);
	}

	return fn ? fn(d, msg, userdata) : 0;
}

/*
 * Receive and route until the queue is empty. Inside bus1_dispatcher_run()
 * (@stop_on_exit) also stop after a callback asked to exit, leaving the rest
 * queued.
 */
static int bus1_dispatcher_drain(struct bus1_dispatcher *d, bool stop_on_exit)
{
	struct bus1_msg *msg;
	int r, n = 0;

	if (d->dispatching)
		return -EBUSY;

	d->dispatching = true;
	for (;;) {
		r = bus1_msg_recv(d->fd, &msg);
		if (r == -EAGAIN) {
			r = 0;
			break;
		}
		if (r < 0)
			break;

		r = bus1_dispatcher_route(d, msg);
		bus1_msg_free(msg);
		if (r < 0)
			break;
		if (n < INT_MAX)
			++n;
		if (stop_on_exit && d->exit_requested)
			break;
	}
	d->dispatching = false;

	return r < 0 ? r : n;
}

_public_ int bus1_dispatcher_dispatch(struct bus1_dispatcher *d)
{
	if (!d)
		return -EINVAL;
	return bus1_dispatcher_drain(d, false);
}

_public_ int bus1_dispatcher_run(struct bus1_dispatcher *d)
{
	struct pollfd pfd;
	int r;

	if (!d)
		return -EINVAL;
	if (d->dispatching)
		return -EBUSY;

	for (;;) {
		r = bus1_dispatcher_drain(d, true);
		if (r < 0)
			return r;
		if (d->exit_requested) {
			d->exit_requested = false;
			return d->exit_code;
		}

		pfd = (struct pollfd){ .fd = d->fd, .events = POLLIN };
		r = poll(&pfd, 1, -1);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && (pfd.revents & POLLNVAL))
			return -EBADF;
		if (r > 0 && (pfd.revents & (POLLERR | POLLHUP)))
			return -EIO;
	}
}

_public_ void bus1_dispatcher_exit(struct bus1_dispatcher *d, int code)
{
	if (d) {
		d->exit_requested = true;
		d->exit_code = code;
	}
}
