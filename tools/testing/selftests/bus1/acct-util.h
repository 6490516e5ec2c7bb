/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the accounting tests (acct_test.c).
 *
 * The tests run on the second module instance, bus1x, loaded with the
 * limits each test needs, so that no other peer holds charges there.
 *
 * Peers of other UIDs live in "agents": child processes that switch to
 * their UID, open their own peer and then run the commands the test sends
 * them over a socket, replying with every result. The test process itself
 * stays root (UID 0), holds peers of UID 0 and makes all assertions. A peer
 * opened by the test before an agent is spawned can be kept by the agent
 * (inherited across fork), which is how an agent names such a peer as
 * TRANSFER `to`, or issues a command of that peer.
 */
#ifndef BUS1_ACCT_UTIL_H
#define BUS1_ACCT_UTIL_H

/* bus1-util.h's t_open() must open the test instance */
#ifdef BUS1_TEST_UTIL_H
#error "include acct-util.h before bus1-util.h"
#endif
#define BUS1_DEVICE "/dev/bus1x"

#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include "bus1-util.h"

#define AU_NAME "bus1x"
#define AU_KO "/modules/bus1x.ko"
#define AU_DEV BUS1_DEVICE
#define AU_ACCT "/sys/kernel/debug/bus1x/acct"
#define AU_OBJECTS "/sys/kernel/debug/bus1x/objects"
#define AU_PARAMS "/sys/module/bus1x/parameters/"

#define AU_CANARY32 ((int32_t)0x5a5a5a5a)
#define AU_CANARY64 ((uint64_t)0xa5a5a5a5a5a5a5a5ULL)

static inline void au_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- the module instance ------------------------------------------------ */

static inline bool au_loaded(void)
{
	return access("/sys/module/" AU_NAME, F_OK) == 0;
}

/*
 * Unload bus1x if it is loaded. The last close of a peer in a process that
 * is just exiting may still hold the module for a moment, so a busy module
 * is retried for up to 3 s. Returns 0 or -errno.
 */
static inline int au_unload(void)
{
	int i, r = 0;

	for (i = 0; i < 300; i++) {
		if (!syscall(SYS_delete_module, AU_NAME, O_NONBLOCK))
			return 0;
		r = -errno;
		if (r == -ENOENT)
			return 0;
		if (r != -EAGAIN && r != -EBUSY)
			return r;
		au_sleep_ms(10);
	}
	return r;
}

/*
 * Wait until AU_DEV is the device node of the loaded instance. devtmpfs
 * creates it asynchronously; a node left by someone else with another
 * device number is replaced.
 */
static inline int au_wait_node(void)
{
	unsigned int maj, min;
	struct stat st;
	FILE *f;
	int i, n;

	f = fopen("/sys/class/misc/" AU_NAME "/dev", "re");
	if (!f)
		return -ENODEV;
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	if (n != 2)
		return -ENODEV;

	for (i = 0; i < 200; i++) {
		if (!stat(AU_DEV, &st) && S_ISCHR(st.st_mode) &&
		    st.st_rdev == makedev(maj, min))
			return 0;
		au_sleep_ms(10);
	}
	unlink(AU_DEV);
	if (mknod(AU_DEV, S_IFCHR | 0666, makedev(maj, min)))
		return -errno;
	return chmod(AU_DEV, 0666) ? -errno : 0;
}

