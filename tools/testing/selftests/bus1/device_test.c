// SPDX-License-Identifier: GPL-2.0
/*
 * The device and its file operations: the node, open modes, peers versus
 * descriptors (dup, fork, SCM_RIGHTS), unknown ioctls, the refused
 * read/write/mmap/lseek, poll and epoll, module unload while busy, and the
 * isolation of a second instance (bus1x).
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "kselftest_harness.h"
#include "util1.h"

static int recv_one(int fd, uint64_t *type, uint64_t *id)
{
	struct t_msg m;
	int r = t_recv(fd, &m);

	if (!r) {
		*type = m.msg.type;
		*id = m.meta.id;
	}
	return r;
}

TEST(device_node_is_misc_char_device_with_mode_0666)
{
	struct stat st;

	ASSERT_EQ(0, stat(BUS1_DEVICE, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10, major(st.st_rdev));
	EXPECT_EQ(0666, st.st_mode & 07777);
}

/* O_RDONLY, O_WRONLY, O_RDWR (and O_NONBLOCK) all give a complete peer. */
TEST(every_open_mode_gives_a_working_peer)
{
	static const int modes[] = {
		O_RDONLY, O_WRONLY, O_RDWR, O_RDWR | O_NONBLOCK,
	};
	unsigned int i;

	for (i = 0; i < U_ARRAY_SIZE(modes); i++) {
		uint64_t node, handle;
		struct t_msg m;
		int fd;

		fd = open(BUS1_DEVICE, modes[i] | O_CLOEXEC);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
		EXPECT_EQ(1, node);
		EXPECT_EQ(3, handle);
		ASSERT_EQ(0, t_send1(fd, handle, "m", 1));
		ASSERT_EQ(0, t_recv(fd, &m));
		EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, m.msg.type);
		EXPECT_EQ(node, m.meta.id);
		EXPECT_EQ(1, m.msg.n_data);
		EXPECT_EQ('m', m.data[0]);
		EXPECT_EQ(0, t_release(fd, 2, (uint64_t[]){ node, handle }));
		close(fd);
	}
}

TEST(separate_opens_are_independent_peers)
{
	uint64_t na, ha, nb, hb;
	struct t_msg m;
	int a, b;

	a = t_open();
	b = t_open();
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, t_node(a, -1, &na, &ha));
	ASSERT_EQ(0, t_node(b, -1, &nb, &hb));
	/* Each peer has its own counter. */
	EXPECT_EQ(1, na);
	EXPECT_EQ(3, ha);
	EXPECT_EQ(1, nb);
	EXPECT_EQ(3, hb);

	/* ... its own queue ... */
	ASSERT_EQ(0, t_send1(a, ha, "a", 1));
	EXPECT_EQ(-EAGAIN, t_recv(b, &m));
	ASSERT_EQ(0, t_recv(a, &m));
	EXPECT_EQ('a', m.data[0]);

	/* ... and its own table. */
	ASSERT_EQ(0, t_release1(b, nb));
	ASSERT_EQ(0, t_send1(a, ha, "b", 1));
	ASSERT_EQ(0, t_recv(a, &m));
	EXPECT_EQ(na, m.meta.id);
	EXPECT_EQ('b', m.data[0]);
}

/* TRANSFER to a dup of the caller's fd is TRANSFER to self: one counter. */
TEST(dup_fd_is_the_same_peer)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst = { 0, 0 };
	struct t_msg m;
	int a, a2;

	a = t_open();
	ASSERT_GE(a, 0);
	a2 = dup(a);
	ASSERT_GE(a2, 0);

	ASSERT_EQ(0, t_transfer(a, a2, 1, &src, &dst));
	EXPECT_EQ(1, src.id);
	EXPECT_EQ(3, dst.id);

	/* The same fd number as @to is also the caller itself. */
	src = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	ASSERT_EQ(0, t_transfer(a2, a, 1, &src, &dst));
	EXPECT_EQ(5, src.id);
	EXPECT_EQ(7, dst.id);
	src = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	ASSERT_EQ(0, t_transfer(a, a, 1, &src, &dst));
	EXPECT_EQ(9, src.id);
	EXPECT_EQ(11, dst.id);

	/* Objects are reachable through either descriptor. */
	ASSERT_EQ(0, t_send1(a2, 3, "x", 1));
	ASSERT_EQ(0, t_recv(a, &m));
	EXPECT_EQ(1, m.meta.id);
	ASSERT_EQ(0, t_release1(a2, 1));
	EXPECT_EQ(-EBADRQC, t_release1(a, 1));
}

