// SPDX-License-Identifier: GPL-2.0
/*
 * Scenarios of the bus1 fault-injection sweep and the model they are
 * checked against.
 *
 * Every scenario builds a small world of peers, nodes and handles (the
 * set-up, never injected), then issues exactly one call under test. The
 * engine repeats this with the Nth allocation of the call failing, for N =
 * 1, 2, ... After the call the scenario checks what user space can see: a
 * failed call must have changed nothing (IDs it wrote name nothing, no
 * entry is queued anywhere, every node still has exactly the handles the
 * model says, proven by releasing them and receiving exactly one
 * HANDLE_RELEASE per node); a successful one must have had its whole
 * effect.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fault.h"

/* never valid as an ID (even), recognisable in dumps */
#define SENTINEL_ID	0xdead0000beef0000ULL
#define SENTINEL_FLAGS	0x5a5a5a5a5a5a5a5aULL
#define SENTINEL_ERR	0x5a5a5a5a
#define SENTINEL_BYTE	0xee

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131 + 17);
}

/* ---- raw commands ---------------------------------------------------- */

static int b1_transfer(int fd, uint64_t to, struct bus1_transfer *src,
		       struct bus1_transfer *dst, uint64_t n)
{
	struct bus1_cmd_transfer cmd = {
		.to = to,
		.n_transfers = n,
		.ptr_src = BUS1_FROM_PTR(src),
		.ptr_dst = BUS1_FROM_PTR(dst),
	};

	return ioctl(fd, BUS1_CMD_TRANSFER, &cmd) ? -errno : 0;
}

static int b1_release(int fd, const uint64_t *ids, uint64_t n)
{
	struct bus1_cmd_release cmd = {
		.n_ids = n,
		.ptr_ids = BUS1_FROM_PTR(ids),
	};

	return ioctl(fd, BUS1_CMD_RELEASE, &cmd) ? -errno : 0;
}

static int b1_send(int fd, const uint64_t *dests, uint64_t n,
		   int32_t *errors, struct bus1_message *msg)
{
	struct bus1_cmd_send cmd = {
		.n_destinations = n,
		.ptr_destinations = BUS1_FROM_PTR(dests),
		.ptr_errors = BUS1_FROM_PTR(errors),
		.ptr_message = BUS1_FROM_PTR(msg),
	};

	return ioctl(fd, BUS1_CMD_SEND, &cmd) ? -errno : 0;
}

static int b1_recv_raw(int fd, struct bus1_metadata *meta,
		       struct bus1_message *msg)
{
	struct bus1_cmd_recv cmd = {
		.ptr_metadata = BUS1_FROM_PTR(meta),
		.ptr_message = BUS1_FROM_PTR(msg),
	};

	return ioctl(fd, BUS1_CMD_RECV, &cmd) ? -errno : 0;
}

/* RECV with room for everything; the result lands in *m */
static int b1_recv(int fd, struct rmsg *m)
{
	static struct bus1_transfer tr[MAXT];
	struct bus1_metadata meta = {};
	struct bus1_message msg = {
		.type = BUS1_INVALID,
		.n_transfers = MAXT,
		.ptr_transfers = BUS1_FROM_PTR(tr),
		.n_data = MAXDATA,
		.n_data_vecs = 1,
	};
	struct iovec iov = { m->data, MAXDATA };
	uint64_t i;
	int r;

	msg.ptr_data_vecs = BUS1_FROM_PTR(&iov);
	r = b1_recv_raw(fd, &meta, &msg);
	if (r)
		return r;
	m->type = msg.type;
	m->id = meta.id;
	m->account = meta.account;
	m->n_transfers = msg.n_transfers;
	m->n_data = msg.n_data;
	for (i = 0; i < msg.n_transfers && i < MAXT; ++i)
		m->ids[i] = tr[i].id;
	return 0;
}

/* ---- peers opened under another UID ---------------------------------- */

struct open_report {
	int ok;
	int err;
	unsigned int left;
};

/*
 * Open the device in a child whose effective UID is @uid (the peer pins
 * the opener's credentials, so its accounting user is that UID's) and hand
 * the file back over a socket. With @nth, the open runs with the Nth
 * allocation failing; *@reached tells whether that happened.
 */
