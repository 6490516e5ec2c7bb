// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Messages through the real module: struct bus1_msg_builder on the sending
 * side, bus1_msg_recv() and the struct bus1_msg accessors on the receiving
 * side.
 */

#include "lib-test.h"

/* Receive exactly one entry on @fd; NULL if there is none or on error. */
static struct bus1_msg *recv1(int fd)
{
	struct bus1_msg *m = NULL;

	return bus1_msg_recv(fd, &m) == 0 ? m : NULL;
}

TEST(builder_new_and_free)
{
	struct bus1_msg_builder *b = NULL;

	EXPECT_EQ(-EINVAL, bus1_msg_builder_new(NULL));
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_NE(NULL, b);
	EXPECT_NULL(bus1_msg_builder_free(b));
	EXPECT_NULL(bus1_msg_builder_free(NULL));
	bus1_msg_builder_reset(NULL);
}

TEST(builder_rejects_bad_arguments)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	uint64_t dest = 1;

	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	EXPECT_EQ(-EINVAL, bus1_msg_builder_add_data(NULL, "x", 1));
	EXPECT_EQ(-EINVAL, bus1_msg_builder_add_data(b, NULL, 1));
	EXPECT_EQ(0, bus1_msg_builder_add_data(b, NULL, 0));
	EXPECT_EQ(-EINVAL, bus1_msg_builder_add_data_ref(b, NULL, 1));
	EXPECT_EQ(-EINVAL, bus1_msg_builder_add_handle(NULL, 1));
	EXPECT_EQ(-EINVAL, bus1_msg_builder_add_node(NULL, NULL));
	EXPECT_EQ(-EINVAL, bus1_msg_builder_send(NULL, 0, 1, &dest));
	EXPECT_EQ(-EINVAL, bus1_msg_builder_send(b, 0, 1, NULL));
	/* not a peer */
	EXPECT_EQ(-EBADF, bus1_msg_builder_send(b, -1, 1, &dest));
}

TEST_F(peers, builder_concatenates_copies_and_references)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL;
	char copied[] = "copied ", ref[] = "referenced", tail[] = "!";
	uint64_t node, h;
	const char *data;
	size_t size;

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &h));
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_data(b, copied, strlen(copied)));
	ASSERT_EQ(0, bus1_msg_builder_add_data_ref(b, ref, strlen(ref)));
	ASSERT_EQ(0, bus1_msg_builder_add_data(b, tail, 1));

	/* a copy is taken at once, a reference is read at send time */
	copied[0] = 'C';
	ref[0] = 'R';
	tail[0] = '?';
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));

	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, bus1_msg_get_type(m));
	EXPECT_EQ(node, bus1_msg_get_id(m));
	EXPECT_EQ(geteuid(), bus1_msg_get_account(m));
	data = bus1_msg_get_data(m, &size);
	EXPECT_EQ(18, size);
	EXPECT_STREQ("copied Referenced!", data);	/* NUL-terminated */
	EXPECT_EQ(0, bus1_msg_get_n_handles(m));
}

TEST_F(peers, builder_can_be_sent_again_and_reset)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	struct bus1_msg *m;
	uint64_t node, h;
	size_t size;

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &h));
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_data(b, "abc", 3));
	ASSERT_EQ(0, bus1_msg_builder_add_handle(b, h));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));

	for (int i = 0; i < 2; ++i) {
		m = recv1(self->a);
		ASSERT_NE(NULL, m);
		EXPECT_STREQ("abc", bus1_msg_get_data(m, NULL));
		EXPECT_EQ(1, bus1_msg_get_n_handles(m));
		bus1_msg_free(m);
	}

	bus1_msg_builder_reset(b);
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));
	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	bus1_msg_get_data(m, &size);
	EXPECT_EQ(0, size);
	EXPECT_EQ(0, bus1_msg_get_n_handles(m));
	bus1_msg_free(m);
}

TEST_F(peers, builder_transfers_handles)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL, *m2 = NULL;
	uint64_t node_c, hc_in_b, node_a, ha_in_b, got;

	/* b holds handles to a node of a and to a node of c */
	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node_a, &ha_in_b));
	ASSERT_EQ(0, bus1_node_create(self->c, self->b, &node_c, &hc_in_b));

	/* b gives a a handle to c's node */
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_handle(b, hc_in_b));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &ha_in_b));

	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	ASSERT_EQ(1, bus1_msg_get_n_handles(m));
	got = bus1_msg_get_handle(m, 0);
	EXPECT_EQ(1, got & BUS1_MANAGED);
	EXPECT_NE(BUS1_INVALID, got);
	EXPECT_EQ(BUS1_INVALID, bus1_msg_get_handle(m, 1));

	/* a can now reach c */
	ASSERT_EQ(0, t_send_str(self->a, got, "to c"));
	m2 = recv1(self->c);
	ASSERT_NE(NULL, m2);
	EXPECT_EQ(node_c, bus1_msg_get_id(m2));
	EXPECT_STREQ("to c", bus1_msg_get_data(m2, NULL));
}