/*
 * A forked child shares the peer: it allocates from the same counter, and
 * its close of its copy of the fd releases nothing.
 */
TEST(fork_shared_peer_survives_closing_one_copy)
{
	uint64_t node, handle, type, id;
	struct t_msg m;
	pid_t pid;
	int p, h;

	p = t_open();
	h = t_open();
	ASSERT_GE(p, 0);
	ASSERT_GE(h, 0);
	ASSERT_EQ(0, t_node(p, h, &node, &handle));
	ASSERT_EQ(1, node);
	ASSERT_EQ(1, handle);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		uint64_t n2, h2;

		if (t_node(p, -1, &n2, &h2) || n2 != 3 || h2 != 5)
			_exit(1);
		close(p);
		_exit(0);
	}
	ASSERT_EQ(0, u_wait(pid));

	/* The child's node is in the shared peer; no NODE_RELEASE for h. */
	EXPECT_EQ(-EAGAIN, t_recv(h, &m));
	ASSERT_EQ(0, t_send1(h, handle, "alive", 5));
	ASSERT_EQ(0, t_recv(p, &m));
	EXPECT_EQ(node, m.meta.id);
	EXPECT_EQ(0, t_release(p, 2, (uint64_t[]){ 3, 5 }));

	/* Closing the last copy closes the peer. */
	close(p);
	ASSERT_EQ(0, recv_one(h, &type, &id));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, type);
	EXPECT_EQ(handle, id);
	EXPECT_EQ(-EAGAIN, t_recv(h, &m));
}

static int pass_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "f", 1 };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int take_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

TEST(scm_rights_shared_peer_survives_closing_one_copy)
{
	uint64_t node, handle, type, id;
	struct t_msg m;
	int p, p2, h, sv[2];

	p = t_open();
	h = t_open();
	ASSERT_GE(p, 0);
	ASSERT_GE(h, 0);
	ASSERT_EQ(0, t_node(p, h, &node, &handle));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pass_fd(sv[0], p));
	p2 = take_fd(sv[1]);
	ASSERT_GE(p2, 0);
	ASSERT_NE(p, p2);

	close(p);
	EXPECT_EQ(-EAGAIN, t_recv(h, &m));
	ASSERT_EQ(0, t_send1(h, handle, "via scm", 7));
	ASSERT_EQ(0, t_recv(p2, &m));
	EXPECT_EQ(node, m.meta.id);
	EXPECT_EQ(7, m.msg.n_data);

	close(p2);
	ASSERT_EQ(0, recv_one(h, &type, &id));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, type);
	EXPECT_EQ(handle, id);
}

/*
 * Every command word other than the four exact ones is ENOTTY, even with an
 * argument that would be a valid CREATE transfer; nothing is created.
 */
TEST(unknown_command_words_are_enotty)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst = { 0, 0 };
	struct bus1_cmd_transfer arg[2];
	const unsigned long words[] = {
		_IOWR(0x97, 4, struct bus1_cmd_transfer),
		_IOWR(0x97, 0xff, struct bus1_cmd_transfer),
		_IOWR(0x97, 0, struct bus1_cmd_release),
		_IOWR(0x97, 0, char[41]),
		_IOWR(0x97, 0, char[48]),
		_IOWR(0x97, 1, struct bus1_cmd_transfer),
		_IOWR(0x97, 2, struct bus1_cmd_recv),
		_IOWR(0x97, 3, struct bus1_cmd_send),
		_IOR(0x97, 0, struct bus1_cmd_transfer),
		_IOW(0x97, 0, struct bus1_cmd_transfer),
		_IO(0x97, 0),
		_IOR(0x97, 3, struct bus1_cmd_recv),
		_IOWR(0x98, 0, struct bus1_cmd_transfer),
		_IOWR(0x00, 0, struct bus1_cmd_transfer),
		_IOWR(0x97 ^ 0x80, 1, struct bus1_cmd_release),
		0,
	};
	uint64_t node, handle;
	unsigned int i;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	for (i = 0; i < U_ARRAY_SIZE(words); i++) {
		arg[0] = (struct bus1_cmd_transfer){
			.to = BUS1_INVALID,
			.n_transfers = 1,
			.ptr_src = BUS1_FROM_PTR(&src),
			.ptr_dst = BUS1_FROM_PTR(&dst),
		};
		arg[1] = arg[0];
		EXPECT_EQ(-ENOTTY, t_ioctl(fd, words[i], arg))
			TH_LOG("command word 0x%lx", words[i]);
	}
	EXPECT_EQ(BUS1_INVALID, src.id);
	EXPECT_EQ(0, dst.id);
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
	EXPECT_EQ(1, node);
	EXPECT_EQ(3, handle);
}

