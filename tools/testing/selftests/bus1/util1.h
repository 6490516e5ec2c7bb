/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the ABI, device, ID, TRANSFER, RELEASE and RECV tests: guarded
 * memory to provoke exact faults, receive set-ups with chosen capacities,
 * poll shorthands, and loading of the second module instance (bus1x).
 */
#ifndef BUS1_TEST_UTIL1_H
#define BUS1_TEST_UTIL1_H

#include <poll.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include "bus1-util.h"

#define U_ARRAY_SIZE(_a) (sizeof(_a) / sizeof((_a)[0]))

static inline size_t u_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Map @len readable and writable bytes that end exactly where an
 * inaccessible page begins: any access past the returned range faults.
 * Returns NULL on failure.
 */
static inline void *u_map_before_hole(size_t len)
{
	size_t pg = u_page(), span = (len + pg - 1) / pg * pg;
	char *base;

	if (!span)
		span = pg;
	base = mmap(NULL, span + pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	if (mprotect(base + span, pg, PROT_NONE))
		return NULL;
	return base + span - len;
}

/* One inaccessible page. Returns NULL on failure. */
static inline void *u_map_hole(void)
{
	void *p = mmap(NULL, u_page(), PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A read-only page holding a copy of @len bytes of @src. */
static inline void *u_map_readonly(const void *src, size_t len)
{
	void *p = mmap(NULL, u_page(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (len)
		memcpy(p, src, len);
	if (mprotect(p, u_page(), PROT_READ))
		return NULL;
	return p;
}

/*
 * Addresses that are never user memory: the start of the x86-64 direct map,
 * the kernel text, and the last 8 bytes of the address space (an array of
 * two 8-byte or larger elements there wraps around).
 */
#define U_KPTR_DIRECT 0xffff888000000000ULL
#define U_KPTR_TEXT 0xffffffff81000000ULL
#define U_PTR_WRAP (~0ULL - 7)

/* A receive request with caller-chosen capacities. */
struct u_rx {
	struct bus1_metadata meta;
	struct bus1_message msg;
	struct bus1_cmd_recv cmd;
};

static inline void u_rx_init(struct u_rx *rx, struct bus1_transfer *tr,
			     uint64_t n_tr, struct iovec *vecs, uint64_t n_vecs,
			     uint64_t n_data)
{
	memset(rx, 0, sizeof(*rx));
	rx->msg.type = BUS1_INVALID;
	rx->msg.n_transfers = n_tr;
	rx->msg.ptr_transfers = BUS1_FROM_PTR(tr);
	rx->msg.n_data = n_data;
	rx->msg.n_data_vecs = n_vecs;
	rx->msg.ptr_data_vecs = BUS1_FROM_PTR(vecs);
	rx->cmd.ptr_metadata = BUS1_FROM_PTR(&rx->meta);
	rx->cmd.ptr_message = BUS1_FROM_PTR(&rx->msg);
}

static inline int u_rx(int fd, struct u_rx *rx)
{
	return t_ioctl(fd, BUS1_CMD_RECV, &rx->cmd);
}

/*
 * RECV again with the same buffers: a delivery or an EMSGSIZE overwrote the
 * type, which RECV requires to be BUS1_INVALID on input.
 */
static inline int u_rx_again(int fd, struct u_rx *rx)
{
	rx->msg.type = BUS1_INVALID;
	return u_rx(fd, rx);
}

/* SEND of a prepared message; @errors may be NULL when @n_dst is 0. */
static inline int u_send_msg(int fd, uint64_t n_dst, const uint64_t *dst,
			     const struct bus1_message *msg, int32_t *errors)
{
	struct bus1_cmd_send cmd = {
		.n_destinations = n_dst,
		.ptr_destinations = BUS1_FROM_PTR(dst),
		.ptr_errors = BUS1_FROM_PTR(errors),
		.ptr_message = BUS1_FROM_PTR(msg),
	};

	return t_ioctl(fd, BUS1_CMD_SEND, &cmd);
}

/* Unicast @len bytes carrying @n_tr transfers through handle @dst. */
static inline int u_send_tr(int fd, uint64_t dst, const void *data,
			    size_t len, uint64_t n_tr, struct bus1_transfer *tr)
{
	return t_send(fd, 1, &dst, data, len, n_tr, tr);
}

/* Number of entries RECV delivers until EAGAIN; -1 on any other result. */
static inline int u_drain(int fd)
{
	struct t_msg m;
	int n = 0, r;

	while (!(r = t_recv(fd, &m)))
		n++;
	return r == -EAGAIN ? n : -1;
}

/* The events poll(2) reports right now (timeout 0), or -errno. */
static inline int u_revents(int fd)
{
	struct pollfd p = {
		.fd = fd,
		.events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM |
			  POLLPRI | POLLRDBAND | POLLWRBAND,
	};
	int r = poll(&p, 1, 0);

	if (r < 0)
		return -errno;
	return r ? p.revents : 0;
}

static inline void u_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Wait for @pid; its exit code, or 128 + signal, or -1. */
static inline int u_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/*
 * The second instance: the same sources built as "bus1x". Tests that need
 * it load it themselves and unload it when done; loading first unloads a
 * leftover instance (e.g. from a failed earlier test).
 */
#define U_BUS1X_NAME "bus1x"
#define U_BUS1X_KO "/modules/bus1x.ko"
#define U_BUS1X_DEV "/dev/bus1x"

static inline bool u_bus1x_loaded(void)
{
	return access("/sys/module/" U_BUS1X_NAME, F_OK) == 0;
}

/* delete_module(2) without waiting; 0 or -errno. */
static inline int u_bus1x_unload(void)
{
	return syscall(SYS_delete_module, U_BUS1X_NAME, O_NONBLOCK) ? -errno : 0;
}

/*
 * Unload, retrying briefly: the last close of a peer in another process
 * may still be finishing when this runs.
 */
static inline int u_bus1x_unload_settled(void)
{
	int i, r = 0;

	for (i = 0; i < 100; i++) {
		if (!u_bus1x_loaded())
			return 0;
		r = u_bus1x_unload();
		if (!r || r == -ENOENT)
			return 0;
		u_sleep_ms(20);
	}
	return r;
}

/*
 * Make sure /dev/bus1x is the node of the instance just loaded: devtmpfs
 * creates it asynchronously; if it does not show up (or a stale node with
 * another minor is in the way), create it from the misc class attribute.
 */
static inline int u_bus1x_wait_node(void)
{
	unsigned int maj = 0, min = 0;
	bool known = false;
	struct stat st;
	FILE *f;
	int i;

	f = fopen("/sys/class/misc/" U_BUS1X_NAME "/dev", "re");
	if (f) {
		known = fscanf(f, "%u:%u", &maj, &min) == 2;
		fclose(f);
	}
	for (i = 0; i < 100; i++) {
		if (!stat(U_BUS1X_DEV, &st) && S_ISCHR(st.st_mode) &&
		    (!known || st.st_rdev == makedev(maj, min)))
			return 0;
		u_sleep_ms(10);
	}
	if (!known)
		return -ENODEV;
	unlink(U_BUS1X_DEV);
	if (mknod(U_BUS1X_DEV, S_IFCHR | 0666, makedev(maj, min)))
		return -errno;
	return chmod(U_BUS1X_DEV, 0666) ? -errno : 0;
}

/* Load a fresh bus1x with module parameters @params; 0 or -errno. */
static inline int u_bus1x_load(const char *params)
{
	int fd, r;

	r = u_bus1x_unload_settled();
	if (r)
		return r;
	fd = open(U_BUS1X_KO, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params ? params : "", 0) ? -errno : 0;
	close(fd);
	if (r)
		return r;
	return u_bus1x_wait_node();
}

#endif /* BUS1_TEST_UTIL1_H */