/* Load a fresh bus1x with module parameters @params. 0 or -errno. */
static inline int au_load(const char *params)
{
	int fd, r;

	r = au_unload();
	if (r)
		return r;
	fd = open(AU_KO, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return r ? r : au_wait_node();
}

/* ---- debugfs and sysfs -------------------------------------------------- */

/* Read all of @path into @buf (NUL-terminated). Length or -errno. */
static inline ssize_t au_read(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = 0;
	return len;
}

/*
 * The live-object counters, as the text of the debugfs file. Comparing two
 * snapshots shows whether anything was created or left behind.
 */
struct au_objects {
	char text[1024];
};

static inline int au_objects(struct au_objects *o)
{
	ssize_t n = au_read(AU_OBJECTS, o->text, sizeof(o->text));

	return n < 0 ? (int)n : 0;
}

/* Counter @name in @o, or -1 if it is missing. */
static inline long au_counter(const struct au_objects *o, const char *name)
{
	const char *p = o->text;
	char key[64];
	long v;
	int len;

	while (*p) {
		if (sscanf(p, "%63s %ld%n", key, &v, &len) == 2 &&
		    !strcmp(key, name))
			return v;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return -1;
}

/* Every counter reads 0 (and there is at least one counter). */
static inline bool au_objects_zero(const struct au_objects *o)
{
	const char *p = o->text;
	int lines = 0;
	char key[64];
	long v;

	while (*p) {
		if (sscanf(p, "%63s %ld", key, &v) != 2 || v != 0)
			return false;
		lines++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return lines > 0;
}

/* The accounting dump; 0 or -errno. */
static inline int au_acct(char *buf, size_t size)
{
	ssize_t n = au_read(AU_ACCT, buf, size);

	return n < 0 ? (int)n : 0;
}

/*
 * Parse the dump line by line. Lines are
 *   "user <uid> available <objects> <bytes>",
 *   "  quota <claimant uid> claimed <o> <b> available <o> <b>" and
 *   "    trace <actor> claimed <o> <b>".
 */

/* Whether the dump lists user @uid. */
static inline bool au_acct_has_user(const char *dump, unsigned int uid)
{
	const char *p = dump;
	unsigned int u;

	while (p && *p) {
		if (sscanf(p, "user %u ", &u) == 1 && u == uid)
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* Number of users in the dump. */
static inline unsigned int au_acct_n_users(const char *dump)
{
	const char *p = dump;
	unsigned int u, n = 0;

	while (p && *p) {
		if (sscanf(p, "user %u ", &u) == 1)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* User @uid's available amount of slot @slot (0 objects, 1 bytes), or -1. */
static inline long long au_acct_available(const char *dump, unsigned int uid,
					  unsigned int slot)
{
	unsigned long long o, b;
	const char *p = dump;
	unsigned int u;

	while (p && *p) {
		if (sscanf(p, "user %u available %llu %llu", &u, &o, &b) == 3 &&
		    u == uid)
			return slot ? (long long)b : (long long)o;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/*
 * The claimant UIDs of user @uid's quotas, as a bit mask over @claimants
 * (bit i set: claimants[i] has a quota). Bit 31 is set for a quota of any
 * other claimant.
 */
static inline unsigned int au_acct_quotas(const char *dump, unsigned int uid,
					  const unsigned int *claimants,
					  unsigned int n)
{
	const char *p = dump;
	unsigned int u, c, i, mask = 0;
	bool in = false;

	while (p && *p) {
		if (sscanf(p, "user %u ", &u) == 1) {
			in = u == uid;
		} else if (in && sscanf(p, " quota %u ", &c) == 1) {
			for (i = 0; i < n; i++)
				if (claimants[i] == c)
					break;
			mask |= i < n ? 1U << i : 1U << 31;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return mask;
}

/*
 * Wait (up to 2 s, for closes still finishing in exiting processes) until
 * the accounting dump is empty and every object counter is 0. 0 when idle;
 * otherwise -errno of a missing file or 1, with the two files in @buf.
 */
static inline int au_wait_idle(char *buf, size_t size)
{
	struct au_objects o;
	int i, r;

	for (i = 0; i < 200; i++) {
		r = au_acct(buf, size);
		if (r)
			return r;
		r = au_objects(&o);
		if (r)
			return r;
		if (!buf[0] && au_objects_zero(&o))
			return 0;
		au_sleep_ms(10);
	}
	snprintf(buf + strlen(buf), size - strlen(buf), "objects:\n%s",
		 o.text);
	return 1;
}

/* The value of module parameter @name of bus1x, or -errno. */
static inline long long au_param(const char *name)
{
	char path[128], buf[64];
	ssize_t n;

	snprintf(path, sizeof(path), AU_PARAMS "%s", name);
	n = au_read(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	return strtoll(buf, NULL, 10);
}

/* ---- commands, run here or in an agent ---------------------------------- */

#define AU_MAX 64
#define AU_DATA 4096

enum {
	AU_OPEN = 1,	/* open a peer: rep.fd */
	AU_CLOSE,	/* close req.fd */
	AU_TRANSFER,	/* TRANSFER of req.n elements from req.fd to req.to */
	AU_SEND,	/* SEND from req.fd */
	AU_RECV,	/* RECV on req.fd */
	AU_RELEASE,	/* RELEASE of req.ids[0..n) on req.fd */
	AU_EXIT,	/* close everything and exit (agents only) */
};

/*
 * One command. TRANSFER: element i is CREATE if ids[i] is BUS1_INVALID,
 * else the handle ids[i]; to < 0 means the caller itself. SEND: n_data
 * bytes of au_pattern() to dst[0..n_dst), carrying transfers like TRANSFER
 * elements. The command is repeated up to @repeat times (0 counts as 1)
 * while it succeeds.
 */
struct au_req {
	uint32_t op;
	int32_t fd;
	int32_t to;
	uint32_t n;
	uint32_t n_dst;
	uint32_t repeat;
	uint64_t n_data;
	uint64_t ids[AU_MAX];
	uint64_t dst[AU_MAX];
};

/*
 * The outcome. r is 0 or -errno of the last attempt; done counts the
 * successful attempts. The arrays are what the (last) command left in its
 * user memory: src/dst of TRANSFER, transfers (src) and errors of SEND,
 * metadata, message, transfers (src) and payload of RECV. Arrays the
 * kernel does not write keep the canaries they were filled with.
 */
struct au_rep {
	int32_t r;
	int32_t fd;
	int32_t fd_pinned;
	uint32_t euid;
	uint64_t done;
	uint64_t src[AU_MAX];
	uint64_t src_flags[AU_MAX];
	uint64_t dst[AU_MAX];
	int32_t errors[AU_MAX];
	struct bus1_metadata meta;
	struct bus1_message msg;
	uint8_t data[AU_DATA];
};

static inline uint8_t au_pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static inline bool au_data_ok(const uint8_t *data, uint64_t len)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (data[i] != au_pattern(i))
			return false;
	return true;
}

static inline void au_fill_transfers(struct bus1_transfer *tr,
				     const uint64_t *ids, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (ids[i] == BUS1_INVALID)
			tr[i] = (struct bus1_transfer){
				BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID
			};
		else
			tr[i] = (struct bus1_transfer){ 0, ids[i] };
	}
}

static inline int au_exec_one(const struct au_req *q, struct au_rep *p)
{
	static uint8_t data[AU_DATA];
	struct bus1_transfer src[AU_MAX], dst[AU_MAX];
	struct iovec vec;
	uint32_t i, n = q->n < AU_MAX ? q->n : AU_MAX;
	int r;

	switch (q->op) {
	case AU_OPEN:
		r = open(AU_DEV, O_RDWR | O_CLOEXEC);
		if (r < 0)
			return -errno;
		p->fd = r;
		return 0;
	case AU_CLOSE:
		return close(q->fd) ? -errno : 0;
	case AU_TRANSFER:
		au_fill_transfers(src, q->ids, n);
		for (i = 0; i < n; i++)
			dst[i] = (struct bus1_transfer){ AU_CANARY64,
							 AU_CANARY64 };
		r = t_transfer(q->fd, q->to < 0 ? BUS1_INVALID :
			       (uint64_t)q->to, n, src, dst);
		for (i = 0; i < n; i++) {
			p->src_flags[i] = src[i].flags;
			p->src[i] = src[i].id;
			p->dst[i] = dst[i].id;
		}
		return r;
	case AU_SEND: {
		uint32_t nd = q->n_dst < AU_MAX ? q->n_dst : AU_MAX;
		struct bus1_message msg = {
			.type = BUS1_MESSAGE_TYPE_USER,
			.n_transfers = n,
			.ptr_transfers = BUS1_FROM_PTR(src),
			.n_data = q->n_data,
			.n_data_vecs = 1,
			.ptr_data_vecs = BUS1_FROM_PTR(&vec),
		};
		struct bus1_cmd_send cmd = {
			.n_destinations = nd,
			.ptr_destinations = BUS1_FROM_PTR(q->dst),
			.ptr_errors = BUS1_FROM_PTR(p->errors),
			.ptr_message = BUS1_FROM_PTR(&msg),
		};

		if (q->n_data > AU_DATA)
			return -E2BIG;
		for (i = 0; i < q->n_data; i++)
			data[i] = au_pattern(i);
		vec = (struct iovec){ data, q->n_data };
		au_fill_transfers(src, q->ids, n);
		for (i = 0; i < AU_MAX; i++)
			p->errors[i] = AU_CANARY32;
		r = t_ioctl(q->fd, BUS1_CMD_SEND, &cmd);
		for (i = 0; i < n; i++) {
			p->src_flags[i] = src[i].flags;
			p->src[i] = src[i].id;
		}
		return r;
	}
	case AU_RECV: {
		struct bus1_cmd_recv cmd = {
			.ptr_metadata = BUS1_FROM_PTR(&p->meta),
			.ptr_message = BUS1_FROM_PTR(&p->msg),
		};

		vec = (struct iovec){ p->data, sizeof(p->data) };
		for (i = 0; i < AU_MAX; i++)
			src[i] = (struct bus1_transfer){ AU_CANARY64,
							 AU_CANARY64 };
		memset(&p->meta, 0, sizeof(p->meta));
		p->msg = (struct bus1_message){
			.type = BUS1_INVALID,
			.n_transfers = AU_MAX,
			.ptr_transfers = BUS1_FROM_PTR(src),
			.n_data = sizeof(p->data),
			.n_data_vecs = 1,
			.ptr_data_vecs = BUS1_FROM_PTR(&vec),
		};
		r = t_ioctl(q->fd, BUS1_CMD_RECV, &cmd);
		for (i = 0; i < AU_MAX; i++)
			p->src[i] = src[i].id;
		return r;
	}
	case AU_RELEASE:
		return t_release(q->fd, n, q->ids);
	}
	return -ENOSYS;
}

/* Run @q here, in this process. */
static inline void au_exec(const struct au_req *q, struct au_rep *p)
{
	uint32_t i, repeat = q->repeat ? q->repeat : 1;
	int r = 0;

	p->done = 0;
	for (i = 0; i < repeat; i++) {
		r = au_exec_one(q, p);
		if (r)
			break;
		p->done++;
	}
	p->r = r;
}

/* ---- agents ------------------------------------------------------------- */

/*
 * An agent: a child process running as @uid (also its GID) with its own
 * peer @fd, opened after the switch. With a pinned peer, @fd_pinned was
 * opened before the switch, with the credentials of the test (UID 0).
 */
struct au_agent {
	pid_t pid;
	int sock;
	int fd;
	int fd_pinned;
	uid_t uid;
};

static inline void au_agent_serve(int sock)
{
	static struct au_req q;
	static struct au_rep p;
	ssize_t n;

	for (;;) {
		n = recv(sock, &q, sizeof(q), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(q))
			_exit(n == 0 ? 0 : 3);
		memset(&p, 0, sizeof(p));
		if (q.op == AU_EXIT) {
			/* peers close with the process, before the reply */
			for (n = 3; n < 1024; n++)
				if (n != sock)
					close(n);
			p.r = 0;
		} else {
			au_exec(&q, &p);
		}
		if (send(sock, &p, sizeof(p), MSG_NOSIGNAL) != sizeof(p))
			_exit(4);
		if (q.op == AU_EXIT)
			_exit(0);
	}
}

/*
 * Start an agent running as @uid. It keeps the @n_keep descriptors @keep
 * (peers of the test, same numbers) and closes every other inherited one.
 * With @pinned it first opens a peer as root, then switches. 0 or -errno.
 */
static inline int au_spawn(struct au_agent *ag, uid_t uid, const int *keep,
			   unsigned int n_keep, bool pinned)
{
	struct au_rep p;
	pid_t parent = getpid();
	unsigned int i;
	int sv[2], fd;
	ssize_t n;

	memset(ag, 0, sizeof(*ag));
	ag->fd = -1;
	ag->fd_pinned = -1;
	ag->uid = uid;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;

	fflush(stdout);
	fflush(stderr);
	ag->pid = fork();
	if (ag->pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!ag->pid) {
		memset(&p, 0, sizeof(p));
		p.fd = -1;
		p.fd_pinned = -1;
		for (fd = 3; fd < 1024; fd++) {
			for (i = 0; i < n_keep; i++)
				if (keep[i] == fd)
					break;
			if (fd != sv[1] && i == n_keep)
				close(fd);
		}
		if (pinned) {
			p.fd_pinned = open(AU_DEV, O_RDWR | O_CLOEXEC);
			if (p.fd_pinned < 0)
				p.r = -errno;
		}
		if (!p.r && (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
			     setresuid(uid, uid, uid)))
			p.r = -errno;
		/* a credential change clears it, so set it afterwards */
		if (!p.r && prctl(PR_SET_PDEATHSIG, SIGKILL))
			p.r = -errno;
		if (getppid() != parent)
			_exit(5);
		if (!p.r) {
			p.fd = open(AU_DEV, O_RDWR | O_CLOEXEC);
			if (p.fd < 0)
				p.r = -errno;
		}
		p.euid = geteuid();
		if (send(sv[1], &p, sizeof(p), MSG_NOSIGNAL) != sizeof(p))
			_exit(6);
		if (p.r)
			_exit(7);
		au_agent_serve(sv[1]);
		_exit(0);
	}

	close(sv[1]);
	ag->sock = sv[0];
	n = recv(ag->sock, &p, sizeof(p), 0);
	if (n != sizeof(p) || p.r || p.euid != uid) {
		kill(ag->pid, SIGKILL);
		waitpid(ag->pid, NULL, 0);
		close(ag->sock);
		ag->pid = 0;
		return n != sizeof(p) ? -EPIPE : p.r ? p.r : -EPERM;
	}
	ag->fd = p.fd;
	ag->fd_pinned = p.fd_pinned;
	return 0;
}

/*
 * Run @q in agent @ag (here if @ag is NULL) and return rep->r. A broken
 * connection gives -EPIPE, which no bus1 command returns.
 */
static inline int au_call(struct au_agent *ag, const struct au_req *q,
			  struct au_rep *p)
{
	memset(p, 0, sizeof(*p));
	if (!ag) {
		au_exec(q, p);
		return p->r;
	}
	if (send(ag->sock, q, sizeof(*q), MSG_NOSIGNAL) != sizeof(*q) ||
	    recv(ag->sock, p, sizeof(*p), 0) != sizeof(*p)) {
		p->r = -EPIPE;
		p->done = 0;
	}
	return p->r;
}

/* Stop @ag: it closes its peers and exits. Its exit status, or -1. */
static inline int au_stop(struct au_agent *ag)
{
	struct au_req q = { .op = AU_EXIT };
	struct au_rep *p;
	int st, r;

	if (ag->pid <= 0)
		return -1;
	p = malloc(sizeof(*p));
	if (!p || au_call(ag, &q, p))
		kill(ag->pid, SIGKILL);
	free(p);
	close(ag->sock);
	r = waitpid(ag->pid, &st, 0) == ag->pid && WIFEXITED(st) ?
		WEXITSTATUS(st) : -1;
	ag->pid = 0;
	return r;
}

/* ---- shorthands (run in @ag, or here if @ag is NULL) --------------------- */

/*
 * TRANSFER of @n CREATE elements from @from to @to (-1: @from itself).
 * Returns the result; @p holds the written IDs.
 */
static inline int au_create(struct au_agent *ag, int from, int to, uint32_t n,
			    struct au_rep *p)
{
	struct au_req q = { .op = AU_TRANSFER, .fd = from, .to = to, .n = n };
	uint32_t i;

	for (i = 0; i < n && i < AU_MAX; i++)
		q.ids[i] = BUS1_INVALID;
	return au_call(ag, &q, p);
}

/*
 * Single-element CREATE TRANSFERs from @fd to itself, repeated until one
 * fails (at most @max). Returns the number that succeeded; *@r is the
 * result of the last attempt.
 */
static inline long au_create_until(struct au_agent *ag, int fd, uint32_t max,
				   int *r)
{
	struct au_req q = { .op = AU_TRANSFER, .fd = fd, .to = -1, .n = 1,
			    .repeat = max, .ids = { BUS1_INVALID } };
	struct au_rep *p = malloc(sizeof(*p));
	long done;

	*r = -ENOMEM;
	if (!p)
		return -1;
	*r = au_call(ag, &q, p);
	done = p->done;
	free(p);
	return done;
}

/*
 * Nodes without handles, one per SEND (a CREATE transfer, no destination,
 * so exactly one object each), until one fails (at most @max). Returns the
 * number created; *@r is the result of the last attempt.
 */
static inline long au_nodes_until(struct au_agent *ag, int fd, uint32_t max,
				  int *r)
{
	struct au_req q = { .op = AU_SEND, .fd = fd, .n = 1, .repeat = max,
			    .ids = { BUS1_INVALID } };
	struct au_rep *p = malloc(sizeof(*p));
	long done;

	*r = -ENOMEM;
	if (!p)
		return -1;
	*r = au_call(ag, &q, p);
	done = p->done;
	free(p);
	return done;
}

/* Unicast of @n_data pattern bytes from @fd through handle @dst. */
static inline int au_send(struct au_agent *ag, int fd, uint64_t dst,
			  uint64_t n_data)
{
	struct au_req q = { .op = AU_SEND, .fd = fd, .n_dst = 1,
			    .n_data = n_data, .dst = { dst } };
	struct au_rep *p = malloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = au_call(ag, &q, p);
	free(p);
	return r;
}

/*
 * Unicasts of @n_data bytes through @dst until one fails (at most @max).
 * Returns how many succeeded; *@r is the result of the last attempt.
 */
static inline long au_send_until(struct au_agent *ag, int fd, uint64_t dst,
				 uint64_t n_data, uint32_t max, int *r)
{
	struct au_req q = { .op = AU_SEND, .fd = fd, .n_dst = 1,
			    .n_data = n_data, .repeat = max, .dst = { dst } };
	struct au_rep *p = malloc(sizeof(*p));
	long done;

	*r = -ENOMEM;
	if (!p)
		return -1;
	*r = au_call(ag, &q, p);
	done = p->done;
	free(p);
	return done;
}

static inline int au_recv(struct au_agent *ag, int fd, struct au_rep *p)
{
	struct au_req q = { .op = AU_RECV, .fd = fd };

	return au_call(ag, &q, p);
}

/*
 * RECV up to @max entries, stopping early at EAGAIN. Returns the number of
 * user messages received, or -1 if a RECV failed otherwise or delivered
 * anything but a user message of @n_data bytes from UID @account.
 */
static inline long au_drain_user(struct au_agent *ag, int fd, uint64_t n_data,
				 uint64_t account, long max)
{
	struct au_rep *p = malloc(sizeof(*p));
	long n = 0;
	int r = 0;

	if (!p)
		return -1;
	while (n < max && !(r = au_recv(ag, fd, p))) {
		if (p->msg.type != BUS1_MESSAGE_TYPE_USER ||
		    p->msg.n_data != n_data || p->meta.account != account) {
			n = -1;
			break;
		}
		n++;
	}
	if (n >= 0 && r && r != -EAGAIN)
		n = -1;
	free(p);
	return n;
}

static inline int au_release(struct au_agent *ag, int fd, uint32_t n,
			     const uint64_t *ids)
{
	struct au_req q = { .op = AU_RELEASE, .fd = fd, .n = n };
	struct au_rep *p = malloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	memcpy(q.ids, ids, (n < AU_MAX ? n : AU_MAX) * sizeof(*ids));
	r = au_call(ag, &q, p);
	free(p);
	return r;
}

/* Open another peer in @ag (here if NULL); *@fd is its descriptor there. */
static inline int au_open(struct au_agent *ag, int *fd)
{
	struct au_req q = { .op = AU_OPEN };
	struct au_rep *p = malloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = au_call(ag, &q, p);
	*fd = r ? -1 : p->fd;
	free(p);
	return r;
}

static inline int au_close(struct au_agent *ag, int fd)
{
	struct au_req q = { .op = AU_CLOSE, .fd = fd };
	struct au_rep *p = malloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = au_call(ag, &q, p);
	free(p);
	return r;
}

/*
 * In agent @ag: TRANSFER one CREATE element from @from (a peer the agent
 * kept from the test) to the agent's own peer, then close the agent's copy
 * of @from. *@node is the node's ID in @from, *@handle the handle's ID in
 * the agent's peer.
 */
static inline int au_grant(struct au_agent *ag, int from, uint64_t *node,
			   uint64_t *handle)
{
	struct au_rep *p = malloc(sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = au_create(ag, from, ag->fd, 1, p);
	*node = p->src[0];
	*handle = p->dst[0];
	free(p);
	return r ? r : au_close(ag, from);
}

#endif /* BUS1_ACCT_UTIL_H */
