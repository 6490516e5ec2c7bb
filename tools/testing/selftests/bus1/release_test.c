// SPDX-License-Identifier: GPL-2.0
/*
 * BUS1_CMD_RELEASE: flags, then the IDs element by element; any bad ID or
 * fault releases nothing; duplicates are released once; released IDs are
 * gone everywhere; pending notifications become stale; no user memory is
 * ever written; the notifications a multi-object release causes.
 */
#include "kselftest_harness.h"
#include "util1.h"

static int release_flags(int fd, uint64_t flags, uint64_t n, const void *ids)
{
	struct bus1_cmd_release cmd = {
		.flags = flags,
		.n_ids = n,
		.ptr_ids = BUS1_FROM_PTR(ids),
	};

	return t_ioctl(fd, BUS1_CMD_RELEASE, &cmd);
}

/* Owner @o with node @n and holder @h with the node's only handle @hd. */
struct pair {
	int o, h;
	uint64_t n, hd;
};

static int pair_init(struct pair *p)
{
	p->o = t_open();
	p->h = t_open();
	if (p->o < 0 || p->h < 0)
		return -1;
	return t_node(p->o, p->h, &p->n, &p->hd);
}

/* The node still exists and @hd still reaches it. */
static bool pair_alive(struct pair *p)
{
	struct t_msg m;

	if (t_send1(p->h, p->hd, "?", 1) || t_recv(p->o, &m))
		return false;
	return m.msg.type == BUS1_MESSAGE_TYPE_USER && m.meta.id == p->n;
}

TEST(nonzero_flags_einval_and_nothing_released)
{
	static const uint64_t flags[] = { 1, 2, 1ULL << 63, ~0ULL };
	struct pair p;
	struct t_msg m;
	unsigned int i;

	ASSERT_EQ(0, pair_init(&p));
	for (i = 0; i < U_ARRAY_SIZE(flags); i++) {
		EXPECT_EQ(-EINVAL, release_flags(p.h, flags[i], 1, &p.hd));
		EXPECT_EQ(-EINVAL, release_flags(p.o, flags[i], 1, &p.n));
	}
	EXPECT_EQ(-EAGAIN, t_recv(p.o, &m));
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));
	EXPECT_TRUE(pair_alive(&p));
}

/* Step 2 (flags) comes before any ID is read or looked up. */
TEST(flags_checked_before_ids)
{
	static const uint64_t bad = 2;
	void *hole;
	int fd;

	fd = t_open();
	hole = u_map_hole();
	ASSERT_GE(fd, 0);
	ASSERT_NE(NULL, hole);
	EXPECT_EQ(-EINVAL, release_flags(fd, 1, 1, hole));
	EXPECT_EQ(-EINVAL, release_flags(fd, 1, 1, &bad));
	EXPECT_EQ(-EINVAL, release_flags(fd, 1, 0, NULL));
}

TEST(unmapped_command_struct_is_efault)
{
	struct bus1_cmd_release *cmd;
	void *hole;
	int fd;

	fd = t_open();
	hole = u_map_hole();
	cmd = u_map_before_hole(sizeof(*cmd) - 8);
	ASSERT_GE(fd, 0);
	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, cmd);
	EXPECT_EQ(-EFAULT, t_ioctl(fd, BUS1_CMD_RELEASE, hole));
	cmd->flags = 0;
	cmd->n_ids = 0;
	EXPECT_EQ(-EFAULT, t_ioctl(fd, BUS1_CMD_RELEASE, cmd));
}

TEST(zero_ids_succeed_without_reading_the_array)
{
	void *hole;
	int fd;

	fd = t_open();
	hole = u_map_hole();
	ASSERT_GE(fd, 0);
	ASSERT_NE(NULL, hole);
	EXPECT_EQ(0, t_release(fd, 0, NULL));
	EXPECT_EQ(0, t_release(fd, 0, hole));
	EXPECT_EQ(0, t_release(fd, 0, (void *)1));
}