TEST_F(peers, builder_add_node_reports_the_new_node)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	_cleanup_bus1_msg_ struct bus1_msg *req = NULL, *reply = NULL;
	uint64_t node, h, reply_node = 0, second = 0, bad = 12;

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &h));
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_data(b, "ping", 4));
	ASSERT_EQ(0, bus1_msg_builder_add_node(b, &reply_node));

	/* a failed send leaves the output alone */
	EXPECT_EQ(-EBADRQC, bus1_msg_builder_send(b, self->b, 1, &bad));
	EXPECT_EQ(0, reply_node);

	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));
	EXPECT_EQ(1, reply_node & BUS1_MANAGED);
	EXPECT_NE(BUS1_INVALID, reply_node);

	/* a replies through the handle it got; b receives on the new node */
	req = recv1(self->a);
	ASSERT_NE(NULL, req);
	ASSERT_EQ(1, bus1_msg_get_n_handles(req));
	ASSERT_EQ(0, t_send_str(self->a, bus1_msg_get_handle(req, 0), "pong"));
	reply = recv1(self->b);
	ASSERT_NE(NULL, reply);
	EXPECT_EQ(reply_node, bus1_msg_get_id(reply));
	EXPECT_STREQ("pong", bus1_msg_get_data(reply, NULL));

	/* every send creates a new node */
	ASSERT_EQ(0, bus1_msg_builder_add_node(b, &second));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 0, NULL));
	EXPECT_GT(second, reply_node);
	EXPECT_EQ(1, second & BUS1_MANAGED);
	/* with no destination the node has no handle: release it explicitly */
	EXPECT_EQ(0, bus1_cmd_release(self->b, 1, &second));
}

TEST_F(peers, builder_multicasts_to_many_destinations)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	struct bus1_transfer src[40], dst[40];
	uint64_t dests[40];
	struct bus1_msg *m;
	int i;

	/* 40 nodes of a, one handle each in b */
	for (i = 0; i < 40; ++i)
		src[i] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
						 BUS1_INVALID };
	ASSERT_EQ(0, bus1_cmd_transfer(0, self->a, self->b, 40, src, dst));
	for (i = 0; i < 40; ++i)
		dests[i] = dst[i].id;

	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_data(b, "all", 3));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 40, dests));

	/* copies arrive in destination order */
	for (i = 0; i < 40; ++i) {
		m = recv1(self->a);
		ASSERT_NE(NULL, m);
		EXPECT_EQ(src[i].id, bus1_msg_get_id(m));
		EXPECT_STREQ("all", bus1_msg_get_data(m, NULL));
		bus1_msg_free(m);
	}
	EXPECT_EQ(NULL, recv1(self->a));
}

TEST_F(peers, builder_many_segments)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL;
	static char bytes[2 * 1025];
	uint64_t node, h;
	const unsigned char *data;
	size_t size;
	int i;

	for (i = 0; i < (int)sizeof(bytes); ++i)
		bytes[i] = (char)i;

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &h));
	ASSERT_EQ(0, bus1_msg_builder_new(&b));

	/* 1024 separate references (every second byte): 1024 iovecs */
	for (i = 0; i < 1024; ++i)
		ASSERT_EQ(0, bus1_msg_builder_add_data_ref(b, &bytes[2 * i], 1));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));
	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	data = bus1_msg_get_data(m, &size);
	ASSERT_EQ(1024, size);
	for (i = 0; i < 1024; ++i)
		ASSERT_EQ((unsigned char)(2 * i), data[i]);

	/* one more is beyond what the kernel accepts */
	ASSERT_EQ(0, bus1_msg_builder_add_data_ref(b, &bytes[2 * 1024], 1));
	EXPECT_EQ(-EINVAL, bus1_msg_builder_send(b, self->b, 1, &h));

	/* contiguous copies share one iovec, so 5000 of them are fine */
	bus1_msg_builder_reset(b);
	for (i = 0; i < 5000; ++i)
		ASSERT_EQ(0, bus1_msg_builder_add_data(b, &bytes[i % 2000], 1));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));
	bus1_msg_free(m);
	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	data = bus1_msg_get_data(m, &size);
	ASSERT_EQ(5000, size);
	for (i = 0; i < 5000; ++i)
		ASSERT_EQ((unsigned char)(i % 2000), data[i]);
}