static int open_as(uid_t uid, unsigned int nth, bool *reached, int *errp)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct open_report rep = {};
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int sv[2], status, fd = -1;
	pid_t pid;

	*errp = EIO;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		char num[32];
		ssize_t n;
		int fn;

		close(sv[0]);
		/* opened as root: the file stays usable after setresuid() */
		fn = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
		if (fn < 0 || setresuid(uid, uid, uid))
			_exit(3);
		if (nth) {
			snprintf(num, sizeof(num), "%u", nth);
			if (pwrite(fn, num, strlen(num), 0) < 0)
				_exit(4);
		}
		fd = open(dev_path, O_RDWR | O_CLOEXEC);
		rep.ok = fd >= 0;
		rep.err = fd >= 0 ? 0 : errno;
		n = pread(fn, num, sizeof(num) - 1, 0);
		if (n <= 0 || pwrite(fn, "0", 1, 0) != 1)
			_exit(5);
		num[n] = 0;
		rep.left = (unsigned int)strtoul(num, NULL, 10);
		memset(cbuf, 0, sizeof(cbuf));
		if (rep.ok) {
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		} else {
			mh.msg_control = NULL;
			mh.msg_controllen = 0;
		}
		_exit(sendmsg(sv[1], &mh, 0) == sizeof(rep) ? 0 : 6);
	}
	close(sv[1]);
	if (recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC) == sizeof(rep) && rep.ok) {
		cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	}
	close(sv[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (reached)
		*reached = nth && rep.left == 0;
	if (!rep.ok) {
		*errp = rep.err;
		return -1;
	}
	return fd;
}

/* ---- the model ------------------------------------------------------- */

static void note_id(struct ctx *c, int p, uint64_t id)
{
	if (id > c->maxid[p])
		c->maxid[p] = id;
}

static void check_new_id(struct ctx *c, int p, uint64_t id, const char *what)
{
	check(c, (id & 1) && id != BUS1_INVALID,
	      "%s: peer %d got invalid ID %#llx", what, p,
	      (unsigned long long)id);
	check(c, id > c->maxid[p],
	      "%s: peer %d got ID %llu, not above %llu handed out before (IDs are never reused)",
	      what, p, (unsigned long long)id,
	      (unsigned long long)c->maxid[p]);
	note_id(c, p, id);
}

static int m_add_peer(struct ctx *c, int fd, uid_t uid)
{
	check(c, c->np < MAXP, "too many peers");
	c->fd[c->np] = fd;
	c->uid[c->np] = uid;
	c->maxid[c->np] = 0;
	return c->np++;
}

static int m_peer(struct ctx *c, uid_t uid)
{
	int fd, err = 0;

	if (uid) {
		fd = open_as(uid, 0, NULL, &err);
	} else {
		fd = open(dev_path, O_RDWR | O_CLOEXEC);
		err = errno;
	}
	check(c, fd >= 0, "set-up: open %s as UID %u: %s", dev_path, uid,
	      strerror(err));
	return m_add_peer(c, fd, uid);
}

static int m_add_node(struct ctx *c, int owner, uint64_t id)
{
	check(c, c->nn < MAXN, "too many nodes");
	c->node[c->nn] = (struct mnode){ .owner = owner, .id = id, .live = true };
	return c->nn++;
}

static int m_add_handle(struct ctx *c, int holder, int node, uint64_t id)
{
	check(c, c->nh < MAXH, "too many handles");
	c->h[c->nh] = (struct mhandle){
		.holder = holder, .node = node, .id = id, .live = true,
	};
	return c->nh++;
}

static uint64_t to_arg(struct ctx *c, int from, int to)
{
	return from == to ? BUS1_INVALID : (uint64_t)c->fd[to];
}

/* a node of @owner with one handle in @holder; returns the handle */
static int m_node(struct ctx *c, int owner, int holder)
{
	struct bus1_transfer s = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer d = {};
	int r, n;

	r = b1_transfer(c->fd[owner], to_arg(c, owner, holder), &s, &d, 1);
	check(c, !r, "set-up: TRANSFER CREATE %d->%d: %s", owner, holder,
	      strerror(-r));
	check_new_id(c, owner, s.id, "set-up node");
	n = m_add_node(c, owner, s.id);
	check_new_id(c, holder, d.id, "set-up handle");
	return m_add_handle(c, holder, n, d.id);
}

/* another handle to the node of handle @h, in @to; returns it */
static int m_give(struct ctx *c, int h, int to)
{
	int from = c->h[h].holder;
	struct bus1_transfer s = { 0, c->h[h].id }, d = {};
	int r;

	r = b1_transfer(c->fd[from], to_arg(c, from, to), &s, &d, 1);
	check(c, !r, "set-up: TRANSFER %d->%d: %s", from, to, strerror(-r));
	check_new_id(c, to, d.id, "set-up handle");
	return m_add_handle(c, to, c->h[h].node, d.id);
}

/* advance the ID counter of @p by 2 * @pairs, leaving nothing behind */
static void m_burn(struct ctx *c, int p, unsigned int pairs)
{
	struct bus1_transfer s[MAXT], d[MAXT];
	uint64_t ids[2 * MAXT];
	unsigned int i, k;
	int r;

	while (pairs) {
		k = pairs < MAXT ? pairs : MAXT;
		for (i = 0; i < k; ++i) {
			s[i] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
						       BUS1_INVALID };
			d[i] = (struct bus1_transfer){};
		}
		r = b1_transfer(c->fd[p], BUS1_INVALID, s, d, k);
		check(c, !r, "set-up: burn IDs: %s", strerror(-r));
		for (i = 0; i < k; ++i) {
			ids[2 * i] = s[i].id;
			ids[2 * i + 1] = d[i].id;
			note_id(c, p, s[i].id);
			note_id(c, p, d[i].id);
		}
		/* node and its only handle in one call: no notification */
		r = b1_release(c->fd[p], ids, 2 * k);
		check(c, !r, "set-up: burn IDs: RELEASE: %s", strerror(-r));
		pairs -= k;
	}
}

static void m_release(struct ctx *c, int p, const uint64_t *ids, int n)
{
	int r = b1_release(c->fd[p], ids, n);

	check(c, !r, "set-up: RELEASE on peer %d: %s", p, strerror(-r));
}

static struct rmsg rm;

static const char *type_name(uint64_t type)
{
	switch (type) {
	case BUS1_MESSAGE_TYPE_USER:
		return "USER";
	case BUS1_MESSAGE_TYPE_NODE_RELEASE:
		return "NODE_RELEASE";
	case BUS1_MESSAGE_TYPE_HANDLE_RELEASE:
		return "HANDLE_RELEASE";
	}
	return "?";
}

static void expect_empty(struct ctx *c, int p, const char *when)
{
	int r;

	struct pollfd pfd = { .fd = c->fd[p], .events = POLLIN };

	if (c->fd[p] < 0)
		return;
	r = b1_recv(c->fd[p], &rm);
	if (r == -EAGAIN) {
		/* and poll agrees: a queue with nothing receivable is not
		 * readable (spec 3.5) */
		r = poll(&pfd, 1, 0);
		check(c, r == 0, "%s: peer %d: RECV gives EAGAIN but poll returns %d (revents %#x)",
		      when, p, r, pfd.revents);
		return;
	}
	if (r)
		fail(c, "%s: RECV on peer %d: %s (expected EAGAIN)", when, p,
		     strerror(-r));
	fail(c, "%s: peer %d has an unexpected %s entry for ID %llu", when, p,
	     type_name(rm.type), (unsigned long long)rm.id);
}

static void expect_all_empty(struct ctx *c, const char *when)
{
	int p;

	for (p = 0; p < c->np; ++p)
		expect_empty(c, p, when);
}

/* receive one entry on @p; it must be of @type for @id */
static struct rmsg *expect_entry(struct ctx *c, int p, uint64_t type,
				 uint64_t id, const char *when)
{
	int r = b1_recv(c->fd[p], &rm);

	check(c, !r, "%s: RECV on peer %d: %s (expected %s for ID %llu)", when,
	      p, strerror(-r), type_name(type), (unsigned long long)id);
	check(c, rm.type == type && rm.id == id,
	      "%s: peer %d received %s for ID %llu, expected %s for ID %llu",
	      when, p, type_name(rm.type), (unsigned long long)rm.id,
	      type_name(type), (unsigned long long)id);
	if (type != BUS1_MESSAGE_TYPE_USER)
		check(c, rm.account == BUS1_INVALID && !rm.n_transfers &&
		      !rm.n_data, "%s: peer %d: notification with account %llu, %llu transfers, %llu bytes",
		      when, p, (unsigned long long)rm.account,
		      (unsigned long long)rm.n_transfers,
		      (unsigned long long)rm.n_data);
	return &rm;
}

static int find_handle(struct ctx *c, int holder, uint64_t id)
{
	int i;

	for (i = 0; i < c->nh; ++i)
		if (c->h[i].live && c->h[i].holder == holder && c->h[i].id == id)
			return i;
	return -1;
}

static int find_node(struct ctx *c, int owner, uint64_t id)
{
	int i;

	for (i = 0; i < c->nn; ++i)
		if (c->node[i].live && c->node[i].owner == owner &&
		    c->node[i].id == id)
			return i;
	return -1;
}

/*
 * Receive every queued entry of @p and match them, in any order, against
 * @n expected (type, id) pairs. Retires what the notifications retire.
 */
