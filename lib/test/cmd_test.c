// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The command layer of libbus1 against the real module: bus1_peer_new*(),
 * bus1_peer_closep(), bus1_cmd_*(), bus1_node_create(),
 * bus1_handle_transfer().
 */

#include <sys/stat.h>
#include <sys/syscall.h>
#include "lib-test.h"

TEST(peer_new_opens_a_peer_rdwr_cloexec)
{
	int fd = bus1_peer_new();
	uint64_t node, handle;

	ASSERT_LE(0, fd);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* a fresh peer: its first IDs are 1 and 3 */
	ASSERT_EQ(0, bus1_node_create(fd, -1, &node, &handle));
	EXPECT_EQ(1, node);
	EXPECT_EQ(3, handle);
	close(fd);
}

TEST(peer_new_gives_independent_peers)
{
	int a = bus1_peer_new(), b = bus1_peer_new();
	uint64_t na, nb;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_NE(a, b);
	ASSERT_EQ(0, bus1_node_create(a, -1, &na, NULL));
	ASSERT_EQ(0, bus1_node_create(b, -1, &nb, NULL));
	EXPECT_EQ(1, na);
	EXPECT_EQ(1, nb);
	close(a);
	close(b);
}

TEST(peer_new_honours_bus1_device)
{
	int fd;

	ASSERT_EQ(0, setenv("BUS1_DEVICE", "/nonexistent/bus1", 1));
	EXPECT_EQ(-ENOENT, bus1_peer_new());

	/* empty means "default" */
	ASSERT_EQ(0, setenv("BUS1_DEVICE", "", 1));
	fd = bus1_peer_new();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bus1_node_create(fd, -1, NULL, NULL));
	close(fd);

	ASSERT_EQ(0, setenv("BUS1_DEVICE", BUS1_DEVICE_PATH, 1));
	fd = bus1_peer_new();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bus1_node_create(fd, -1, NULL, NULL));
	close(fd);
}

TEST(peer_new_at_opens_the_given_path)
{
	int fd;

	EXPECT_EQ(-EINVAL, bus1_peer_new_at(NULL));
	EXPECT_EQ(-ENOENT, bus1_peer_new_at("/nonexistent/bus1"));

	fd = bus1_peer_new_at(BUS1_DEVICE_PATH);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, bus1_node_create(fd, -1, NULL, NULL));
	close(fd);

	/* Any file opens; it is just not a peer. */
	fd = bus1_peer_new_at("/dev/null");
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTTY, bus1_node_create(fd, -1, NULL, NULL));
	close(fd);
}

/*
 * A second instance of the module (bus1x.ko) gives a second device. Load it
 * unless it is there already, and unload it again if this test loaded it.
 */
TEST(peer_new_at_reaches_a_second_instance)
{
	const char *module = getenv("BUS1X_MODULE") ?: "/modules/bus1x.ko";
	const char *dev = "/dev/bus1x";
	bool loaded = false;
	int mfd, x, y, p;
	uint64_t node, handle;

	if (access(dev, F_OK) != 0) {
		mfd = open(module, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, mfd) TH_LOG("cannot open %s", module);
		ASSERT_EQ(0, syscall(SYS_finit_module, mfd, "", 0))
			TH_LOG("loading %s: %s", module, strerror(errno));
		close(mfd);
		loaded = true;
	}

	x = bus1_peer_new_at(dev);
	ASSERT_LE(0, x);
	ASSERT_EQ(0, setenv("BUS1_DEVICE", dev, 1));
	y = bus1_peer_new();
	ASSERT_LE(0, y);
	ASSERT_EQ(0, unsetenv("BUS1_DEVICE"));
	p = bus1_peer_new();
	ASSERT_LE(0, p);

	/* x and y are peers of one instance, p of the other one */
	ASSERT_EQ(0, bus1_node_create(x, y, &node, &handle));
	EXPECT_EQ(1, node);
	EXPECT_EQ(1, handle);
	EXPECT_EQ(-EOPNOTSUPP, bus1_node_create(x, p, NULL, NULL));
	EXPECT_EQ(-EOPNOTSUPP, bus1_node_create(p, y, NULL, NULL));
	ASSERT_EQ(0, t_send_str(y, handle, "x"));

	close(x);
	close(y);
	close(p);
	if (loaded)
		EXPECT_EQ(0, syscall(SYS_delete_module, "bus1x", O_NONBLOCK))
			TH_LOG("unloading bus1x: %s", strerror(errno));
}