TEST(read_write_mmap_lseek_are_refused)
{
	char buf[16] = "data";
	uint64_t node;
	void *p;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);

	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, write(fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	p = mmap(NULL, u_page(), PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(ENODEV, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(ESPIPE, errno);

	/* The peer is unaffected. */
	ASSERT_EQ(0, t_node(fd, -1, &node, NULL));
	EXPECT_EQ(1, node);
}

TEST(read_and_write_without_access_mode_are_ebadf)
{
	char buf[4] = "abc";
	int ro, wo;

	ro = open(BUS1_DEVICE, O_RDONLY | O_CLOEXEC);
	wo = open(BUS1_DEVICE, O_WRONLY | O_CLOEXEC);
	ASSERT_GE(ro, 0);
	ASSERT_GE(wo, 0);
	errno = 0;
	EXPECT_EQ(-1, write(ro, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, read(wo, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
}

TEST(o_path_descriptor_is_not_a_peer)
{
	struct bus1_cmd_release rc = { 0 };
	int fd;

	fd = open(BUS1_DEVICE, O_PATH | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADF, t_ioctl(fd, BUS1_CMD_RELEASE, &rc));
}

TEST(fresh_peer_polls_exactly_pollout)
{
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(POLLOUT | POLLWRNORM, u_revents(fd));
}

TEST(pollin_reported_once_send_or_release_returned)
{
	uint64_t node, handle, n2, h2;
	int r, s;

	r = t_open();
	s = t_open();
	ASSERT_GE(r, 0);
	ASSERT_GE(s, 0);
	ASSERT_EQ(0, t_node(r, s, &node, &handle));
	EXPECT_EQ(POLLOUT | POLLWRNORM, u_revents(r));

	ASSERT_EQ(0, t_send1(s, handle, "x", 1));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, u_revents(r));
	/* The sender's own state is unchanged. */
	EXPECT_EQ(POLLOUT | POLLWRNORM, u_revents(s));

	/* A notification queued by RELEASE counts as well. */
	ASSERT_EQ(0, t_node(r, s, &n2, &h2));
	ASSERT_EQ(0, t_release1(r, n2));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, u_revents(s));
}

TEST(pollin_clears_when_queue_is_drained)
{
	uint64_t node, handle;
	struct t_msg m;
	int r, s;

	r = t_open();
	s = t_open();
	ASSERT_GE(r, 0);
	ASSERT_GE(s, 0);
	ASSERT_EQ(0, t_node(r, s, &node, &handle));
	ASSERT_EQ(0, t_send1(s, handle, "1", 1));
	ASSERT_EQ(0, t_send1(s, handle, "2", 1));

	ASSERT_EQ(0, t_recv(r, &m));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, u_revents(r));
	/* Receiving the only remaining entry clears POLLIN at once. */
	ASSERT_EQ(0, t_recv(r, &m));
	EXPECT_EQ(POLLOUT | POLLWRNORM, u_revents(r));
	EXPECT_EQ(-EAGAIN, t_recv(r, &m));
	EXPECT_EQ(POLLOUT | POLLWRNORM, u_revents(r));

	/* And it comes back for the next entry: not a one-shot state. */
	ASSERT_EQ(0, t_send1(s, handle, "3", 1));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, u_revents(r));
}

struct waiter {
	int fd;
	int ep;
	int ret;
	int err;
	unsigned int events;
	volatile int done;
};

static void *poll_waiter(void *arg)
{
	struct waiter *w = arg;
	struct pollfd p = { .fd = w->fd, .events = POLLIN };

	w->ret = poll(&p, 1, 20000);
	w->err = errno;
	w->events = p.revents;
	w->done = 1;
	return NULL;
}

static void *epoll_waiter(void *arg)
{
	struct waiter *w = arg;
	struct epoll_event ev = { 0 };

	w->ret = epoll_wait(w->ep, &ev, 1, 20000);
	w->err = errno;
	w->events = ev.events;
	w->done = 1;
	return NULL;
}

TEST(blocked_poll_and_epoll_are_woken_by_send)
{
	struct waiter wp = { 0 }, we = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t node, handle;
	pthread_t tp, te;
	int r, s, ep;

	r = t_open();
	s = t_open();
	ASSERT_GE(r, 0);
	ASSERT_GE(s, 0);
	ASSERT_EQ(0, t_node(r, s, &node, &handle));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev));

	wp.fd = r;
	we.ep = ep;
	ASSERT_EQ(0, pthread_create(&tp, NULL, poll_waiter, &wp));
	ASSERT_EQ(0, pthread_create(&te, NULL, epoll_waiter, &we));
	u_sleep_ms(300);
	/* Nothing to receive yet: both are still blocked. */
	EXPECT_EQ(0, wp.done);
	EXPECT_EQ(0, we.done);

	ASSERT_EQ(0, t_send1(s, handle, "wake", 4));
	ASSERT_EQ(0, pthread_join(tp, NULL));
	ASSERT_EQ(0, pthread_join(te, NULL));
	EXPECT_EQ(1, wp.ret);
	EXPECT_TRUE(wp.events & POLLIN);
	EXPECT_EQ(1, we.ret);
	EXPECT_TRUE(we.events & EPOLLIN);
}