static void expect_set(struct ctx *c, int p, int n, const uint64_t *types,
		       const uint64_t *ids, const char *when)
{
	bool seen[16] = {};
	int i, k, r, x;

	for (k = 0; k < n; ++k) {
		r = b1_recv(c->fd[p], &rm);
		check(c, !r, "%s: peer %d: RECV %d of %d: %s", when, p, k + 1,
		      n, strerror(-r));
		for (i = 0; i < n; ++i)
			if (!seen[i] && types[i] == rm.type && ids[i] == rm.id)
				break;
		check(c, i < n, "%s: peer %d received an unexpected %s for ID %llu",
		      when, p, type_name(rm.type), (unsigned long long)rm.id);
		seen[i] = true;
		if (rm.type == BUS1_MESSAGE_TYPE_NODE_RELEASE) {
			x = find_handle(c, p, rm.id);
			check(c, x >= 0, "%s: NODE_RELEASE for unknown handle", when);
			c->h[x].live = false;
		} else if (rm.type == BUS1_MESSAGE_TYPE_HANDLE_RELEASE) {
			x = find_node(c, p, rm.id);
			check(c, x >= 0, "%s: HANDLE_RELEASE for unknown node", when);
			c->node[x].live = false;
		}
	}
	expect_empty(c, p, when);
}

/*
 * IDs that a failed call wrote to user memory: they were burned and must
 * name nothing (checked by verify_state()).
 */
static void note_wb(struct ctx *c, int p, uint64_t id)
{
	check(c, c->nwb < MAXW, "too many written IDs");
	c->wb[c->nwb].peer = p;
	c->wb[c->nwb].id = id;
	c->nwb++;
	note_id(c, p, id);
}

/*
 * The generic check after every step: nothing queued anywhere, IDs a failed
 * call wrote name nothing, the next ID of every peer is new, and every node
 * has exactly the handles of the model: releasing all but one produces
 * nothing, releasing the last one gives its owner exactly one
 * HANDLE_RELEASE.
 */
void verify_state(struct ctx *c)
{
	struct bus1_transfer s, d;
	uint64_t ids[2];
	int i, k, last, p, r;

	expect_all_empty(c, "queues after the call");

	for (i = 0; i < c->nwb; ++i) {
		r = b1_release(c->fd[c->wb[i].peer], &c->wb[i].id, 1);
		check(c, r == -EBADRQC,
		      "ID %llu written by the failed call is valid in peer %d (RELEASE: %s)",
		      (unsigned long long)c->wb[i].id, c->wb[i].peer,
		      r ? strerror(-r) : "0");
	}

	for (p = 0; p < c->np; ++p) {
		if (c->fd[p] < 0)
			continue;
		s = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
					    BUS1_INVALID };
		d = (struct bus1_transfer){};
		r = b1_transfer(c->fd[p], BUS1_INVALID, &s, &d, 1);
		check(c, !r, "probe: TRANSFER CREATE on peer %d: %s", p,
		      strerror(-r));
		check_new_id(c, p, s.id, "probe node");
		check_new_id(c, p, d.id, "probe handle");
		ids[0] = s.id;
		ids[1] = d.id;
		r = b1_release(c->fd[p], ids, 2);
		check(c, !r, "probe: RELEASE on peer %d: %s", p, strerror(-r));
	}

	for (i = 0; i < c->nn; ++i) {
		if (!c->node[i].live || c->fd[c->node[i].owner] < 0)
			continue;
		last = -1;
		for (k = 0; k < c->nh; ++k) {
			if (!c->h[k].live || c->h[k].node != i)
				continue;
			if (last >= 0) {
				r = b1_release(c->fd[c->h[last].holder],
					       &c->h[last].id, 1);
				check(c, !r, "model: RELEASE of handle %llu in peer %d (node %llu of peer %d): %s",
				      (unsigned long long)c->h[last].id,
				      c->h[last].holder,
				      (unsigned long long)c->node[i].id,
				      c->node[i].owner, strerror(-r));
				c->h[last].live = false;
			}
			last = k;
		}
		if (last < 0) {
			r = b1_release(c->fd[c->node[i].owner], &c->node[i].id, 1);
			check(c, !r, "model: RELEASE of handle-less node %llu in peer %d: %s",
			      (unsigned long long)c->node[i].id,
			      c->node[i].owner, strerror(-r));
			c->node[i].live = false;
			expect_all_empty(c, "after releasing a node without handles");
			continue;
		}
		expect_all_empty(c, "model: node with a handle left");
		r = b1_release(c->fd[c->h[last].holder], &c->h[last].id, 1);
		check(c, !r, "model: RELEASE of last handle %llu in peer %d: %s",
		      (unsigned long long)c->h[last].id, c->h[last].holder,
		      strerror(-r));
		c->h[last].live = false;
		expect_entry(c, c->node[i].owner,
			     BUS1_MESSAGE_TYPE_HANDLE_RELEASE, c->node[i].id,
			     "model: last handle released");
		c->node[i].live = false;
		expect_all_empty(c, "model: after HANDLE_RELEASE");
	}
	for (k = 0; k < c->nh; ++k)
		check(c, !c->h[k].live || c->fd[c->h[k].holder] < 0 ||
		      c->fd[c->node[c->h[k].node].owner] < 0,
		      "model: handle %llu of peer %d left over",
		      (unsigned long long)c->h[k].id, c->h[k].holder);
}

void ctx_teardown_peers(struct ctx *c, void (*close_one)(struct ctx *, int))
{
	int p;

	for (p = 0; p < c->np; ++p) {
		if (c->fd[p] >= 0)
			close_one(c, c->fd[p]);
		c->fd[p] = -1;
	}
	if (c->new_fd >= 0)
		close_one(c, c->new_fd);
	c->new_fd = -1;
}

/* ---- message helpers ------------------------------------------------- */

/* a user message with @ntr transfers (c->src), @n bytes in @nvec vectors */
static void msg_user(struct ctx *c, int ntr, size_t n, int nvec)
{
	size_t i, off = 0, step;

	for (i = 0; i < n; ++i)
		c->data[i] = pattern(i);
	step = nvec ? (n + nvec - 1) / nvec : 0;
	for (i = 0; i < (size_t)nvec; ++i) {
		size_t len = off + step <= n ? step : n - off;

		c->iov[i].iov_base = c->data + off;
		c->iov[i].iov_len = len;
		off += len;
	}
	c->msg = (struct bus1_message){
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_transfers = ntr,
		.ptr_transfers = BUS1_FROM_PTR(c->src),
		.n_data = n,
		.n_data_vecs = nvec,
		.ptr_data_vecs = BUS1_FROM_PTR(c->iov),
	};
	for (i = 0; i < MAXT; ++i)
		c->errors[i] = SENTINEL_ERR;
}

static void set_create(struct bus1_transfer *t)
{
	*t = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
}

static void set_handle(struct ctx *c, struct bus1_transfer *t, int h)
{
	*t = (struct bus1_transfer){ 0, c->h[h].id };
}