TEST(peer_closep_closes_and_keeps_errno)
{
	int fd = bus1_peer_new(), copy;

	ASSERT_LE(0, fd);
	copy = fd;
	errno = EDOM;
	bus1_peer_closep(&fd);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EDOM, errno);
	EXPECT_EQ(-1, fcntl(copy, F_GETFD));
	EXPECT_EQ(EBADF, errno);

	/* a negative descriptor is left alone */
	errno = EDOM;
	bus1_peer_closep(&fd);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EDOM, errno);
}

TEST(peer_cleanup_attribute_closes)
{
	int copy;

	{
		_cleanup_bus1_peer_ int fd = bus1_peer_new();

		ASSERT_LE(0, fd);
		copy = fd;
	}
	EXPECT_EQ(-1, fcntl(copy, F_GETFD));
}

TEST_F(peers, transfer_create_to_self_and_to_another_peer)
{
	struct bus1_transfer src[2] = {
		{ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID },
		{ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID },
	};
	struct bus1_transfer dst[3] = { { 7, 7 }, { 7, 7 }, { 7, 7 } };

	/* to == -1 is the caller itself: node, handle, node, handle */
	ASSERT_EQ(0, bus1_cmd_transfer(0, self->a, -1, 2, src, dst));
	EXPECT_EQ(0, src[0].flags);
	EXPECT_EQ(1, src[0].id);
	EXPECT_EQ(0, dst[0].flags);
	EXPECT_EQ(3, dst[0].id);
	EXPECT_EQ(5, src[1].id);
	EXPECT_EQ(7, dst[1].id);
	EXPECT_EQ(7, dst[2].id);	/* beyond n: untouched */

	/* a fresh peer b gets handle 1 to a's new node 9 */
	src[0] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	ASSERT_EQ(0, bus1_cmd_transfer(0, self->a, self->b, 1, src, dst));
	EXPECT_EQ(9, src[0].id);
	EXPECT_EQ(1, dst[0].id);

	/* b can reach a through it */
	ASSERT_EQ(0, t_send(self->b, 1, "hi", 2, 0, NULL));
	EXPECT_TRUE(t_readable(self->a));
}

TEST_F(peers, transfer_reports_errors)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst;
	uint64_t node;
	int closed = dup(self->c);

	ASSERT_LE(0, closed);
	close(closed);

	EXPECT_EQ(-EINVAL, bus1_cmd_transfer(1, self->a, -1, 1, &src, &dst));
	EXPECT_EQ(-EBADF, bus1_cmd_transfer(0, self->a, -2, 1, &src, &dst));
	EXPECT_EQ(-EBADF, bus1_cmd_transfer(0, self->a, closed, 1, &src, &dst));
	src = (struct bus1_transfer){ 0, 12345 };
	EXPECT_EQ(-EBADRQC, bus1_cmd_transfer(0, self->a, -1, 1, &src, &dst));
	EXPECT_EQ(-EBADF, bus1_cmd_transfer(0, closed, -1, 0, NULL, NULL));

	/* nothing was consumed by the failures above: the first ID is 1 */
	EXPECT_EQ(0, bus1_cmd_transfer(0, self->a, -1, 0, NULL, NULL));
	ASSERT_EQ(0, bus1_node_create(self->a, -1, &node, NULL));
	EXPECT_EQ(1, node);
}

TEST_F(peers, transfer_to_a_non_peer_fd_is_eopnotsupp)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, null);
	EXPECT_EQ(-EOPNOTSUPP, bus1_cmd_transfer(0, self->a, null, 1, &src, &dst));
	close(null);
}