TEST(edge_triggered_epoll_reports_each_send)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	uint64_t node, handle;
	int r, s, ep;

	r = t_open();
	s = t_open();
	ASSERT_GE(r, 0);
	ASSERT_GE(s, 0);
	ASSERT_EQ(0, t_node(r, s, &node, &handle));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	ASSERT_EQ(0, t_send1(s, handle, "1", 1));
	ev.events = 0;
	EXPECT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	EXPECT_TRUE(ev.events & EPOLLIN);
	/* Edge-triggered: no new edge, no new event. */
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	/* The second SEND is a new edge, though the queue was not empty. */
	ASSERT_EQ(0, t_send1(s, handle, "2", 1));
	ev.events = 0;
	EXPECT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	EXPECT_TRUE(ev.events & EPOLLIN);
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	EXPECT_EQ(2, u_drain(r));
}

/*
 * An open peer pins the module; after the last close (with nodes, handles
 * and a handle-carrying message still queued) it unloads.
 */
TEST(module_unload_fails_while_peer_open_and_succeeds_after_close)
{
	struct bus1_transfer tr = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	uint64_t node, handle, n2, h2;
	int a, b, r;

	r = u_bus1x_load(NULL);
	ASSERT_EQ(0, r) TH_LOG("loading %s: %s", U_BUS1X_KO, strerror(-r));

	a = open(U_BUS1X_DEV, O_RDWR | O_CLOEXEC);
	b = open(U_BUS1X_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, t_node(a, b, &node, &handle));
	ASSERT_EQ(0, t_node(b, a, &n2, &h2));
	ASSERT_EQ(0, u_send_tr(b, handle, "q", 1, 1, &tr));
	close(b);

	r = u_bus1x_unload();
	EXPECT_TRUE(r == -EBUSY || r == -EWOULDBLOCK) TH_LOG("unload: %d", r);
	EXPECT_TRUE(u_bus1x_loaded());
	/* Still fully working. */
	ASSERT_EQ(0, t_node(a, -1, &n2, &h2));

	close(a);
	r = u_bus1x_unload_settled();
	EXPECT_EQ(0, r) TH_LOG("unload after close: %d", r);
	EXPECT_FALSE(u_bus1x_loaded());
}

/* Peers of another instance are foreign: EOPNOTSUPP in both directions. */
TEST(second_instance_peer_is_eopnotsupp_as_transfer_target)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst = { 0, 0 };
	uint64_t node, handle;
	int a, x, r;

	r = u_bus1x_load(NULL);
	ASSERT_EQ(0, r) TH_LOG("loading %s: %s", U_BUS1X_KO, strerror(-r));
	a = t_open();
	x = open(U_BUS1X_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(a, 0);
	ASSERT_GE(x, 0);

	EXPECT_EQ(-EOPNOTSUPP, t_transfer(a, x, 1, &src, &dst));
	EXPECT_EQ(-EOPNOTSUPP, t_transfer(x, a, 1, &src, &dst));
	EXPECT_EQ(-EOPNOTSUPP, t_transfer(a, x, 0, NULL, NULL));
	EXPECT_EQ(-EOPNOTSUPP, t_transfer(x, a, 0, NULL, NULL));
	EXPECT_EQ(BUS1_INVALID, src.id);
	EXPECT_EQ(0, dst.id);

	/* Neither side allocated anything; each works on its own. */
	ASSERT_EQ(0, t_node(a, -1, &node, &handle));
	EXPECT_EQ(1, node);
	EXPECT_EQ(3, handle);
	ASSERT_EQ(0, t_node(x, -1, &node, &handle));
	EXPECT_EQ(1, node);
	EXPECT_EQ(3, handle);

	close(x);
	EXPECT_EQ(0, u_bus1x_unload_settled());
}

TEST_HARNESS_MAIN