/* a RECV set-up with @nvec vectors over @cap bytes, all sentinels */
static void recv_prepare(struct ctx *c, size_t cap, int nvec)
{
	size_t i, step = cap / nvec;

	memset(c->data, SENTINEL_BYTE, sizeof(c->data));
	for (i = 0; i < MAXT; ++i)
		c->dst[i] = (struct bus1_transfer){ SENTINEL_FLAGS, SENTINEL_ID };
	for (i = 0; i < (size_t)nvec; ++i) {
		c->iov[i].iov_base = c->data + i * step;
		c->iov[i].iov_len = step;
	}
	c->meta = (struct bus1_metadata){ SENTINEL_FLAGS, SENTINEL_ID,
					  SENTINEL_ID };
	c->msg = (struct bus1_message){
		.type = BUS1_INVALID,
		.n_transfers = MAXT,
		.ptr_transfers = BUS1_FROM_PTR(c->dst),
		.n_data = step * nvec,
		.n_data_vecs = nvec,
		.ptr_data_vecs = BUS1_FROM_PTR(c->iov),
	};
}

/* after a failed RECV nothing may have been written (spec 5.5) */
static void recv_untouched(struct ctx *c, size_t cap, int nvec)
{
	size_t i;

	for (i = 0; i < MAXT; ++i)
		check(c, c->dst[i].flags == SENTINEL_FLAGS &&
		      c->dst[i].id == SENTINEL_ID,
		      "failed RECV wrote transfers[%zu]", i);
	for (i = 0; i < cap; ++i)
		check(c, c->data[i] == SENTINEL_BYTE,
		      "failed RECV wrote payload byte %zu", i);
	check(c, c->meta.flags == SENTINEL_FLAGS && c->meta.id == SENTINEL_ID &&
	      c->meta.account == SENTINEL_ID, "failed RECV wrote the metadata");
	check(c, c->msg.type == BUS1_INVALID && c->msg.n_transfers == MAXT &&
	      c->msg.n_data == cap && c->msg.n_data_vecs == (uint64_t)nvec,
	      "failed RECV wrote the message struct");
}

static void check_payload(struct ctx *c, const uint8_t *got, size_t n,
			  const char *who)
{
	size_t i;

	for (i = 0; i < n; ++i)
		check(c, got[i] == pattern(i), "%s: payload byte %zu is %#x, sent %#x",
		      who, i, got[i], pattern(i));
}

/* SEND failed: transfers[] and errors[] must be untouched (spec 5.3) */
static void send_untouched(struct ctx *c, int ntr, const struct bus1_transfer *orig,
			   int nd)
{
	int i;

	for (i = 0; i < ntr; ++i)
		check(c, c->src[i].flags == orig[i].flags &&
		      c->src[i].id == orig[i].id,
		      "failed SEND wrote transfers[%d] = {%llu, %llu}", i,
		      (unsigned long long)c->src[i].flags,
		      (unsigned long long)c->src[i].id);
	for (i = 0; i < nd; ++i)
		check(c, c->errors[i] == SENTINEL_ERR,
		      "failed SEND wrote errors[%d] = %d", i, c->errors[i]);
}

/* a delivered USER message on @p for node @n, from @sender_uid */
static struct rmsg *expect_user(struct ctx *c, int p, int n, uid_t sender_uid,
				uint64_t ntr, size_t ndata, const char *when)
{
	struct rmsg *m = expect_entry(c, p, BUS1_MESSAGE_TYPE_USER,
				      c->node[n].id, when);

	check(c, m->account == sender_uid, "%s: account %llu, sender UID %u",
	      when, (unsigned long long)m->account, sender_uid);
	check(c, m->n_transfers == ntr && m->n_data == ndata,
	      "%s: %llu transfers, %llu bytes; sent %llu, %zu", when,
	      (unsigned long long)m->n_transfers,
	      (unsigned long long)m->n_data, (unsigned long long)ntr, ndata);
	check_payload(c, m->data, ndata, when);
	return m;
}

/* ---- open ------------------------------------------------------------ */

static void open_setup(struct ctx *c)
{
	c->p[0] = m_peer(c, 0);
}

static int open_call(struct ctx *c)
{
	c->new_fd = open(dev_path, O_RDWR | O_CLOEXEC);
	return c->new_fd < 0 ? -errno : 0;
}

static void open_ok(struct ctx *c)
{
	m_add_peer(c, c->new_fd, 0);
	c->new_fd = -1;
}

#define NEW_UID_OPEN	2001

static void open_user_setup(struct ctx *c)
{
	c->p[0] = m_peer(c, 0);
	check(c, !acct_has_user(c, NEW_UID_OPEN),
	      "set-up: UID %u already has an accounting user", NEW_UID_OPEN);
}

static int open_user_call(struct ctx *c)
{
	int err = 0;

	c->new_fd = open_as(NEW_UID_OPEN, c->nth, &c->reached, &err);
	return c->new_fd < 0 ? -err : 0;
}

static void open_user_ok(struct ctx *c)
{
	check(c, acct_has_user(c, NEW_UID_OPEN),
	      "open as UID %u succeeded but created no accounting user",
	      NEW_UID_OPEN);
	m_add_peer(c, c->new_fd, NEW_UID_OPEN);
	c->new_fd = -1;
}

static void open_user_fail(struct ctx *c)
{
	check(c, !acct_has_user(c, NEW_UID_OPEN),
	      "failed open left an accounting user for UID %u", NEW_UID_OPEN);
}

/* ---- TRANSFER -------------------------------------------------------- */

/* c->p[0] = from, c->p[1] = to, c->n[0] = number of elements */
static int transfer_call(struct ctx *c)
{
	int from = c->p[0], to = c->p[1];

	return b1_transfer(c->fd[from], to_arg(c, from, to), c->src, c->dst,
			   c->n[0]);
}

static void transfer_prepare(struct ctx *c, int from, int to, int n)
{
	int i;

	c->p[0] = from;
	c->p[1] = to;
	c->n[0] = n;
	for (i = 0; i < MAXT; ++i)
		c->dst[i] = (struct bus1_transfer){ SENTINEL_FLAGS, SENTINEL_ID };
}

/* c->hh[i] = source handle of element i, or -1 for CREATE */
static void transfer_ok(struct ctx *c)
{
	int from = c->p[0], to = c->p[1], i, n;

	for (i = 0; i < c->n[0]; ++i) {
		if (c->hh[i] < 0) {
			check(c, c->src[i].flags == 0,
			      "TRANSFER: CREATE element %d not written back", i);
			check_new_id(c, from, c->src[i].id, "TRANSFER node");
			n = m_add_node(c, from, c->src[i].id);
		} else {
			check(c, c->src[i].flags == 0 &&
			      c->src[i].id == c->h[c->hh[i]].id,
			      "TRANSFER: non-CREATE src[%d] was changed", i);
			n = c->h[c->hh[i]].node;
		}
		check(c, c->dst[i].flags == 0, "TRANSFER: dst[%d].flags = %llu",
		      i, (unsigned long long)c->dst[i].flags);
		check_new_id(c, to, c->dst[i].id, "TRANSFER handle");
		m_add_handle(c, to, n, c->dst[i].id);
	}
}