/* One bad ID anywhere in the list fails the call; nothing is released. */
TEST(unknown_id_fails_the_whole_call)
{
	static const uint64_t bad[] = { 999, 0, 2, BUS1_INVALID, 5 };
	struct pair p;
	struct t_msg m;
	unsigned int i;

	ASSERT_EQ(0, pair_init(&p));
	for (i = 0; i < U_ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EBADRQC, t_release(p.h, 2, (uint64_t[]){ p.hd, bad[i] }));
		EXPECT_EQ(-EBADRQC, t_release(p.h, 2, (uint64_t[]){ bad[i], p.hd }));
		EXPECT_EQ(-EBADRQC, t_release(p.o, 2, (uint64_t[]){ p.n, bad[i] }));
	}
	/* No HANDLE_RELEASE for o, no NODE_RELEASE for h; both usable. */
	EXPECT_EQ(-EAGAIN, t_recv(p.o, &m));
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));
	EXPECT_TRUE(pair_alive(&p));
	EXPECT_EQ(0, t_release1(p.h, p.hd));
}

/* An unreadable array (or tail) is EFAULT; nothing is released. */
TEST(unmapped_ids_are_efault_and_nothing_released)
{
	uint64_t *ids;
	struct pair p;
	struct t_msg m;
	void *hole;

	ASSERT_EQ(0, pair_init(&p));
	hole = u_map_hole();
	ids = u_map_before_hole(sizeof(*ids));
	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, ids);

	EXPECT_EQ(-EFAULT, t_release(p.o, 1, hole));
	EXPECT_EQ(-EFAULT, t_release(p.o, 3, hole));
	/* Element 0 valid and readable, element 1 unmapped. */
	ids[0] = p.n;
	EXPECT_EQ(-EFAULT, t_release(p.o, 2, ids));
	ids[0] = p.hd;
	EXPECT_EQ(-EFAULT, t_release(p.h, 2, ids));
	/* A huge count with an unmapped tail: same. */
	EXPECT_EQ(-EFAULT, t_release(p.h, 1ULL << 40, ids));

	EXPECT_EQ(-EAGAIN, t_recv(p.o, &m));
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));
	EXPECT_TRUE(pair_alive(&p));
}

/* Kernel addresses and arrays that wrap around the address space. */
TEST(kernel_or_wrapping_pointers_are_efault)
{
	struct pair p;
	struct t_msg m;

	ASSERT_EQ(0, pair_init(&p));
	EXPECT_EQ(-EFAULT, t_ioctl(p.o, BUS1_CMD_RELEASE,
				   (void *)(uintptr_t)U_KPTR_DIRECT));
	EXPECT_EQ(-EFAULT, t_release(p.o, 1, (void *)(uintptr_t)U_KPTR_DIRECT));
	EXPECT_EQ(-EFAULT, t_release(p.o, 1, (void *)(uintptr_t)U_KPTR_TEXT));
	EXPECT_EQ(-EFAULT, t_release(p.o, 2, (void *)(uintptr_t)U_PTR_WRAP));
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));
	EXPECT_TRUE(pair_alive(&p));
}

/* IDs are read and looked up in order: the first defect decides. */
TEST(first_defective_element_decides_the_errno)
{
	uint64_t *ids;
	struct pair p;

	ASSERT_EQ(0, pair_init(&p));
	ids = u_map_before_hole(2 * sizeof(*ids));
	ASSERT_NE(NULL, ids);

	/* Unknown ID before the unmapped element: EBADRQC. */
	ids[0] = p.hd;
	ids[1] = 999;
	EXPECT_EQ(-EBADRQC, t_release(p.h, 3, ids));
	ids[0] = 4;
	EXPECT_EQ(-EBADRQC, t_release(p.h, 3, ids));
	/* Valid ones before it: EFAULT. */
	ids[0] = p.hd;
	ids[1] = p.hd;
	EXPECT_EQ(-EFAULT, t_release(p.h, 3, ids));
	EXPECT_TRUE(pair_alive(&p));
}

/* The node's only handle listed twice: released once, one HANDLE_RELEASE. */
TEST(duplicate_handle_is_released_once)
{
	struct pair p;
	struct t_msg m;

	ASSERT_EQ(0, pair_init(&p));
	ASSERT_EQ(0, t_release(p.h, 3, (uint64_t[]){ p.hd, p.hd, p.hd }));
	ASSERT_EQ(0, t_recv(p.o, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);
	EXPECT_EQ(p.n, m.meta.id);
	EXPECT_EQ(-EAGAIN, t_recv(p.o, &m));
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));
	EXPECT_EQ(-EBADRQC, t_release1(p.h, p.hd));
}

