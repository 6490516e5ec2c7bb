// SPDX-License-Identifier: GPL-2.0
/*
 * IDs: one counter per peer shared by nodes and handles, (counter << 1) | 1
 * in the allocation order of TRANSFER, SEND and RECV; never reused; burned
 * by failed calls; even IDs and BUS1_INVALID never valid; typed lookup.
 */
#include "kselftest_harness.h"
#include "util1.h"

static const struct bus1_transfer create = {
	BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID
};

TEST(create_to_self_gives_node_1_and_handle_3)
{
	struct bus1_transfer src = create, dst = { 5, 5 };
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, t_transfer(fd, BUS1_INVALID, 1, &src, &dst));
	EXPECT_EQ(0, src.flags);
	EXPECT_EQ(1, src.id);
	EXPECT_EQ(0, dst.flags);
	EXPECT_EQ(3, dst.id);
}

TEST(create_to_other_peer_gives_node_1_and_handle_1)
{
	struct bus1_transfer src = create, dst = { 5, 5 };
	int a, b;

	a = t_open();
	b = t_open();
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, t_transfer(a, b, 1, &src, &dst));
	EXPECT_EQ(0, src.flags);
	EXPECT_EQ(1, src.id);
	EXPECT_EQ(0, dst.flags);
	EXPECT_EQ(1, dst.id);
}

TEST(two_creates_to_self_interleave_node_and_handle_ids)
{
	struct bus1_transfer src[2] = { create, create }, dst[2];
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, t_transfer(fd, BUS1_INVALID, 2, src, dst));
	EXPECT_EQ(1, src[0].id);
	EXPECT_EQ(3, dst[0].id);
	EXPECT_EQ(5, src[1].id);
	EXPECT_EQ(7, dst[1].id);
}

struct idlog {
	uint64_t v[32];
	unsigned int n;
};

static void idlog_add(struct idlog *l, uint64_t id)
{
	if (l->n < U_ARRAY_SIZE(l->v))
		l->v[l->n++] = id;
}

/*
 * TRANSFER, SEND with a CREATE transfer, RECV with transfers and a failed
 * TRANSFER interleaved on two peers: every ID is odd and larger than the
 * previous one of the same peer, and each is exactly the predicted one.
 */
TEST(ids_are_odd_and_increasing_across_all_commands)
{
	/* 13 is burned in both peers by the failed TRANSFER. */
	static const uint64_t want[] = { 1, 3, 5, 7, 9, 11, 15, 17 };
	struct bus1_transfer src[2] = { create, create }, dst[2];
	struct bus1_transfer tr[2];
	struct idlog la = { 0 }, lb = { 0 };
	struct t_msg m;
	unsigned int i;
	int a, b;

	a = t_open();
	b = t_open();
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);

	/* a: nodes 1, 3; b: handles 1, 3. */
	ASSERT_EQ(0, t_transfer(a, b, 2, src, dst));
	idlog_add(&la, src[0].id);
	idlog_add(&la, src[1].id);
	idlog_add(&lb, dst[0].id);
	idlog_add(&lb, dst[1].id);

	/* b: node 5, handle 7. */
	src[0] = create;
	ASSERT_EQ(0, t_transfer(b, BUS1_INVALID, 1, src, dst));
	idlog_add(&lb, src[0].id);
	idlog_add(&lb, dst[0].id);

	/* b sends its handle 7 plus a new node (9) to a's node 1. */
	tr[0] = (struct bus1_transfer){ 0, dst[0].id };
	tr[1] = create;
	ASSERT_EQ(0, u_send_tr(b, 1, "x", 1, 2, tr));
	idlog_add(&lb, tr[1].id);

	/* a receives: the two carried handles get 5 and 7. */
	ASSERT_EQ(0, t_recv(a, &m));
	ASSERT_EQ(2, m.msg.n_transfers);
	EXPECT_EQ(1, m.meta.id);
	idlog_add(&la, m.tr[0].id);
	idlog_add(&la, m.tr[1].id);

	/* a passes its handle to b's node 9 back to b: b gets 11. */
	src[0] = (struct bus1_transfer){ 0, m.tr[1].id };
	ASSERT_EQ(0, t_transfer(a, b, 1, src, dst));
	idlog_add(&lb, dst[0].id);

	/* a: node 9, handle 11. */
	src[0] = create;
	ASSERT_EQ(0, t_transfer(a, BUS1_INVALID, 1, src, dst));
	idlog_add(&la, src[0].id);
	idlog_add(&la, dst[0].id);

	/* A failing TRANSFER b -> a burns b's 13 and a's 13. */
	src[0] = create;
	src[1] = (struct bus1_transfer){ 0, 1001 };
	ASSERT_EQ(-EBADRQC, t_transfer(b, a, 2, src, dst));
	EXPECT_EQ(13, src[0].id);
	EXPECT_EQ(13, dst[0].id);

	/* Both continue after the gap. */
	src[0] = create;
	ASSERT_EQ(0, t_transfer(a, BUS1_INVALID, 1, src, dst));
	idlog_add(&la, src[0].id);
	idlog_add(&la, dst[0].id);
	src[0] = create;
	ASSERT_EQ(0, t_transfer(b, BUS1_INVALID, 1, src, dst));
	idlog_add(&lb, src[0].id);
	idlog_add(&lb, dst[0].id);

	for (i = 0; i < la.n; i++) {
		EXPECT_EQ(1, la.v[i] & 1);
		if (i) {
			EXPECT_LT(la.v[i - 1], la.v[i]);
		}
	}
	for (i = 0; i < lb.n; i++) {
		EXPECT_EQ(1, lb.v[i] & 1);
		if (i) {
			EXPECT_LT(lb.v[i - 1], lb.v[i]);
		}
	}
	/* a: nodes 1 3 | received 5 7 | node 9 handle 11 | 15 17 */
	ASSERT_EQ(U_ARRAY_SIZE(want), la.n);
	for (i = 0; i < la.n; i++) {
		EXPECT_EQ(want[i], la.v[i]);
	}
	/* b: handles 1 3 | node 5 handle 7 | CREATE node 9 | handle 11 | 15 17 */
	ASSERT_EQ(U_ARRAY_SIZE(want), lb.n);
	for (i = 0; i < lb.n; i++) {
		EXPECT_EQ(want[i], lb.v[i]);
	}
}