static void transfer_fail(struct ctx *c)
{
	int i;

	for (i = 0; i < c->n[0]; ++i) {
		if (c->hh[i] < 0) {
			if (c->src[i].flags == 0)
				note_wb(c, c->p[0], c->src[i].id);
			else
				check(c, c->src[i].flags == BUS1_TRANSFER_FLAG_CREATE &&
				      c->src[i].id == BUS1_INVALID,
				      "failed TRANSFER garbled src[%d]", i);
		} else {
			check(c, c->src[i].flags == 0 &&
			      c->src[i].id == c->h[c->hh[i]].id,
			      "failed TRANSFER changed non-CREATE src[%d]", i);
		}
		if (c->dst[i].flags != SENTINEL_FLAGS) {
			check(c, c->dst[i].flags == 0,
			      "failed TRANSFER wrote dst[%d].flags = %llu", i,
			      (unsigned long long)c->dst[i].flags);
			note_wb(c, c->p[1], c->dst[i].id);
		}
	}
}

static void t_create_self_setup(struct ctx *c)
{
	int a = m_peer(c, 0);

	transfer_prepare(c, a, a, 1);
	set_create(&c->src[0]);
	c->hh[0] = -1;
}

static void t_create_other_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 2002);

	/* both peers' first IDs: a reserved slot at index 0 needs an xarray
	 * node (a reservation cannot live in the root); the charges need a
	 * quota and a trace on both users */
	transfer_prepare(c, a, b, 1);
	set_create(&c->src[0]);
	c->hh[0] = -1;
}

static void t_existing_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0), d = m_peer(c, 0);
	int h = m_node(c, a, b);

	/* d's first ID needs an xarray node */
	transfer_prepare(c, b, d, 1);
	set_handle(c, &c->src[0], h);
	c->hh[0] = h;
}

static void t_multi_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 2004), d = m_peer(c, 0);
	int hx = m_node(c, d, a);

	transfer_prepare(c, a, b, 3);
	set_create(&c->src[0]);
	set_handle(c, &c->src[1], hx);
	set_create(&c->src[2]);
	c->hh[0] = -1;
	c->hh[1] = hx;
	c->hh[2] = -1;
}

static void t_self_existing_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0);
	int h = m_node(c, b, a);

	transfer_prepare(c, a, a, 1);
	set_handle(c, &c->src[0], h);
	c->hh[0] = h;
}

/* ---- RELEASE --------------------------------------------------------- */

/* c->p[0] = caller, c->n[0] = number of IDs in c->ids */
static int release_call(struct ctx *c)
{
	return b1_release(c->fd[c->p[0]], c->ids, c->n[0]);
}

static void r_node_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0), d = m_peer(c, 0);
	int ha = m_node(c, a, a);

	c->hh[0] = ha;
	c->hh[1] = m_give(c, ha, b);
	c->hh[2] = m_give(c, ha, d);
	c->p[0] = a;
	c->n[0] = 1;
	c->n[1] = c->h[ha].node;
	c->ids[0] = c->node[c->n[1]].id;
}

static void r_node_ok(struct ctx *c)
{
	uint64_t t = BUS1_MESSAGE_TYPE_NODE_RELEASE;
	int i;

	c->node[c->n[1]].live = false;
	for (i = 0; i < 3; ++i)
		expect_set(c, c->h[c->hh[i]].holder, 1, &t, &c->h[c->hh[i]].id,
			   "NODE_RELEASE after RELEASE of the node");
}

static void r_handles_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0), d = m_peer(c, 0);
	int h1 = m_node(c, a, b), h2 = m_node(c, a, b);

	m_give(c, h2, d);
	c->hh[0] = h1;
	c->hh[1] = h2;
	c->p[0] = b;
	c->n[0] = 2;
	c->ids[0] = c->h[h1].id;
	c->ids[1] = c->h[h2].id;
}

static void r_handles_ok(struct ctx *c)
{
	uint64_t t = BUS1_MESSAGE_TYPE_HANDLE_RELEASE;
	int n1 = c->h[c->hh[0]].node;

	c->h[c->hh[0]].live = false;
	c->h[c->hh[1]].live = false;
	expect_set(c, c->node[n1].owner, 1, &t, &c->node[n1].id,
		   "HANDLE_RELEASE after RELEASE of the last handle");
}

/* ---- SEND ------------------------------------------------------------ */

/*
 * c->p[0] = sender, c->n[0] = number of destinations (handles of the
 * sender, in c->ids), c->n[1] = transfers (c->src), c->n[2] = payload
 * bytes, c->hh[i] = the handle transfer i names, or -1 for CREATE.
 * send_orig keeps c->src as set up: a failed SEND must not write it.
 */
static struct bus1_transfer send_orig[MAXT];

static int send_call(struct ctx *c)
{
	return b1_send(c->fd[c->p[0]], c->ids, c->n[0], c->errors, &c->msg);
}

static void send_prepare(struct ctx *c, int sender, int ntr, size_t n, int nvec)
{
	c->p[0] = sender;
	c->n[1] = ntr;
	c->n[2] = (int)n;
	msg_user(c, ntr, n, nvec);
}

static void send_fail(struct ctx *c)
{
	send_untouched(c, c->n[1], send_orig, c->n[0]);
}

/* the destinations of c->ids, as handles of the sender */
static int dest_node(struct ctx *c, int i)
{
	int h = find_handle(c, c->p[0], c->ids[i]);

	check(c, h >= 0, "scenario: destination %d is no handle", i);
	return c->h[h].node;
}

static void send_ok(struct ctx *c)
{
	int created[MAXT], i, k, n, p;
	struct rmsg *m;

	for (i = 0; i < c->n[1]; ++i) {
		created[i] = -1;
		if (c->hh[i] < 0) {
			check(c, c->src[i].flags == 0,
			      "SEND: CREATE transfer %d not written back", i);
			check_new_id(c, c->p[0], c->src[i].id, "SEND node");
			created[i] = m_add_node(c, c->p[0], c->src[i].id);
		} else {
			check(c, c->src[i].flags == send_orig[i].flags &&
			      c->src[i].id == send_orig[i].id,
			      "SEND changed non-CREATE transfers[%d]", i);
		}
	}
	for (i = 0; i < c->n[0]; ++i)
		check(c, c->errors[i] == 0, "SEND: errors[%d] = %d", i,
		      c->errors[i]);
	for (i = 0; i < c->n[0]; ++i) {
		n = dest_node(c, i);
		p = c->node[n].owner;
		m = expect_user(c, p, n, c->uid[c->p[0]], c->n[1], c->n[2],
				"SEND delivered");
		for (k = 0; k < c->n[1]; ++k) {
			check_new_id(c, p, m->ids[k], "received handle");
			m_add_handle(c, p, c->hh[k] < 0 ? created[k] :
				     c->h[c->hh[k]].node, m->ids[k]);
		}
	}
}