TEST(duplicate_node_is_released_once)
{
	struct pair p;
	struct t_msg m;

	ASSERT_EQ(0, pair_init(&p));
	ASSERT_EQ(0, t_release(p.o, 2, (uint64_t[]){ p.n, p.n }));
	ASSERT_EQ(0, t_recv(p.h, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
	EXPECT_EQ(p.hd, m.meta.id);
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));
	EXPECT_EQ(-EAGAIN, t_recv(p.o, &m));
	EXPECT_EQ(-EBADRQC, t_release1(p.o, p.n));
}

/* A released ID is unknown to RELEASE, SEND and TRANSFER alike. */
TEST(released_ids_are_ebadrqc_everywhere)
{
	struct bus1_transfer src, dst, tr;
	uint64_t own_node, own_handle;
	struct pair p;
	struct t_msg m;

	ASSERT_EQ(0, pair_init(&p));
	ASSERT_EQ(0, t_node(p.h, -1, &own_node, &own_handle));
	ASSERT_EQ(0, t_release1(p.h, p.hd));
	ASSERT_EQ(0, t_recv(p.o, &m));
	ASSERT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);

	EXPECT_EQ(-EBADRQC, t_release1(p.h, p.hd));
	EXPECT_EQ(-EBADRQC, t_send1(p.h, p.hd, "x", 1));
	src = (struct bus1_transfer){ 0, p.hd };
	EXPECT_EQ(-EBADRQC, t_transfer(p.h, BUS1_INVALID, 1, &src, &dst));
	EXPECT_EQ(-EBADRQC, t_transfer(p.h, p.o, 1, &src, &dst));
	tr = (struct bus1_transfer){ 0, p.hd };
	EXPECT_EQ(-EBADRQC, u_send_tr(p.h, own_handle, "x", 1, 1, &tr));
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));

	/* A released node likewise. */
	ASSERT_EQ(0, t_release1(p.h, own_node));
	ASSERT_EQ(0, t_recv(p.h, &m));
	ASSERT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
	EXPECT_EQ(own_handle, m.meta.id);
	EXPECT_EQ(-EBADRQC, t_release1(p.h, own_node));
}

/* Releasing a handle makes its pending NODE_RELEASE stale. */
TEST(release_of_handle_with_pending_node_release_skips_it)
{
	struct pair p;
	struct t_msg m;

	ASSERT_EQ(0, pair_init(&p));
	ASSERT_EQ(0, t_release1(p.o, p.n));
	ASSERT_EQ(0, t_release1(p.h, p.hd));
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));
	EXPECT_EQ(POLLOUT | POLLWRNORM, u_revents(p.h));
	EXPECT_EQ(-EAGAIN, t_recv(p.o, &m));
}

/*
 * Releasing a node makes its pending HANDLE_RELEASE stale: RECV returns
 * the entry queued after it instead.
 */
TEST(release_of_node_with_pending_handle_release_skips_it)
{
	uint64_t n2, h2;
	struct pair p;
	struct t_msg m;

	ASSERT_EQ(0, pair_init(&p));
	ASSERT_EQ(0, t_node(p.o, p.h, &n2, &h2));
	ASSERT_EQ(0, t_release1(p.h, p.hd));
	ASSERT_EQ(0, t_send1(p.h, h2, "next", 4));

	ASSERT_EQ(0, t_release1(p.o, p.n));
	ASSERT_EQ(0, t_recv(p.o, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, m.msg.type);
	EXPECT_EQ(n2, m.meta.id);
	EXPECT_EQ(0, memcmp(m.data, "next", 4));
	EXPECT_EQ(-EAGAIN, t_recv(p.o, &m));
	/* h's handle was released before: it gets no NODE_RELEASE. */
	EXPECT_EQ(-EAGAIN, t_recv(p.h, &m));
}

/* RELEASE only reads: a read-only array works and nothing is written. */
TEST(release_writes_no_user_memory)
{
	uint64_t buf[4], *ro, node, handle;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));

	buf[0] = handle;
	buf[1] = 999;
	buf[2] = 0xC0FFEE;
	buf[3] = 0xC0FFEE;
	EXPECT_EQ(-EBADRQC, t_release(fd, 2, buf));
	EXPECT_EQ(handle, buf[0]);
	EXPECT_EQ(999, buf[1]);
	EXPECT_EQ(0xC0FFEE, buf[2]);
	EXPECT_EQ(0xC0FFEE, buf[3]);

	buf[1] = node;
	ASSERT_EQ(0, t_release(fd, 2, buf));
	EXPECT_EQ(handle, buf[0]);
	EXPECT_EQ(node, buf[1]);
	EXPECT_EQ(0xC0FFEE, buf[2]);

	ASSERT_EQ(0, t_node(fd, -1, &node, &handle));
	buf[0] = node;
	buf[1] = handle;
	ro = u_map_readonly(buf, 2 * sizeof(*buf));
	ASSERT_NE(NULL, ro);
	EXPECT_EQ(0, t_release(fd, 2, ro));
	EXPECT_EQ(-EBADRQC, t_release1(fd, node));
}

