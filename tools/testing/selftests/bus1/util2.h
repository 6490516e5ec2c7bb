/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the SEND, notification, close, ordering, stall and stress
 * tests: a SEND builder with canaries, guard-page memory for EFAULT cases,
 * receive helpers, multi-process plumbing (pipes, waiting for children),
 * object counters from debugfs and loading a second module instance.
 *
 * Include after kselftest_harness.h: the ASSERT-based macros below expect a
 * test context (_metadata).
 */
#ifndef BUS1_TEST_UTIL2_H
#define BUS1_TEST_UTIL2_H

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include "bus1-util.h"

#define T_CANARY32 ((int32_t)0x5a5a5a5a)
#define T_CANARY64 ((uint64_t)0xa5a5a5a5a5a5a5a5ULL)
#define T_MAX_DST 16

/* ---- memory ------------------------------------------------------------ */

static inline size_t t_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* MAX_RW_COUNT of the kernel: INT_MAX rounded down to a page. */
static inline uint64_t t_max_rw(void)
{
	return (uint64_t)INT_MAX & ~(uint64_t)(t_page() - 1);
}

/* @pages fresh anonymous pages with protection @prot, or NULL. */
static inline void *t_map(size_t pages, int prot)
{
	void *p = mmap(NULL, pages * t_page(), prot,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A valid user address whose page cannot be read or written. */
static inline void *t_hole(void)
{
	return t_map(1, PROT_NONE);
}

/*
 * 4 GiB of reserved, inaccessible address space: a valid user range for
 * iovecs of up to 2^32 bytes whose bytes can never be read.
 */
static inline void *t_big_hole(void)
{
	void *p = mmap(NULL, 1ULL << 32, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* @size writable bytes directly followed by an inaccessible page. */
static inline void *t_tail(size_t size)
{
	size_t ps = t_page(), n = (size + ps - 1) / ps;
	char *p = t_map(n + 1, PROT_READ | PROT_WRITE);

	if (!p || mprotect(p + n * ps, ps, PROT_NONE))
		return NULL;
	return p + n * ps - size;
}

/* A page holding a copy of @len bytes of @src, then made read-only. */
static inline void *t_rdonly(const void *src, size_t len)
{
	void *p = t_map(1, PROT_READ | PROT_WRITE);

	if (!p)
		return NULL;
	memcpy(p, src, len);
	if (mprotect(p, t_page(), PROT_READ))
		return NULL;
	return p;
}

/* ---- SEND builder ------------------------------------------------------- */

/*
 * One SEND with every array embedded. The pointers refer into the struct
 * itself: prepare it in place with t_send_prep() and do not copy it.
 * errors[] is filled with canaries, so an untouched array is observable.
 */
struct t_send {
	struct bus1_cmd_send cmd;
	struct bus1_message msg;
	struct iovec vec[4];
	struct bus1_transfer tr[8];
	uint64_t dst[T_MAX_DST];
	int32_t errors[T_MAX_DST + 1];
};

static inline void t_send_prep(struct t_send *s, size_t n_dst,
			       const uint64_t *dst, const void *data,
			       size_t len)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n_dst && i < T_MAX_DST; i++)
		s->dst[i] = dst[i];
	for (i = 0; i < T_MAX_DST + 1; i++)
		s->errors[i] = T_CANARY32;
	s->vec[0].iov_base = (void *)data;
	s->vec[0].iov_len = len;
	s->msg.type = BUS1_MESSAGE_TYPE_USER;
	s->msg.n_data = len;
	s->msg.n_data_vecs = 1;
	s->msg.ptr_data_vecs = BUS1_FROM_PTR(s->vec);
	s->msg.ptr_transfers = BUS1_FROM_PTR(s->tr);
	s->cmd.n_destinations = n_dst;
	s->cmd.ptr_destinations = BUS1_FROM_PTR(s->dst);
	s->cmd.ptr_errors = BUS1_FROM_PTR(s->errors);
	s->cmd.ptr_message = BUS1_FROM_PTR(&s->msg);
}

/* Append a transfer element (a handle ID, or a CREATE request). */
static inline void t_send_handle(struct t_send *s, uint64_t id)
{
	s->tr[s->msg.n_transfers].flags = 0;
	s->tr[s->msg.n_transfers].id = id;
	s->msg.n_transfers++;
}

static inline void t_send_create(struct t_send *s)
{
	s->tr[s->msg.n_transfers].flags = BUS1_TRANSFER_FLAG_CREATE;
	s->tr[s->msg.n_transfers].id = BUS1_INVALID;
	s->msg.n_transfers++;
}

static inline int t_send_do(int fd, struct t_send *s)
{
	return t_ioctl(fd, BUS1_CMD_SEND, &s->cmd);
}

/* True if no element of errors[] was written. */
static inline bool t_errors_untouched(const struct t_send *s)
{
	size_t i;

	for (i = 0; i < T_MAX_DST + 1; i++)
		if (s->errors[i] != T_CANARY32)
			return false;
	return true;
}

/* Unicast of @len bytes carrying one handle @h. */
static inline int t_send_with(int fd, uint64_t dst, const void *data,
			      size_t len, uint64_t h)
{
	struct bus1_transfer tr = { 0, h };

	return t_send(fd, 1, &dst, data, len, 1, &tr);
}

/* ---- RECV helpers ------------------------------------------------------- */

/* Microseconds of CLOCK_MONOTONIC. */
static inline uint64_t t_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* RECV into a throw-away buffer; returns 0 or -errno. */
static inline int t_recv_any(int fd)
{
	struct t_msg m;

	return t_recv(fd, &m);
}

/*
 * RECV, waiting in poll() for at most @ms when the queue is empty. A poll
 * that times out ends the wait with -ETIMEDOUT even if an entry is there by
 * then: every commit must wake the receiver (§3.5), so a missed wake-up
 * fails instead of passing late.
 */
static inline int t_recv_wait(int fd, struct t_msg *m, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t end = t_now_us() + (uint64_t)ms * 1000, now;
	int r;

	for (;;) {
		r = t_recv(fd, m);
		if (r != -EAGAIN)
			return r;
		now = t_now_us();
		if (now >= end)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((end - now + 999) / 1000));
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* The queue of @fd is empty. */
#define ASSERT_EMPTY(fd) ASSERT_EQ(-EAGAIN, t_recv_any(fd))
#define EXPECT_EMPTY(fd) EXPECT_EQ(-EAGAIN, t_recv_any(fd))

/* The next entry of @fd is notification @type_ for ID @id_. */
#define ASSERT_NOTIFY(fd, type_, id_) do {				\
	struct t_msg __n;						\
	ASSERT_EQ(0, t_recv((fd), &__n));				\
	ASSERT_EQ((uint64_t)(type_), __n.msg.type);			\
	ASSERT_EQ((uint64_t)(id_), __n.meta.id);			\
	ASSERT_EQ(0, __n.meta.flags);					\
	ASSERT_EQ(BUS1_INVALID, __n.meta.account);			\
	ASSERT_EQ(0, __n.msg.flags);					\
	ASSERT_EQ(0, __n.msg.n_transfers);				\
	ASSERT_EQ(0, __n.msg.n_data);					\
} while (0)

#define ASSERT_NODE_RELEASE(fd, id) \
	ASSERT_NOTIFY(fd, BUS1_MESSAGE_TYPE_NODE_RELEASE, id)
#define ASSERT_HANDLE_RELEASE(fd, id) \
	ASSERT_NOTIFY(fd, BUS1_MESSAGE_TYPE_HANDLE_RELEASE, id)

/* The next entry of @fd is a user message on @node_ with these bytes. */
#define ASSERT_USER(fd, m, node_, data_, len_) do {			\
	ASSERT_EQ(0, t_recv((fd), (m)));				\
	ASSERT_EQ(BUS1_MESSAGE_TYPE_USER, (m)->msg.type);		\
	ASSERT_EQ((uint64_t)(node_), (m)->meta.id);			\
	ASSERT_EQ(0, (m)->meta.flags);					\
	ASSERT_EQ((uint64_t)geteuid(), (m)->meta.account);		\
	ASSERT_EQ((uint64_t)(len_), (m)->msg.n_data);			\
	ASSERT_EQ(0, memcmp((m)->data, (data_), (len_)));		\
} while (0)

/* Open a peer, asserting success. */
#define ASSERT_OPEN(fd) ASSERT_LE(0, (fd) = t_open())

/* ---- processes and pipes ------------------------------------------------ */

static inline pid_t t_fork(void)
{
	fflush(stdout);
	fflush(stderr);
	return fork();
}

/* Leave a forked child with the test's verdict (ASSERT failures abort). */
#define T_CHILD_EXIT() _exit(_metadata->exit_code ? 1 : 0)

/* Wait for @pid: its exit code, or 128 + the signal that killed it. */
static inline int t_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

static inline int t_write_u64(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -EIO;
}

/* Read one u64 from @fd within @ms; -ETIMEDOUT, -EPIPE on EOF. */
static inline int t_read_u64(int fd, uint64_t *v, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	do {
		r = poll(&p, 1, ms);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	n = read(fd, v, sizeof(*v));
	if (n == 0)
		return -EPIPE;
	return n == sizeof(*v) ? 0 : -EIO;
}


static inline int t_raise_nofile(rlim_t n)
{
	struct rlimit rl = { n, n };

	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

/* xorshift64*: a small deterministic generator both ends can replay. */
static inline uint64_t t_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* ---- module state ------------------------------------------------------- */

/* Read a module parameter of @mod as an unsigned number; 0 if unreadable. */
static inline uint64_t t_module_param(const char *mod, const char *name)
{
	char path[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod,
		 name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/*
 * Sum of the live-object counters of module @mod (debugfs "objects"),
 * polling for up to @ms until it drops to zero (frees may be deferred).
 * Returns the last sum seen, or -1 if the counters cannot be read.
 */
static inline long long t_live_objects(const char *mod, int ms)
{
	char path[256], name[64];
	long long sum = -1, v;
	uint64_t end = t_now_us() + (uint64_t)ms * 1000;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/objects", mod);
	if (access(path, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	for (;;) {
		f = fopen(path, "re");
		if (!f)
			return -1;
		sum = 0;
		while (fscanf(f, "%63s %lld", name, &v) == 2)
			sum += v;
		fclose(f);
		if (sum == 0 || t_now_us() >= end)
			return sum;
		usleep(10000);
	}
}

/* Open /dev/@name, creating the node from sysfs if devtmpfs lacks it. */
static inline int t_open_dev(const char *name)
{
	char path[128];
	unsigned int maj, min;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	snprintf(path, sizeof(path), "/sys/class/misc/%s/dev", name);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	if (fscanf(f, "%u:%u", &maj, &min) != 2) {
		fclose(f);
		return -ENOENT;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/dev/%s", name);
	if (mknod(path, S_IFCHR | 0666, makedev(maj, min)) && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Unload module @name, retrying while deferred closes drop references. */
static inline int t_unload(const char *name)
{
	int i, r = 0;

	for (i = 0; i < 200; i++) {
		r = syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
		if (r != -EAGAIN && r != -EBUSY)
			return r;
		usleep(10000);
	}
	return r;
}

/* Load the module file @path with @params; an old copy is unloaded first. */
static inline int t_load(const char *path, const char *name,
			 const char *params)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	if (r == -EEXIST && !t_unload(name))
		r = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return r;
}

#endif /* BUS1_TEST_UTIL2_H */