static void s_save(struct ctx *c)
{
	memcpy(send_orig, c->src, sizeof(send_orig));
}

static void s_unicast_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0);
	int h = m_node(c, b, a);

	send_prepare(c, a, 0, 100, 1);
	c->n[0] = 1;
	c->ids[0] = c->h[h].id;
	s_save(c);
}

static void s_large_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0);
	int h = m_node(c, b, a);

	/* A's counter at 63: the second CREATE's index 64 needs new xarray
	 * nodes; 12 KiB: a payload buffer beyond a page (kvmalloc) */
	m_burn(c, a, 31);
	send_prepare(c, a, 3, 12 * 1024, 16);
	set_create(&c->src[0]);
	set_handle(c, &c->src[1], h);
	set_create(&c->src[2]);
	c->hh[0] = -1;
	c->hh[1] = h;
	c->hh[2] = -1;
	c->n[0] = 1;
	c->ids[0] = c->h[h].id;
	s_save(c);
}

static void s_multicast_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0), d = m_peer(c, 0);
	int e = m_peer(c, 2005);
	int hb = m_node(c, b, a), hd = m_node(c, d, a), he = m_node(c, e, a);

	/* 20 KiB shared payload, 16 vectors (more than UIO_FASTIOV) */
	send_prepare(c, a, 2, 20 * 1024, 16);
	set_handle(c, &c->src[0], hb);
	set_create(&c->src[1]);
	c->hh[0] = hb;
	c->hh[1] = -1;
	c->n[0] = 3;
	c->ids[0] = c->h[hb].id;
	c->ids[1] = c->h[hd].id;
	c->ids[2] = c->h[he].id;
	s_save(c);
}

static void s_nodest_setup(struct ctx *c)
{
	int a = m_peer(c, 2007);

	/* A's UID has no quota on A's user yet; A's first ID needs an
	 * xarray node */
	send_prepare(c, a, 2, 0, 0);
	set_create(&c->src[0]);
	set_create(&c->src[1]);
	c->hh[0] = -1;
	c->hh[1] = -1;
	c->n[0] = 0;
	s_save(c);
}

static void s_foreign_setup(struct ctx *c)
{
	int a = m_peer(c, 2006), b = m_peer(c, 0);
	int h = m_node(c, b, a);

	send_prepare(c, a, 1, 64, 2);
	set_handle(c, &c->src[0], h);
	c->hh[0] = h;
	c->n[0] = 1;
	c->ids[0] = c->h[h].id;
	s_save(c);
}

/* ---- RECV ------------------------------------------------------------ */

#define RECV_CAP	4096
#define RECV_VECS	16

static int recv_call(struct ctx *c)
{
	return b1_recv_raw(c->fd[c->p[0]], &c->meta, &c->msg);
}

/* take everything committed into the ready list without delivering it */
static void prefetch(struct ctx *c, int p)
{
	struct bus1_metadata meta;
	struct bus1_message msg = { .type = BUS1_INVALID };
	int r = b1_recv_raw(c->fd[p], &meta, &msg);

	check(c, r == -EMSGSIZE, "set-up: RECV without room on peer %d: %s", p,
	      r ? strerror(-r) : "0");
}

/*
 * V1: B's ID counter stands at 63, so the three handles of the message get
 * indices 63, 64 and 65: the second needs new xarray nodes. An earlier
 * failed attempt keeps the IDs it assigned, so a retry reports the same.
 */
static void v_handles_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0);
	int h = m_node(c, b, a), ha = m_node(c, a, a);
	struct bus1_transfer t[3];
	int r;

	m_burn(c, b, 31);
	check(c, c->maxid[b] == 125, "set-up: B's last ID is %llu, not 125",
	      (unsigned long long)c->maxid[b]);
	msg_user(c, 3, 3000, 3);
	set_handle(c, &t[0], h);
	set_handle(c, &t[1], ha);
	set_create(&t[2]);
	memcpy(c->src, t, sizeof(t));
	c->ids[0] = c->h[h].id;
	r = b1_send(c->fd[a], c->ids, 1, c->errors, &c->msg);
	check(c, !r, "set-up: SEND: %s", strerror(-r));
	check_new_id(c, a, c->src[2].id, "set-up node");
	c->n[3] = m_add_node(c, a, c->src[2].id);
	c->n[1] = c->h[h].node;
	c->n[2] = c->h[ha].node;
	prefetch(c, b);
	c->p[0] = b;
	recv_prepare(c, RECV_CAP, RECV_VECS);
}

static void v_handles_check(struct ctx *c)
{
	static const uint64_t want[3] = { 127, 129, 131 };
	int b = c->p[0], i;

	check(c, c->meta.id == c->node[c->n[1]].id && c->meta.account == 0 &&
	      c->meta.flags == 0, "RECV: metadata {%llu, %llu, %llu}",
	      (unsigned long long)c->meta.flags,
	      (unsigned long long)c->meta.id,
	      (unsigned long long)c->meta.account);
	check(c, c->msg.type == BUS1_MESSAGE_TYPE_USER &&
	      c->msg.n_transfers == 3 && c->msg.n_data == 3000,
	      "RECV: message type %llu, %llu transfers, %llu bytes",
	      (unsigned long long)c->msg.type,
	      (unsigned long long)c->msg.n_transfers,
	      (unsigned long long)c->msg.n_data);
	for (i = 0; i < 3; ++i) {
		check(c, c->dst[i].flags == 0 && c->dst[i].id == want[i],
		      "RECV: transfer %d has ID %llu, expected %llu", i,
		      (unsigned long long)c->dst[i].id,
		      (unsigned long long)want[i]);
		note_id(c, b, want[i]);
		m_add_handle(c, b, c->n[1 + i], want[i]);
	}
	check(c, c->dst[3].flags == SENTINEL_FLAGS, "RECV wrote transfers[3]");
	check_payload(c, c->data, 3000, "RECV");
	for (i = 3000; i < RECV_CAP; ++i)
		check(c, c->data[i] == SENTINEL_BYTE,
		      "RECV wrote byte %d beyond the payload", i);
}

static void v_handles_fail(struct ctx *c)
{
	int r;

	recv_untouched(c, RECV_CAP, RECV_VECS);
	/* the message is still queued: the retry delivers it */
	r = recv_call(c);
	check(c, !r, "RECV retry after the failure: %s", strerror(-r));
	v_handles_check(c);
}

static void v_node_release_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0);
	int h = m_node(c, a, b);

	m_release(c, a, &c->node[c->h[h].node].id, 1);
	c->node[c->h[h].node].live = false;
	c->hh[0] = h;
	c->p[0] = b;
	recv_prepare(c, RECV_CAP, RECV_VECS);
}