TEST_F(peers, recv_grows_for_large_messages)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL;
	const size_t big = 3 * 1024 * 1024 + 17;
	unsigned char *buf = malloc(big);
	const unsigned char *data;
	uint64_t node, h, ids[20];
	size_t size, i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < big; ++i)
		buf[i] = (unsigned char)(i * 7);

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node, &h));
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_data_ref(b, buf, big));
	for (i = 0; i < 20; ++i)
		ASSERT_EQ(0, bus1_msg_builder_add_handle(b, h));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));

	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	data = bus1_msg_get_data(m, &size);
	ASSERT_EQ(big, size);
	EXPECT_EQ(0, memcmp(buf, data, big));
	EXPECT_EQ(0, data[big]);
	ASSERT_EQ(20, bus1_msg_get_n_handles(m));
	for (i = 0; i < 20; ++i) {
		ids[i] = bus1_msg_get_handle(m, i);
		EXPECT_TRUE(t_is_handle(self->a, ids[i]));
		if (i)
			EXPECT_LT(ids[i - 1], ids[i]);
	}
	free(buf);

	/* an entry just above the inline buffer, and one just inside it */
	bus1_msg_builder_reset(b);
	ASSERT_EQ(0, bus1_msg_builder_add_data_ref(b, ids, sizeof(ids)));
	for (i = 0; i < 100; ++i)
		ASSERT_EQ(0, bus1_msg_builder_add_data(b, "0123456789abcdefghij", 21));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));
	bus1_msg_builder_reset(b);
	ASSERT_EQ(0, bus1_msg_builder_add_data(b, "tiny", 4));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &h));

	bus1_msg_free(m);
	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	data = bus1_msg_get_data(m, &size);
	ASSERT_EQ(sizeof(ids) + 2100, size);
	EXPECT_EQ(0, memcmp(data, ids, sizeof(ids)));
	bus1_msg_free(m);
	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	EXPECT_STREQ("tiny", bus1_msg_get_data(m, NULL));
}

TEST_F(peers, recv_reports_errors)
{
	struct bus1_msg *m = (struct bus1_msg *)&m;

	EXPECT_EQ(-EINVAL, bus1_msg_recv(self->a, NULL));
	EXPECT_EQ(-EAGAIN, bus1_msg_recv(self->a, &m));
	EXPECT_EQ((struct bus1_msg *)&m, m);	/* untouched on failure */
	EXPECT_EQ(-EBADF, bus1_msg_recv(-1, &m));
}

TEST_F(peers, free_releases_the_handles_not_taken)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	_cleanup_bus1_msg_ struct bus1_msg *n = NULL;
	struct bus1_msg *m;
	uint64_t node_a, ha, node_c1, node_c2, hc1, hc2, kept, dropped;

	/* c owns two nodes; b holds the only handle to each */
	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node_a, &ha));
	ASSERT_EQ(0, bus1_node_create(self->c, self->b, &node_c1, &hc1));
	ASSERT_EQ(0, bus1_node_create(self->c, self->b, &node_c2, &hc2));

	/* b moves both to a */
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_handle(b, hc1));
	ASSERT_EQ(0, bus1_msg_builder_add_handle(b, hc2));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &ha));
	ASSERT_EQ(0, bus1_cmd_release(self->b, 1, &hc1));
	ASSERT_EQ(0, bus1_cmd_release(self->b, 1, &hc2));

	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	kept = bus1_msg_take_handle(m, 0);
	dropped = bus1_msg_get_handle(m, 1);
	EXPECT_NE(BUS1_INVALID, kept);
	EXPECT_EQ(BUS1_INVALID, bus1_msg_get_handle(m, 0));	/* taken */
	EXPECT_EQ(BUS1_INVALID, bus1_msg_take_handle(m, 0));
	EXPECT_EQ(BUS1_INVALID, bus1_msg_take_handle(m, 2));
	EXPECT_EQ(2, bus1_msg_get_n_handles(m));
	EXPECT_FALSE(t_readable(self->c));

	errno = EDOM;
	EXPECT_NULL(bus1_msg_free(m));
	EXPECT_EQ(EDOM, errno);

	/* the dropped handle was the last one to node_c2 */
	EXPECT_FALSE(t_is_handle(self->a, dropped));
	EXPECT_TRUE(t_is_handle(self->a, kept));
	n = recv1(self->c);
	ASSERT_NE(NULL, n);
	EXPECT_TRUE(bus1_msg_is_handle_release(n, NULL));
	EXPECT_EQ(node_c2, bus1_msg_get_id(n));
	EXPECT_EQ(NULL, recv1(self->c));
	EXPECT_NULL(bus1_msg_free(NULL));
}