TEST_F(peers, release_releases_in_one_call)
{
	uint64_t node, h1, h2, ids[2];
	struct bus1_metadata meta;
	struct bus1_message m = { .type = BUS1_INVALID };

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &h1));
	ASSERT_EQ(0, bus1_handle_transfer(self->b, self->c, h1, &h2));

	EXPECT_EQ(0, bus1_cmd_release(self->a, 0, NULL));
	ids[0] = h1;
	ids[1] = 999;
	EXPECT_EQ(-EBADRQC, bus1_cmd_release(self->b, 2, ids));
	EXPECT_TRUE(t_is_handle(self->b, h1));	/* nothing released */
	EXPECT_EQ(-EFAULT, bus1_cmd_release(self->b, 1, (const uint64_t *)8));
	EXPECT_EQ(-EBADF, bus1_cmd_release(-1, 1, &h1));

	/* the first of two handles: no notification */
	ASSERT_EQ(0, bus1_cmd_release(self->b, 1, &h1));
	EXPECT_EQ(-EBADRQC, bus1_cmd_release(self->b, 1, &h1));
	EXPECT_EQ(-EAGAIN, bus1_cmd_recv(self->a, &meta, &m));

	/* the last one: HANDLE_RELEASE for the node */
	ASSERT_EQ(0, bus1_cmd_release(self->c, 1, &h2));
	m = (struct bus1_message){ .type = BUS1_INVALID };
	ASSERT_EQ(0, bus1_cmd_recv(self->a, &meta, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.type);
	EXPECT_EQ(node, meta.id);
	EXPECT_EQ(BUS1_INVALID, meta.account);
}

TEST_F(peers, send_delivers_and_writes_errors)
{
	char buf[16] = "";
	struct iovec iov[2] = { { "hel", 3 }, { "lo!", 3 } };
	struct iovec riov = { buf, sizeof(buf) };
	uint64_t node, hb, hc, dests[2];
	int32_t errors[3] = { -1, -1, -1 };
	struct bus1_metadata meta;
	struct bus1_message m = {
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_data = 5,
		.n_data_vecs = 2,
		.ptr_data_vecs = BUS1_FROM_PTR(iov),
	};

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &hb));
	ASSERT_EQ(0, bus1_handle_transfer(self->b, self->c, hb, &hc));

	/* one message to two destinations (the same node twice) */
	dests[0] = hb;
	dests[1] = hb;
	ASSERT_EQ(0, bus1_cmd_send(self->b, 2, dests, errors, &m));
	EXPECT_EQ(0, errors[0]);
	EXPECT_EQ(0, errors[1]);
	EXPECT_EQ(-1, errors[2]);

	for (int i = 0; i < 2; ++i) {
		m = (struct bus1_message){
			.type = BUS1_INVALID,
			.n_data = sizeof(buf),
			.n_data_vecs = 1,
			.ptr_data_vecs = BUS1_FROM_PTR(&riov),
		};
		ASSERT_EQ(0, bus1_cmd_recv(self->a, &meta, &m));
		EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, m.type);
		EXPECT_EQ(5, m.n_data);
		EXPECT_EQ(0, memcmp(buf, "hello", 5));
		EXPECT_EQ(node, meta.id);
		EXPECT_EQ(geteuid(), meta.account);
	}

	/* a bad destination fails the whole send */
	errors[0] = -1;
	dests[0] = hb;
	dests[1] = 4242;
	m = (struct bus1_message){ .type = BUS1_MESSAGE_TYPE_USER };
	EXPECT_EQ(-EBADRQC, bus1_cmd_send(self->b, 2, dests, errors, &m));
	EXPECT_EQ(-1, errors[0]);
	EXPECT_FALSE(t_readable(self->a));

	m.flags = 1;
	EXPECT_EQ(-EINVAL, bus1_cmd_send(self->b, 1, dests, errors, &m));
	m = (struct bus1_message){ .type = BUS1_MESSAGE_TYPE_NODE_RELEASE };
	EXPECT_EQ(-EINVAL, bus1_cmd_send(self->b, 1, dests, errors, &m));

	/* no destinations: nothing is sent, errors is not touched */
	m = (struct bus1_message){ .type = BUS1_MESSAGE_TYPE_USER };
	EXPECT_EQ(0, bus1_cmd_send(self->c, 0, NULL, NULL, &m));
	EXPECT_FALSE(t_readable(self->a));
}