/* Several nodes, holders in two peers: each holder gets all its own. */
TEST(release_of_several_nodes_notifies_every_holder)
{
	struct bus1_transfer src[3], dst[3];
	uint64_t got[8];
	struct t_msg m;
	int o, h1, h2, i, n;

	o = t_open();
	h1 = t_open();
	h2 = t_open();
	ASSERT_GE(o, 0);
	ASSERT_GE(h1, 0);
	ASSERT_GE(h2, 0);

	/* o: nodes 1, 3, 5; h1: handles 1 (node 1), 3 (node 3). */
	for (i = 0; i < 3; i++)
		src[i] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
						 BUS1_INVALID };
	ASSERT_EQ(0, t_transfer(o, h1, 2, src, dst));
	ASSERT_EQ(1, src[0].id);
	ASSERT_EQ(3, src[1].id);
	ASSERT_EQ(0, t_transfer(o, h2, 1, &src[2], dst));
	ASSERT_EQ(5, src[2].id);
	ASSERT_EQ(1, dst[0].id);
	/* h2: handle 1 (node 5), then handles 3 (node 3), 5 (node 3). */
	src[0] = (struct bus1_transfer){ 0, 3 };
	src[1] = (struct bus1_transfer){ 0, 3 };
	ASSERT_EQ(0, t_transfer(h1, h2, 2, src, dst));
	ASSERT_EQ(3, dst[0].id);
	ASSERT_EQ(5, dst[1].id);

	ASSERT_EQ(0, t_release(o, 3, (uint64_t[]){ 1, 3, 5 }));

	/* h1: one each for handles 1 and 3, in some order. */
	for (n = 0; n < 8 && !t_recv(h1, &m); n++) {
		EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
		EXPECT_EQ(0, m.msg.n_transfers);
		EXPECT_EQ(0, m.msg.n_data);
		EXPECT_EQ(BUS1_INVALID, m.meta.account);
		got[n] = m.meta.id;
	}
	ASSERT_EQ(2, n);
	EXPECT_EQ(1 + 3, got[0] + got[1]);
	EXPECT_NE(got[0], got[1]);

	/* h2: handles 1, 3, 5. */
	for (n = 0; n < 8 && !t_recv(h2, &m); n++) {
		EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
		got[n] = m.meta.id;
	}
	ASSERT_EQ(3, n);
	EXPECT_EQ(1 + 3 + 5, got[0] + got[1] + got[2]);
	EXPECT_EQ(1 * 3 * 5, got[0] * got[1] * got[2]);

	/* The owner held no handles: nothing for it. */
	EXPECT_EQ(-EAGAIN, t_recv(o, &m));
}

/* Last handles to nodes of two owners in one call: each owner told once. */
TEST(release_of_several_last_handles_notifies_each_owner)
{
	uint64_t n1, hd1, n2, hd2;
	struct t_msg m;
	int o1, o2, h;

	o1 = t_open();
	o2 = t_open();
	h = t_open();
	ASSERT_GE(o1, 0);
	ASSERT_GE(o2, 0);
	ASSERT_GE(h, 0);
	ASSERT_EQ(0, t_node(o1, h, &n1, &hd1));
	ASSERT_EQ(0, t_node(o2, h, &n2, &hd2));

	ASSERT_EQ(0, t_release(h, 2, (uint64_t[]){ hd1, hd2 }));
	ASSERT_EQ(0, t_recv(o1, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);
	EXPECT_EQ(n1, m.meta.id);
	EXPECT_EQ(-EAGAIN, t_recv(o1, &m));
	ASSERT_EQ(0, t_recv(o2, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);
	EXPECT_EQ(n2, m.meta.id);
	EXPECT_EQ(-EAGAIN, t_recv(o2, &m));
	EXPECT_EQ(-EAGAIN, t_recv(h, &m));
}

TEST_HARNESS_MAIN