TEST_F(peers, free_copes_with_handles_released_by_the_caller)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	struct bus1_msg *m, *n;
	uint64_t node_a, ha, nc1, nc2, hc1, hc2, first, got1 = 0, got2 = 0;

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &node_a, &ha));
	ASSERT_EQ(0, bus1_node_create(self->c, self->b, &nc1, &hc1));
	ASSERT_EQ(0, bus1_node_create(self->c, self->b, &nc2, &hc2));
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_handle(b, hc1));
	ASSERT_EQ(0, bus1_msg_builder_add_handle(b, hc2));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->b, 1, &ha));
	ASSERT_EQ(0, bus1_cmd_release(self->b, 1, &hc1));
	ASSERT_EQ(0, bus1_cmd_release(self->b, 1, &hc2));

	m = recv1(self->a);
	ASSERT_NE(NULL, m);
	/* the caller releases one itself without taking it */
	first = bus1_msg_get_handle(m, 0);
	ASSERT_EQ(0, bus1_cmd_release(self->a, 1, &first));
	bus1_msg_free(m);

	/* both nodes lost their last handle anyway */
	for (int i = 0; i < 2; ++i) {
		n = recv1(self->c);
		ASSERT_NE(NULL, n);
		if (bus1_msg_get_id(n) == nc1) {
			EXPECT_TRUE(bus1_msg_is_handle_release(n, &got1));
		} else {
			EXPECT_TRUE(bus1_msg_is_handle_release(n, &got2));
		}
		bus1_msg_free(n);
	}
	EXPECT_EQ(nc1, got1);
	EXPECT_EQ(nc2, got2);
}

TEST_F(peers, notifications_are_typed)
{
	_cleanup_bus1_msg_ struct bus1_msg *nr = NULL, *hr = NULL;
	uint64_t n1, h1, n2, h2, id = 0;
	size_t size = 99;

	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &n1, &h1));
	ASSERT_EQ(0, bus1_node_create(self->a, self->b, &n2, &h2));

	/* a releases n1: b's handle h1 is told */
	ASSERT_EQ(0, bus1_cmd_release(self->a, 1, &n1));
	nr = recv1(self->b);
	ASSERT_NE(NULL, nr);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, bus1_msg_get_type(nr));
	EXPECT_TRUE(bus1_msg_is_node_release(nr, &id));
	EXPECT_EQ(h1, id);
	EXPECT_TRUE(bus1_msg_is_node_release(nr, NULL));
	EXPECT_FALSE(bus1_msg_is_handle_release(nr, &id));
	EXPECT_EQ(h1, bus1_msg_get_id(nr));
	EXPECT_EQ(BUS1_INVALID, bus1_msg_get_account(nr));
	EXPECT_EQ(0, bus1_msg_get_n_handles(nr));
	EXPECT_NE(NULL, bus1_msg_get_data(nr, &size));
	EXPECT_EQ(0, size);
	/* receiving it retired the handle */
	EXPECT_EQ(-EBADRQC, bus1_cmd_release(self->b, 1, &h1));

	/* b releases h2: a's node n2 is told */
	ASSERT_EQ(0, bus1_cmd_release(self->b, 1, &h2));
	hr = recv1(self->a);
	ASSERT_NE(NULL, hr);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, bus1_msg_get_type(hr));
	EXPECT_TRUE(bus1_msg_is_handle_release(hr, &id));
	EXPECT_EQ(n2, id);
	EXPECT_FALSE(bus1_msg_is_node_release(hr, NULL));
	EXPECT_EQ(-EBADRQC, bus1_cmd_release(self->a, 1, &n2));

	/* accessors accept NULL */
	EXPECT_EQ(BUS1_INVALID, bus1_msg_get_type(NULL));
	EXPECT_EQ(BUS1_INVALID, bus1_msg_get_id(NULL));
	EXPECT_EQ(BUS1_INVALID, bus1_msg_get_account(NULL));
	EXPECT_EQ(NULL, bus1_msg_get_data(NULL, &size));
	EXPECT_EQ(0, size);
	EXPECT_EQ(0, bus1_msg_get_n_handles(NULL));
	EXPECT_FALSE(bus1_msg_is_node_release(NULL, NULL));
	EXPECT_FALSE(bus1_msg_is_handle_release(NULL, NULL));
}

TEST_HARNESS_MAIN