static void v_node_release_ok(struct ctx *c)
{
	int h = c->hh[0];

	check(c, c->msg.type == BUS1_MESSAGE_TYPE_NODE_RELEASE &&
	      c->meta.id == c->h[h].id && c->meta.account == BUS1_INVALID,
	      "RECV: type %llu for ID %llu, expected NODE_RELEASE for %llu",
	      (unsigned long long)c->msg.type,
	      (unsigned long long)c->meta.id,
	      (unsigned long long)c->h[h].id);
	c->h[h].live = false;
	check(c, b1_release(c->fd[c->p[0]], &c->h[h].id, 1) == -EBADRQC,
	      "the handle is still valid after its NODE_RELEASE was received");
}

static void v_handle_release_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0);
	int h = m_node(c, a, b);

	m_release(c, b, &c->h[h].id, 1);
	c->h[h].live = false;
	c->n[0] = c->h[h].node;
	c->p[0] = a;
	recv_prepare(c, RECV_CAP, RECV_VECS);
}

static void v_handle_release_ok(struct ctx *c)
{
	int n = c->n[0];

	check(c, c->msg.type == BUS1_MESSAGE_TYPE_HANDLE_RELEASE &&
	      c->meta.id == c->node[n].id && c->meta.account == BUS1_INVALID,
	      "RECV: type %llu for ID %llu, expected HANDLE_RELEASE for %llu",
	      (unsigned long long)c->msg.type,
	      (unsigned long long)c->meta.id,
	      (unsigned long long)c->node[n].id);
	c->node[n].live = false;
	check(c, b1_release(c->fd[c->p[0]], &c->node[n].id, 1) == -EBADRQC,
	      "the node is still valid after its HANDLE_RELEASE was received");
}

/*
 * V4: B's first entry is M1, stale (B released its destination) and
 * carrying the last handle to C's node X; behind it M2 with a handle. RECV
 * discards M1 (C gets HANDLE_RELEASE for X, also if RECV then fails) and
 * delivers M2.
 */
static void v_stale_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0), d = m_peer(c, 0);
	int h1 = m_node(c, b, a), h2 = m_node(c, b, a);
	int hx = m_node(c, d, a), hy = m_node(c, a, a);
	uint64_t t = BUS1_MESSAGE_TYPE_NODE_RELEASE;
	int r;

	msg_user(c, 1, 10, 1);
	set_handle(c, &c->src[0], hx);
	c->ids[0] = c->h[h1].id;
	r = b1_send(c->fd[a], c->ids, 1, c->errors, &c->msg);
	check(c, !r, "set-up: SEND M1: %s", strerror(-r));
	/* X's only handle left is the one M1 carries */
	m_release(c, a, &c->h[hx].id, 1);
	c->h[hx].live = false;

	msg_user(c, 1, 2000, 2);
	set_handle(c, &c->src[0], hy);
	c->ids[0] = c->h[h2].id;
	r = b1_send(c->fd[a], c->ids, 1, c->errors, &c->msg);
	check(c, !r, "set-up: SEND M2: %s", strerror(-r));

	/* both messages to the ready list, their transactions settled */
	prefetch(c, b);
	m_release(c, b, &c->node[c->h[h1].node].id, 1);
	c->node[c->h[h1].node].live = false;
	expect_set(c, a, 1, &t, &c->h[h1].id, "set-up: NODE_RELEASE");

	c->n[0] = c->h[hx].node;
	c->n[1] = c->h[h2].node;
	c->n[2] = c->h[hy].node;
	c->p[0] = b;
	c->p[1] = d;
	/* a failure after the discard leaves it done (spec 5.4 step 5) */
	/* M1, its carried handle and its reference on B's released node; its
	 * discard transaction lives on in D's queue */
	c->fail_delta[STAT_MESSAGES] = -1;
	c->fail_delta[STAT_HANDLES] = -1;
	c->fail_delta[STAT_NODES] = -1;
	c->fail_acct_changes = true;
	recv_prepare(c, RECV_CAP, RECV_VECS);
}

static void v_stale_check(struct ctx *c)
{
	uint64_t t = BUS1_MESSAGE_TYPE_HANDLE_RELEASE;
	int b = c->p[0];

	check(c, c->msg.type == BUS1_MESSAGE_TYPE_USER &&
	      c->meta.id == c->node[c->n[1]].id &&
	      c->msg.n_transfers == 1 && c->msg.n_data == 2000,
	      "RECV: got type %llu for ID %llu (%llu transfers, %llu bytes), expected M2",
	      (unsigned long long)c->msg.type,
	      (unsigned long long)c->meta.id,
	      (unsigned long long)c->msg.n_transfers,
	      (unsigned long long)c->msg.n_data);
	check_payload(c, c->data, 2000, "RECV M2");
	check_new_id(c, b, c->dst[0].id, "RECV handle");
	m_add_handle(c, b, c->n[2], c->dst[0].id);
	expect_set(c, c->p[1], 1, &t, &c->node[c->n[0]].id,
		   "HANDLE_RELEASE for the discarded message's handle");
}

static void v_stale_fail(struct ctx *c)
{
	int r;

	recv_untouched(c, RECV_CAP, RECV_VECS);
	r = recv_call(c);
	check(c, !r, "RECV retry after the failure: %s", strerror(-r));
	v_stale_check(c);
}

/* ---- close ----------------------------------------------------------- */

/*
 * A peer with everything close has to tear down: nodes with handles in
 * three other peers and in itself, the last handle to another peer's node,
 * a handle to a node with other holders, queued notifications of both
 * kinds, queued messages (in the ready list after a partial RECV, and
 * behind it in the incoming stack) carrying handles, among them the only
 * handles to nodes their senders created.
 */
static int close_call(struct ctx *c)
{
	int fd = c->fd[c->p[0]];

	c->fd[c->p[0]] = -1;
	return close(fd) ? -errno : 0;
}