TEST(released_ids_are_never_reused)
{
	uint64_t node, handle;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
	ASSERT_EQ(0, t_release(fd, 2, (uint64_t[]){ node, handle }));
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
	EXPECT_EQ(5, node);
	EXPECT_EQ(7, handle);
	EXPECT_EQ(-EBADRQC, t_release1(fd, 1));
	EXPECT_EQ(-EBADRQC, t_release1(fd, 3));
}

/* IDs retired by HANDLE_RELEASE (node) and NODE_RELEASE (handle). */
TEST(retired_ids_are_never_reused)
{
	uint64_t node, handle;
	struct t_msg m;
	int o, h;

	o = t_open();
	h = t_open();
	ASSERT_GE(o, 0);
	ASSERT_GE(h, 0);

	/* o's node 1 is retired by its HANDLE_RELEASE. */
	ASSERT_EQ(0, t_node(o, h, &node, &handle));
	ASSERT_EQ(1, node);
	ASSERT_EQ(1, handle);
	ASSERT_EQ(0, t_release1(h, handle));
	ASSERT_EQ(0, t_recv(o, &m));
	ASSERT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);
	ASSERT_EQ(1, m.meta.id);
	EXPECT_EQ(-EBADRQC, t_release1(o, 1));

	/* Next: o's node 3, h's handle 3 (h's 1 was released). */
	ASSERT_EQ(0, t_node(o, h, &node, &handle));
	EXPECT_EQ(3, node);
	EXPECT_EQ(3, handle);

	/* h's handle 3 is retired by its NODE_RELEASE. */
	ASSERT_EQ(0, t_release1(o, node));
	ASSERT_EQ(0, t_recv(h, &m));
	ASSERT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
	ASSERT_EQ(3, m.meta.id);
	EXPECT_EQ(-EBADRQC, t_release1(h, 3));

	ASSERT_EQ(0, t_node(o, h, &node, &handle));
	EXPECT_EQ(5, node);
	EXPECT_EQ(5, handle);
}

/* Failed TRANSFER and SEND burn the IDs they allocated. */
TEST(failed_calls_burn_ids)
{
	struct bus1_transfer src[2] = { create, { 0, 1001 } }, dst[2];
	struct bus1_transfer tr = create;
	uint64_t node, handle, bad = 2001;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(-EBADRQC, t_transfer(fd, BUS1_INVALID, 2, src, dst));
	/* Written with IDs that name nothing. */
	EXPECT_EQ(1, src[0].id);
	EXPECT_EQ(3, dst[0].id);
	EXPECT_EQ(-EBADRQC, t_release1(fd, 1));
	EXPECT_EQ(-EBADRQC, t_release1(fd, 3));

	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
	EXPECT_EQ(5, node);
	EXPECT_EQ(7, handle);

	/* SEND with a CREATE transfer to an unknown destination burns 9. */
	ASSERT_EQ(-EBADRQC, u_send_tr(fd, bad, "", 0, 1, &tr));
	EXPECT_EQ(BUS1_INVALID, tr.id);
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
	EXPECT_EQ(11, node);
	EXPECT_EQ(13, handle);
	EXPECT_EQ(-EBADRQC, t_release1(fd, 9));
}