TEST_F(peers, send_carries_handles_and_creates_nodes)
{
	uint64_t node, hb, created;
	struct bus1_transfer t[2] = {
		{ 0, 0 },
		{ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID },
	};
	struct bus1_transfer rt[2];
	struct bus1_metadata meta;
	struct bus1_message m = { .type = BUS1_INVALID, .n_transfers = 2,
				  .ptr_transfers = BUS1_FROM_PTR(rt) };

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &hb));
	/* b sends its own handle and a new node of its own to a */
	t[0].id = hb;
	ASSERT_EQ(0, t_send(self->b, hb, NULL, 0, 2, t));
	created = t[1].id;
	EXPECT_EQ(0, t[1].flags);
	EXPECT_EQ(1, created & BUS1_MANAGED);

	ASSERT_EQ(0, bus1_cmd_recv(self->a, &meta, &m));
	EXPECT_EQ(2, m.n_transfers);
	EXPECT_EQ(0, m.n_data);
	/* rt[0]: a handle to a's own node; rt[1]: a handle to b's new node */
	ASSERT_EQ(0, t_send(self->a, rt[1].id, NULL, 0, 0, NULL));
	m = (struct bus1_message){ .type = BUS1_INVALID };
	ASSERT_EQ(0, bus1_cmd_recv(self->b, &meta, &m));
	EXPECT_EQ(created, meta.id);
	ASSERT_EQ(0, t_send(self->a, rt[0].id, NULL, 0, 0, NULL));
	m = (struct bus1_message){ .type = BUS1_INVALID };
	ASSERT_EQ(0, bus1_cmd_recv(self->a, &meta, &m));
	EXPECT_EQ(node, meta.id);
}

TEST_F(peers, recv_reports_eagain_emsgsize_einval)
{
	char small[2], big[64];
	struct iovec iov = { small, sizeof(small) };
	struct bus1_transfer rt[1];
	uint64_t node, hb;
	struct bus1_transfer t = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_metadata meta = { 7, 7, 7 };
	struct bus1_message m = {
		.type = BUS1_INVALID,
		.n_data = sizeof(small),
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&iov),
	};

	EXPECT_EQ(-EAGAIN, bus1_cmd_recv(self->a, &meta, &m));

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &hb));
	ASSERT_EQ(0, t_send(self->b, hb, "0123456789", 10, 1, &t));

	/* too small: the kernel writes back what it needs */
	ASSERT_EQ(-EMSGSIZE, bus1_cmd_recv(self->a, &meta, &m));
	EXPECT_EQ(10, m.n_data);
	EXPECT_EQ(1, m.n_transfers);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, m.type);
	EXPECT_EQ(node, meta.id);

	/* retrying without resetting the type is refused */
	iov = (struct iovec){ big, sizeof(big) };
	m.n_data = sizeof(big);
	m.ptr_transfers = BUS1_FROM_PTR(rt);
	EXPECT_EQ(-EINVAL, bus1_cmd_recv(self->a, &meta, &m));

	m.type = BUS1_INVALID;
	ASSERT_EQ(0, bus1_cmd_recv(self->a, &meta, &m));
	EXPECT_EQ(10, m.n_data);
	EXPECT_EQ(0, memcmp(big, "0123456789", 10));
	EXPECT_EQ(1, m.n_transfers);
	EXPECT_EQ(1, rt[0].id & BUS1_MANAGED);

	m.type = BUS1_INVALID;
	EXPECT_EQ(-EAGAIN, bus1_cmd_recv(self->a, &meta, &m));
}

TEST_F(peers, node_create_and_handle_transfer)
{
	uint64_t node, hb, hc, n2;

	/* holder -1: the owner itself; NULL outputs are allowed */
	ASSERT_EQ(0, bus1_node_create(self->a, -1, &node, &hb));
	EXPECT_EQ(1, node);
	EXPECT_EQ(3, hb);
	ASSERT_EQ(0, bus1_node_create(self->a, -1, NULL, NULL));

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &n2, &hb));
	EXPECT_EQ(9, n2);
	EXPECT_EQ(1, hb);
	ASSERT_EQ(0, bus1_handle_transfer(self->b, self->c, hb, &hc));
	EXPECT_EQ(1, hc);
	ASSERT_EQ(0, bus1_handle_transfer(self->b, -1, hb, NULL));

	/* c's new handle reaches a's node */
	ASSERT_EQ(0, t_send_str(self->c, hc, "via c"));
	EXPECT_TRUE(t_readable(self->a));

	EXPECT_EQ(-EBADRQC, bus1_handle_transfer(self->b, self->c, n2, NULL));
	EXPECT_EQ(-EBADRQC, bus1_handle_transfer(self->a, self->c, node, &hc));
	EXPECT_EQ(-EBADF, bus1_node_create(self->a, -5, NULL, NULL));
}

TEST_HARNESS_MAIN
