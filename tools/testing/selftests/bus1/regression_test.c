// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests: each reproduces a module bug found during development,
 * named after the behaviour that broke.
 */
#include <poll.h>
#include "kselftest_harness.h"
#include "bus1-util.h"

/*
 * A multicast carries one handle to R1 and R2. R1 releases its node, so its
 * copy is stale and RECV discards it. Discarding must release only R1's
 * copy of the handle: S (whose own handle is gone) must get no
 * HANDLE_RELEASE while R2's copy is still queued, and R2 must receive its
 * message intact. The discard once reused the sender's list link and
 * released the next copy of the multicast too.
 */
TEST(discarding_one_multicast_copy_leaves_the_other_copies)
{
	uint64_t n1, h1, n2, h2, node, self, dst[2];
	struct bus1_transfer tr;
	struct t_msg m;
	int s, r1, r2;

	s = t_open();
	r1 = t_open();
	r2 = t_open();
	ASSERT_GE(s, 0);
	ASSERT_GE(r1, 0);
	ASSERT_GE(r2, 0);
	ASSERT_EQ(0, t_node(r1, s, &n1, &h1));
	ASSERT_EQ(0, t_node(r2, s, &n2, &h2));
	ASSERT_EQ(0, t_node(s, -1, &node, &self));

	dst[0] = h1;
	dst[1] = h2;
	tr = (struct bus1_transfer){ 0, self };
	ASSERT_EQ(0, t_send(s, 2, dst, "x", 1, 1, &tr));
	ASSERT_EQ(0, t_release1(s, self));
	ASSERT_EQ(0, t_release1(r1, n1));

	EXPECT_EQ(-EAGAIN, t_recv(r1, &m));
	/* S held h1, whose node R1 released */
	ASSERT_EQ(0, t_recv(s, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
	EXPECT_EQ(h1, m.meta.id);
	EXPECT_EQ(-EAGAIN, t_recv(s, &m));

	ASSERT_EQ(0, t_recv(r2, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, m.msg.type);
	EXPECT_EQ(n2, m.meta.id);
	EXPECT_EQ(1, m.msg.n_transfers);
	EXPECT_EQ(1, m.msg.n_data);
	EXPECT_EQ('x', m.data[0]);

	/* the last copy of the handle goes: now S learns it */
	ASSERT_EQ(0, t_release1(r2, m.tr[0].id));
	ASSERT_EQ(0, t_recv(s, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);
	EXPECT_EQ(node, m.meta.id);
	EXPECT_EQ(-EAGAIN, t_recv(s, &m));

	close(r2);
	close(r1);
	close(s);
}

/*
 * Same with the receiver closing instead of releasing its node: close
 * drains the copy and releases its handle; the other copy stays intact.
 */
TEST(closing_one_multicast_receiver_leaves_the_other_copies)
{
	uint64_t n1, h1, n2, h2, node, self, dst[2];
	struct bus1_transfer tr;
	struct t_msg m;
	int s, r1, r2;

	s = t_open();
	r1 = t_open();
	r2 = t_open();
	ASSERT_GE(s, 0);
	ASSERT_GE(r1, 0);
	ASSERT_GE(r2, 0);
	ASSERT_EQ(0, t_node(r1, s, &n1, &h1));
	ASSERT_EQ(0, t_node(r2, s, &n2, &h2));
	ASSERT_EQ(0, t_node(s, -1, &node, &self));

	dst[0] = h1;
	dst[1] = h2;
	tr = (struct bus1_transfer){ 0, self };
	ASSERT_EQ(0, t_send(s, 2, dst, "y", 1, 1, &tr));
	ASSERT_EQ(0, t_release1(s, self));
	close(r1);

	ASSERT_EQ(0, t_recv(s, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
	EXPECT_EQ(h1, m.meta.id);
	EXPECT_EQ(-EAGAIN, t_recv(s, &m));

	ASSERT_EQ(0, t_recv(r2, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, m.msg.type);
	EXPECT_EQ(1, m.msg.n_transfers);
	close(r2);
	ASSERT_EQ(0, t_recv(s, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
	EXPECT_EQ(h2, m.meta.id);
	ASSERT_EQ(0, t_recv(s, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);
	EXPECT_EQ(node, m.meta.id);
	EXPECT_EQ(-EAGAIN, t_recv(s, &m));
	close(s);
}

TEST_HARNESS_MAIN