/* 0, 2 and BUS1_INVALID are EBADRQC wherever an ID is looked up. */
TEST(reserved_ids_are_ebadrqc_everywhere)
{
	static const uint64_t bad[] = { 0, 2, 4, BUS1_INVALID, BUS1_INVALID - 1 };
	uint64_t node, handle;
	unsigned int i;
	struct t_msg m;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));

	for (i = 0; i < U_ARRAY_SIZE(bad); i++) {
		struct bus1_transfer src = { 0, bad[i] }, dst;
		struct bus1_transfer tr = { 0, bad[i] };

		EXPECT_EQ(-EBADRQC, t_transfer(fd, BUS1_INVALID, 1, &src, &dst))
			TH_LOG("id %#llx", (unsigned long long)bad[i]);
		EXPECT_EQ(-EBADRQC, t_send1(fd, bad[i], "x", 1));
		EXPECT_EQ(-EBADRQC, u_send_tr(fd, handle, "x", 1, 1, &tr));
		EXPECT_EQ(-EBADRQC, t_release1(fd, bad[i]));
	}
	/* Nothing delivered, nothing allocated. */
	EXPECT_EQ(-EAGAIN, t_recv(fd, &m));
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
	EXPECT_EQ(5, node);
	EXPECT_EQ(7, handle);
}

/* Where a handle is required, a node ID counts as unknown. */
TEST(node_id_is_ebadrqc_where_a_handle_is_required)
{
	struct bus1_transfer src, dst, tr;
	uint64_t node, handle;
	struct t_msg m;
	int fd, other;

	fd = t_open();
	other = t_open();
	ASSERT_GE(fd, 0);
	ASSERT_GE(other, 0);
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));

	src = (struct bus1_transfer){ 0, node };
	EXPECT_EQ(-EBADRQC, t_transfer(fd, BUS1_INVALID, 1, &src, &dst));
	EXPECT_EQ(-EBADRQC, t_transfer(fd, other, 1, &src, &dst));
	EXPECT_EQ(-EBADRQC, t_send1(fd, node, "x", 1));
	tr = (struct bus1_transfer){ 0, node };
	EXPECT_EQ(-EBADRQC, u_send_tr(fd, handle, "x", 1, 1, &tr));
	EXPECT_EQ(-EAGAIN, t_recv(fd, &m));
	EXPECT_EQ(-EAGAIN, t_recv(other, &m));
}

TEST(release_accepts_node_ids)
{
	uint64_t node, handle, type, id;
	struct t_msg m;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
	ASSERT_EQ(0, t_release1(fd, node));
	/* The owner's own handle gets the NODE_RELEASE. */
	ASSERT_EQ(0, t_recv(fd, &m));
	type = m.msg.type;
	id = m.meta.id;
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, type);
	EXPECT_EQ(handle, id);
	EXPECT_EQ(-EBADRQC, t_release1(fd, node));
}

/* The same number in another peer names nothing. */
TEST(ids_are_per_peer)
{
	struct bus1_transfer src, dst;
	uint64_t node, handle;
	struct t_msg m;
	int a, b;

	a = t_open();
	b = t_open();
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, t_node(a, -1, &node, &handle));

	src = (struct bus1_transfer){ 0, handle };
	EXPECT_EQ(-EBADRQC, t_transfer(b, a, 1, &src, &dst));
	EXPECT_EQ(-EBADRQC, t_send1(b, handle, "x", 1));
	EXPECT_EQ(-EBADRQC, t_release1(b, node));
	EXPECT_EQ(-EBADRQC, t_release1(b, handle));

	/* b's own 1 and 3 are unrelated to a's. */
	ASSERT_EQ(0, t_node(b, -1, &node, &handle));
	EXPECT_EQ(1, node);
	EXPECT_EQ(3, handle);
	ASSERT_EQ(0, t_send1(b, handle, "b", 1));
	EXPECT_EQ(-EAGAIN, t_recv(a, &m));
	ASSERT_EQ(0, t_recv(b, &m));
	EXPECT_EQ(1, m.meta.id);
}

TEST_HARNESS_MAIN