static void close_setup(struct ctx *c)
{
	int a = m_peer(c, 0), b = m_peer(c, 0), d = m_peer(c, 0);
	int e = m_peer(c, 2008);
	int hb1, hd1, he2, hab, hac, hbc, hac2, hb3;
	uint64_t t;
	int r;

	hb1 = m_node(c, a, b);
	hd1 = m_give(c, hb1, d);
	m_give(c, hb1, a);
	he2 = m_node(c, a, e);
	hab = m_node(c, b, a);			/* A holds B's node's only handle */
	hac = m_node(c, d, a);
	hbc = m_give(c, hac, b);		/* D's node also held by B */
	hac2 = m_node(c, d, a);
	m_release(c, d, &c->node[c->h[hac2].node].id, 1);
	c->node[c->h[hac2].node].live = false;	/* NODE_RELEASE queued at A */
	hb3 = m_node(c, a, b);
	m_release(c, b, &c->h[hb3].id, 1);
	c->h[hb3].live = false;			/* HANDLE_RELEASE queued at A */

	/* B -> A: a new node of B and a handle to D's node */
	msg_user(c, 2, 100, 1);
	set_create(&c->src[0]);
	set_handle(c, &c->src[1], hbc);
	c->ids[0] = c->h[hb1].id;
	r = b1_send(c->fd[b], c->ids, 1, c->errors, &c->msg);
	check(c, !r, "set-up: SEND B->A: %s", strerror(-r));
	check_new_id(c, b, c->src[0].id, "set-up node");
	c->n[0] = m_add_node(c, b, c->src[0].id);

	/* E -> A: 5000 bytes */
	msg_user(c, 0, 5000, 3);
	c->ids[0] = c->h[he2].id;
	r = b1_send(c->fd[e], c->ids, 1, c->errors, &c->msg);
	check(c, !r, "set-up: SEND E->A: %s", strerror(-r));

	/* A receives the NODE_RELEASE; the rest moves to its ready list */
	t = BUS1_MESSAGE_TYPE_NODE_RELEASE;
	expect_entry(c, a, t, c->h[hac2].id, "set-up: first entry at A");
	c->h[hac2].live = false;

	/* D -> A, after that: a new node of D, only reachable in flight */
	msg_user(c, 1, 0, 0);
	set_create(&c->src[0]);
	c->ids[0] = c->h[hd1].id;
	r = b1_send(c->fd[d], c->ids, 1, c->errors, &c->msg);
	check(c, !r, "set-up: SEND D->A: %s", strerror(-r));
	check_new_id(c, d, c->src[0].id, "set-up node");
	c->n[1] = m_add_node(c, d, c->src[0].id);

	c->p[0] = a;
	c->hh[0] = hb1;
	c->hh[1] = hd1;
	c->hh[2] = he2;
	c->hh[3] = hab;
}

static void close_ok(struct ctx *c)
{
	int a = c->p[0], b, d, e, i;
	uint64_t types[3], ids[3];

	b = c->h[c->hh[0]].holder;
	d = c->h[c->hh[1]].holder;
	e = c->h[c->hh[2]].holder;

	/* B: its handle to A's node; A held the last handle to B's node;
	 * the node B sent was only reachable through A's queue */
	types[0] = BUS1_MESSAGE_TYPE_NODE_RELEASE;
	ids[0] = c->h[c->hh[0]].id;
	types[1] = BUS1_MESSAGE_TYPE_HANDLE_RELEASE;
	ids[1] = c->node[c->h[c->hh[3]].node].id;
	types[2] = BUS1_MESSAGE_TYPE_HANDLE_RELEASE;
	ids[2] = c->node[c->n[0]].id;
	c->h[c->hh[3]].live = false;
	expect_set(c, b, 3, types, ids, "close: B");

	/* D: its handle to A's node, and the node it sent to A */
	types[0] = BUS1_MESSAGE_TYPE_NODE_RELEASE;
	ids[0] = c->h[c->hh[1]].id;
	types[1] = BUS1_MESSAGE_TYPE_HANDLE_RELEASE;
	ids[1] = c->node[c->n[1]].id;
	expect_set(c, d, 2, types, ids, "close: D");

	/* E: its handle to A's other node */
	expect_set(c, e, 1, types, &c->h[c->hh[2]].id, "close: E");

	/* everything A owned or held is gone */
	for (i = 0; i < c->nn; ++i)
		if (c->node[i].owner == a)
			c->node[i].live = false;
	for (i = 0; i < c->nh; ++i)
		if (c->h[i].holder == a)
			c->h[i].live = false;
}

/* ---- the list -------------------------------------------------------- */

const struct scen scenarios[] = {
	{ "open-existing-user", CMD_OPEN,
	  "open while the UID has a peer (peer, close transaction)",
	  open_setup, open_call, open_ok, NULL, false },
	{ "open-new-user", CMD_OPEN,
	  "open under a fresh UID in a child (peer, transaction, accounting user)",
	  open_user_setup, open_user_call, open_user_ok, open_user_fail, true },
	{ "transfer-create-self", CMD_TRANSFER,
	  "CREATE to the caller",
	  t_create_self_setup, transfer_call, transfer_ok, transfer_fail, false },
	{ "transfer-create-other", CMD_TRANSFER,
	  "CREATE between fresh peers of two UIDs (new quotas, traces, xarray nodes)",
	  t_create_other_setup, transfer_call, transfer_ok, transfer_fail, false },
	{ "transfer-existing", CMD_TRANSFER,
	  "an existing handle to a third peer",
	  t_existing_setup, transfer_call, transfer_ok, transfer_fail, false },
	{ "transfer-multi", CMD_TRANSFER,
	  "three elements (CREATE, existing, CREATE) to another UID: rollback of earlier elements",
	  t_multi_setup, transfer_call, transfer_ok, transfer_fail, false },
	{ "transfer-self-existing", CMD_TRANSFER,
	  "an existing handle to the caller itself",
	  t_self_existing_setup, transfer_call, transfer_ok, transfer_fail, false },
	{ "release-node", CMD_RELEASE,
	  "a node with handles in three peers, its owner included",
	  r_node_setup, release_call, r_node_ok, NULL, false },
	{ "release-last-handles", CMD_RELEASE,
	  "two handles, one the last of its node",
	  r_handles_setup, release_call, r_handles_ok, NULL, false },
	{ "send-unicast", CMD_SEND,
	  "100 bytes (stored in the message) to one destination",
	  s_unicast_setup, send_call, send_ok, send_fail, false },
	{ "send-unicast-large", CMD_SEND,
	  "12 KiB in 16 vectors with two CREATEs (the second at ID index 64) and an existing handle",
	  s_large_setup, send_call, send_ok, send_fail, false },
	{ "send-multicast", CMD_SEND,
	  "20 KiB in 16 vectors to three peers (one of another UID), existing handle + CREATE",
	  s_multicast_setup, send_call, send_ok, send_fail, false },
	{ "send-create-no-destination", CMD_SEND,
	  "two CREATE transfers, no destination, sender of a fresh UID",
	  s_nodest_setup, send_call, send_ok, send_fail, false },
	{ "send-foreign-uid", CMD_SEND,
	  "a sender of another UID, carrying a handle",
	  s_foreign_setup, send_call, send_ok, send_fail, false },
	{ "recv-handles", CMD_RECV,
	  "a message with three handles (IDs 127, 129, 131: new xarray nodes) into 16 vectors",
	  v_handles_setup, recv_call, v_handles_check, v_handles_fail, false },
	{ "recv-node-release", CMD_RECV,
	  "a NODE_RELEASE notification",
	  v_node_release_setup, recv_call, v_node_release_ok, NULL, false },
	{ "recv-handle-release", CMD_RECV,
	  "a HANDLE_RELEASE notification",
	  v_handle_release_setup, recv_call, v_handle_release_ok, NULL, false },
	{ "recv-stale", CMD_RECV,
	  "a stale message carrying a last handle is discarded before a message with a handle",
	  v_stale_setup, recv_call, v_stale_check, v_stale_fail, false },
	{ "close-rich", CMD_CLOSE,
	  "close of a peer with nodes, handles, queued notifications and messages",
	  close_setup, close_call, close_ok, NULL, false },
};

const unsigned int n_scenarios = sizeof(scenarios) / sizeof(scenarios[0]);
