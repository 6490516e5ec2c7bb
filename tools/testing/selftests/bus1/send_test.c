// SPDX-License-Identifier: GPL-2.0
/*
 * BUS1_CMD_SEND: the checklist items of spec §12.6 (53-80), every SEND error
 * code of §5.3/§10, and the validation order §5.3 defines.
 *
 * After each failed SEND the tests check through the API that nothing
 * happened: every involved queue is empty, errors[] still holds its
 * canaries, no ID was consumed except burned CREATE node IDs, and the peers
 * still work afterwards.
 */
#include "kselftest_harness.h"
#include "util2.h"

/*
 * The common set-up: fresh receiver R owning node 1, fresh sender S holding
 * handle 1 to it. Both counters are then at their second ID (3).
 */
struct ctx {
	int r, s;
};

#define CTX_OPEN(c) do {						\
	uint64_t __n = 0, __h = 0;					\
	ASSERT_OPEN((c).r);						\
	ASSERT_OPEN((c).s);						\
	ASSERT_EQ(0, t_node((c).r, (c).s, &__n, &__h));			\
	ASSERT_EQ(1, __n);						\
	ASSERT_EQ(1, __h);						\
} while (0)

/* The next ID @fd allocates is @id (creates a node and a handle). */
#define ASSERT_NEXT_ID(fd, id) do {					\
	uint64_t __n = 0, __h = 0;					\
	ASSERT_EQ(0, t_node((fd), -1, &__n, &__h));			\
	ASSERT_EQ((uint64_t)(id), __n);					\
	ASSERT_EQ((uint64_t)(id) + 2, __h);				\
} while (0)

/* A failed SEND had no effect on R, S and errors[]. */
#define ASSERT_NO_EFFECT(c, snd) do {					\
	ASSERT_TRUE(t_errors_untouched(snd));				\
	ASSERT_EMPTY((c).r);						\
	ASSERT_EMPTY((c).s);						\
} while (0)

/* S can still send to R's node 1 and R gets exactly that message. */
#define ASSERT_STILL_WORKS(c) do {					\
	struct t_msg __m;						\
	ASSERT_EQ(0, t_send1((c).s, 1, "ok", 2));			\
	ASSERT_USER((c).r, &__m, 1, "ok", 2);				\
	ASSERT_EMPTY((c).r);						\
} while (0)

static const char payload[] = "bus1 send payload";

/* Receive a message of up to @cap bytes into @buf. */
static int recv_big(int fd, void *buf, size_t cap, struct bus1_metadata *meta,
		    struct bus1_message *msg)
{
	struct iovec v = { buf, cap };
	struct bus1_cmd_recv cmd = {
		.ptr_metadata = BUS1_FROM_PTR(meta),
		.ptr_message = BUS1_FROM_PTR(msg),
	};

	memset(msg, 0, sizeof(*msg));
	msg->type = BUS1_INVALID;
	msg->n_data = cap;
	msg->n_data_vecs = 1;
	msg->ptr_data_vecs = BUS1_FROM_PTR(&v);
	return t_ioctl(fd, BUS1_CMD_RECV, &cmd);
}

/* 53 */
TEST(unicast_delivers_bytes_node_id_and_sender_uid)
{
	struct t_send s;
	struct t_msg m;
	struct ctx c;
	uint64_t h = 1;

	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EQ(0, s.errors[0]);
	ASSERT_EQ(T_CANARY32, s.errors[1]);

	ASSERT_EQ(0, t_recv(c.r, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, m.msg.type);
	EXPECT_EQ(0, m.msg.flags);
	EXPECT_EQ(0, m.meta.flags);
	EXPECT_EQ(1, m.meta.id);
	EXPECT_EQ((uint64_t)geteuid(), m.meta.account);
	EXPECT_EQ(0, m.msg.n_transfers);
	ASSERT_EQ(sizeof(payload), m.msg.n_data);
	EXPECT_EQ(0, memcmp(m.data, payload, sizeof(payload)));
	ASSERT_EMPTY(c.r);
	ASSERT_EMPTY(c.s);
}

/* 54 */
TEST(nonzero_flags_or_non_user_type_is_einval)
{
	static const uint64_t flags[] = { 1, 2, 1ULL << 63 };
	static const uint64_t types[] = {
		BUS1_MESSAGE_TYPE_NODE_RELEASE,
		BUS1_MESSAGE_TYPE_HANDLE_RELEASE,
		_BUS1_MESSAGE_TYPE_N, BUS1_INVALID, 1ULL << 32,
	};
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;
	size_t i;

	CTX_OPEN(c);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		t_send_prep(&s, 1, &h, payload, sizeof(payload));
		s.cmd.flags = flags[i];
		ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
		ASSERT_NO_EFFECT(c, &s);

		t_send_prep(&s, 1, &h, payload, sizeof(payload));
		s.msg.flags = flags[i];
		ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
		ASSERT_NO_EFFECT(c, &s);
	}
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		t_send_prep(&s, 1, &h, payload, sizeof(payload));
		s.msg.type = types[i];
		ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
		ASSERT_NO_EFFECT(c, &s);
	}
	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 3);
	ASSERT_NEXT_ID(c.r, 3);
}

/* 55 */
TEST(unknown_even_or_node_destination_is_ebadrqc)
{
	uint64_t bad[] = { 0, 2, 3, 99, BUS1_INVALID, 1ULL << 62 | 1, 0 };
	uint64_t n = 0, h = 0;
	struct t_send s;
	struct ctx c;
	size_t i;

	CTX_OPEN(c);
	/* S's own node 3 (handle 5): a node ID is not a handle. */
	ASSERT_EQ(0, t_node(c.s, -1, &n, &h));
	ASSERT_EQ(3, n);
	bad[ARRAY_SIZE(bad) - 1] = n;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		t_send_prep(&s, 1, &bad[i], payload, sizeof(payload));
		ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
		ASSERT_NO_EFFECT(c, &s);
	}
	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 7);
	ASSERT_NEXT_ID(c.r, 3);
}

/* Open @n fresh receivers each giving S one handle; S is fresh too. */
static int open_receivers(int s, int *r, int n)
{
	uint64_t node, h;
	int i;

	for (i = 0; i < n; i++) {
		r[i] = t_open();
		if (r[i] < 0)
			return -errno;
		if (t_node(r[i], s, &node, &h))
			return -EIO;
		if (node != 1 || h != 2 * (uint64_t)i + 1)
			return -EIO;
	}
	return 0;
}

/* 56 */
TEST(multicast_gives_each_node_one_copy_and_int32_errors)
{
	uint64_t dst[] = { 1, 3, 5, 7, 9 }, n, h;
	struct t_send s;
	struct t_msg m;
	int r[4], sfd, i;

	ASSERT_OPEN(sfd);
	/* R0..R3 give S handles 1, 3, 5, 7 to their node 1 ... */
	ASSERT_EQ(0, open_receivers(sfd, r, 4));
	/* ... and R3's second node 3 gives S handle 9. */
	ASSERT_EQ(0, t_node(r[3], sfd, &n, &h));
	ASSERT_EQ(3, n);
	ASSERT_EQ(9, h);

	t_send_prep(&s, 5, dst, payload, sizeof(payload));
	ASSERT_EQ(0, t_send_do(sfd, &s));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, s.errors[i]);
	ASSERT_EQ(T_CANARY32, s.errors[5]);

	for (i = 0; i < 4; i++)
		ASSERT_USER(r[i], &m, 1, payload, sizeof(payload));
	/* The copies of one SEND reach R3 in destinations[] order (G6). */
	ASSERT_USER(r[3], &m, 3, payload, sizeof(payload));
	for (i = 0; i < 4; i++)
		ASSERT_EMPTY(r[i]);
	ASSERT_EMPTY(sfd);
}

/* 57 */
TEST(multicast_with_invalid_last_destination_sends_nothing)
{
	static const uint64_t last[] = { 9, 0, BUS1_INVALID };
	uint64_t dst[5] = { 1, 3, 5, 7 };
	struct t_send s;
	int r[4], sfd, i;
	size_t j;

	ASSERT_OPEN(sfd);
	ASSERT_EQ(0, open_receivers(sfd, r, 4));
	for (j = 0; j < ARRAY_SIZE(last); j++) {
		dst[4] = last[j];
		t_send_prep(&s, 5, dst, payload, sizeof(payload));
		ASSERT_EQ(-EBADRQC, t_send_do(sfd, &s));
		ASSERT_TRUE(t_errors_untouched(&s));
		for (i = 0; i < 4; i++)
			ASSERT_EMPTY(r[i]);
		ASSERT_EMPTY(sfd);
	}
	/* Without the bad element the same multicast reaches all four. */
	t_send_prep(&s, 4, dst, payload, sizeof(payload));
	ASSERT_EQ(0, t_send_do(sfd, &s));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, t_recv_any(r[i]));
		ASSERT_EMPTY(r[i]);
	}
}

/* 58 */
TEST(duplicate_destinations_deliver_copies_in_order)
{
	uint64_t twice[] = { 1, 1 }, mixed[] = { 1, 3, 1 }, n, h;
	struct t_send s;
	struct t_msg m;
	struct ctx c;

	CTX_OPEN(c);
	ASSERT_EQ(0, t_node(c.r, c.s, &n, &h));
	ASSERT_EQ(3, n);
	ASSERT_EQ(3, h);

	t_send_prep(&s, 2, twice, "two", 3);
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_USER(c.r, &m, 1, "two", 3);
	ASSERT_USER(c.r, &m, 1, "two", 3);
	ASSERT_EMPTY(c.r);

	t_send_prep(&s, 3, mixed, "mix", 3);
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EQ(0, s.errors[2]);
	ASSERT_USER(c.r, &m, 1, "mix", 3);
	ASSERT_USER(c.r, &m, 3, "mix", 3);
	ASSERT_USER(c.r, &m, 1, "mix", 3);
	ASSERT_EMPTY(c.r);
}

/* 59 */
TEST(send_to_own_node_is_received_by_caller)
{
	uint64_t n, h;
	struct t_msg m;
	int p;

	ASSERT_OPEN(p);
	ASSERT_EQ(0, t_node(p, -1, &n, &h));
	ASSERT_EQ(1, n);
	ASSERT_EQ(3, h);
	ASSERT_EQ(0, t_send1(p, h, payload, sizeof(payload)));
	ASSERT_USER(p, &m, 1, payload, sizeof(payload));
	ASSERT_EMPTY(p);
}

/* 60 */
TEST(zero_destinations_queues_nothing_and_ignores_errors_pointer)
{
	struct t_send s;
	struct ctx c;
	void *hole = t_hole();

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 0, NULL, payload, sizeof(payload));
	s.cmd.ptr_errors = BUS1_FROM_PTR(hole);
	s.cmd.ptr_destinations = BUS1_FROM_PTR(hole);
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);
	ASSERT_EMPTY(c.s);

	t_send_prep(&s, 0, NULL, payload, sizeof(payload));
	s.cmd.ptr_errors = 0;
	s.cmd.ptr_destinations = 0;
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);
	ASSERT_EMPTY(c.s);
	ASSERT_NEXT_ID(c.s, 3);
	ASSERT_NEXT_ID(c.r, 3);
}

/* 61 */
TEST(data_size_above_max_or_above_iovec_total_is_emsgsize)
{
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;
	char buf[16] = "0123456789abcde";

	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, buf, sizeof(buf));
	s.msg.n_data = t_max_rw() + 1;
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	t_send_prep(&s, 1, &h, buf, sizeof(buf));
	s.msg.n_data = UINT64_MAX;
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* One iovec of 10 bytes, n_data 11. */
	t_send_prep(&s, 1, &h, buf, 10);
	s.msg.n_data = 11;
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* Two iovecs of 5 bytes each, n_data 11. */
	t_send_prep(&s, 1, &h, buf, 5);
	s.vec[1].iov_base = buf + 5;
	s.vec[1].iov_len = 5;
	s.msg.n_data_vecs = 2;
	s.msg.n_data = 11;
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* No iovecs at all, n_data 1. */
	t_send_prep(&s, 1, &h, NULL, 0);
	s.msg.n_data_vecs = 0;
	s.msg.n_data = 1;
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 3);
	ASSERT_NEXT_ID(c.r, 3);
}

/* 62 */
TEST(only_first_n_data_bytes_are_read_and_sent)
{
	struct t_send s;
	struct t_msg m;
	struct ctx c;
	uint64_t h = 1;
	char *tail = t_tail(3), *hole = t_hole();

	ASSERT_NE(NULL, tail);
	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);

	/* 16-byte iovec, n_data 5: exactly 5 bytes arrive. */
	t_send_prep(&s, 1, &h, "0123456789abcdef", 16);
	s.msg.n_data = 5;
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_USER(c.r, &m, 1, "01234", 5);

	/* A whole trailing iovec in an inaccessible page is never read. */
	t_send_prep(&s, 1, &h, "abcdefgh", 8);
	s.vec[1].iov_base = hole;
	s.vec[1].iov_len = t_page();
	s.msg.n_data_vecs = 2;
	s.msg.n_data = 8;
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_USER(c.r, &m, 1, "abcdefgh", 8);

	/*
	 * n_data ends 3 bytes into the second iovec, whose remaining 97
	 * bytes lie in an inaccessible page: they are not read either.
	 */
	memcpy(tail, "xyz", 3);
	t_send_prep(&s, 1, &h, "abcd", 4);
	s.vec[1].iov_base = tail;
	s.vec[1].iov_len = 100;
	s.msg.n_data_vecs = 2;
	s.msg.n_data = 7;
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_USER(c.r, &m, 1, "abcdxyz", 7);
	ASSERT_EMPTY(c.r);
}

/* 63 */
TEST(iovec_count_array_and_element_errors)
{
	static const uint64_t counts[] = {
		1025, 1ULL << 32, (1ULL << 32) | 1, UINT64_MAX,
	};
	struct iovec *vtail = t_tail(sizeof(struct iovec));
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;
	size_t i;

	ASSERT_NE(NULL, vtail);
	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);

	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		t_send_prep(&s, 1, &h, payload, sizeof(payload));
		s.msg.n_data_vecs = counts[i];
		ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
		ASSERT_NO_EFFECT(c, &s);
	}

	/* The iovec array itself is unreadable. */
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.ptr_data_vecs = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* Its second element is unreadable. */
	vtail->iov_base = (void *)payload;
	vtail->iov_len = 4;
	t_send_prep(&s, 1, &h, payload, 4);
	s.msg.ptr_data_vecs = BUS1_FROM_PTR(vtail);
	s.msg.n_data_vecs = 2;
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* The payload inside n_data is unmapped (one destination). */
	t_send_prep(&s, 1, &h, hole, 8);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* An element range in kernel space. */
	t_send_prep(&s, 1, &h, (void *)0xffff888000000000UL, 8);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* Element lengths above SSIZE_MAX. */
	t_send_prep(&s, 1, &h, payload, SIZE_MAX);
	s.msg.n_data = 4;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	t_send_prep(&s, 1, &h, payload, (size_t)SSIZE_MAX + 1);
	s.msg.n_data = 4;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 3);
	ASSERT_NEXT_ID(c.r, 3);
}

/* 64 */
TEST(zero_length_message_without_iovecs_arrives_empty)
{
	struct t_send s;
	struct t_msg m;
	struct ctx c;
	uint64_t h = 1;

	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, NULL, 0);
	s.msg.n_data_vecs = 0;
	s.msg.ptr_data_vecs = 0;
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EQ(0, s.errors[0]);
	ASSERT_EQ(0, t_recv(c.r, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, m.msg.type);
	EXPECT_EQ(1, m.meta.id);
	EXPECT_EQ(0, m.msg.n_data);
	EXPECT_EQ(0, m.msg.n_transfers);
	ASSERT_EMPTY(c.r);
}

/* 65 */
TEST(payload_scattered_over_1024_iovecs_arrives_concatenated)
{
	static struct iovec vec[1024];
	static uint8_t chunks[1024][4], expect[1024 * 3];
	struct bus1_metadata meta;
	struct bus1_message msg;
	struct t_send s;
	struct ctx c;
	uint8_t got[4096];
	uint64_t h = 1;
	size_t i, k, total = 0;

	/*
	 * Element i holds i % 4 bytes (1536 in all, some elements empty) and
	 * points at chunk 1023 - i, so the array order differs from the
	 * memory order.
	 */
	for (i = 0; i < 1024; i++) {
		for (k = 0; k < i % 4; k++) {
			chunks[1023 - i][k] = (uint8_t)(i * 7 + k);
			expect[total++] = (uint8_t)(i * 7 + k);
		}
		vec[i].iov_base = chunks[1023 - i];
		vec[i].iov_len = i % 4;
	}
	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, NULL, 0);
	s.msg.ptr_data_vecs = BUS1_FROM_PTR(vec);
	s.msg.n_data_vecs = 1024;
	s.msg.n_data = total;
	ASSERT_EQ(0, t_send_do(c.s, &s));
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, recv_big(c.r, got, sizeof(got), &meta, &msg));
	ASSERT_EQ(total, msg.n_data);
	ASSERT_EQ(0, memcmp(got, expect, total));
}

/* 66 */
TEST(bad_transfer_flags_or_create_with_id_is_einval)
{
	static const struct bus1_transfer bad[] = {
		{ 2, 1 },
		{ 1ULL << 63, 1 },
		{ BUS1_TRANSFER_FLAG_CREATE | 2, BUS1_INVALID },
		{ BUS1_TRANSFER_FLAG_CREATE, 0 },
		{ BUS1_TRANSFER_FLAG_CREATE, 1 },
		{ BUS1_TRANSFER_FLAG_CREATE, 3 },
	};
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;
	size_t i;

	CTX_OPEN(c);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		t_send_prep(&s, 1, &h, payload, sizeof(payload));
		s.tr[0] = bad[i];
		s.msg.n_transfers = 1;
		ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
		ASSERT_NO_EFFECT(c, &s);
		ASSERT_EQ(bad[i].flags, s.tr[0].flags);
		ASSERT_EQ(bad[i].id, s.tr[0].id);
	}
	ASSERT_STILL_WORKS(c);
	/* An invalid CREATE element allocates nothing. */
	ASSERT_NEXT_ID(c.s, 3);
	ASSERT_NEXT_ID(c.r, 3);
}

/* 67 */
TEST(unknown_even_or_node_transfer_id_is_ebadrqc)
{
	uint64_t bad[] = { 99, 0, 2, BUS1_INVALID, 0 }, n, hh, h = 1;
	struct t_send s;
	struct ctx c;
	size_t i;

	CTX_OPEN(c);
	ASSERT_EQ(0, t_node(c.s, -1, &n, &hh));
	ASSERT_EQ(3, n);
	bad[ARRAY_SIZE(bad) - 1] = n;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		t_send_prep(&s, 1, &h, payload, sizeof(payload));
		t_send_handle(&s, bad[i]);
		ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
		ASSERT_NO_EFFECT(c, &s);
	}
	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 7);
	ASSERT_NEXT_ID(c.r, 3);
}

/* 68 */
TEST(transferred_handle_is_new_id_usable_by_receiver)
{
	uint64_t n, h;
	struct t_msg m;
	struct ctx c;
	int o;

	CTX_OPEN(c);
	ASSERT_OPEN(o);
	ASSERT_EQ(0, t_node(o, c.s, &n, &h));
	ASSERT_EQ(1, n);
	ASSERT_EQ(3, h);

	ASSERT_EQ(0, t_send_with(c.s, 1, payload, sizeof(payload), 3));
	ASSERT_USER(c.r, &m, 1, payload, sizeof(payload));
	ASSERT_EQ(1, m.msg.n_transfers);
	ASSERT_EQ(0, m.tr[0].flags);
	ASSERT_EQ(3, m.tr[0].id);
	/* The sender's handle stays valid and unchanged. */
	ASSERT_EQ(0, t_send1(c.s, 3, "s", 1));
	ASSERT_USER(o, &m, 1, "s", 1);

	ASSERT_EQ(0, t_send1(c.r, 3, "via R", 5));
	ASSERT_USER(o, &m, 1, "via R", 5);
	ASSERT_EMPTY(o);
	ASSERT_EMPTY(c.r);
}

/* 69 */
TEST(same_handle_twice_gives_new_distinct_ids)
{
	struct bus1_transfer src = { 0, 3 }, dst = { 0, 0 };
	uint64_t n, h;
	struct t_send s;
	struct t_msg m;
	struct ctx c;
	int o;

	CTX_OPEN(c);
	ASSERT_OPEN(o);
	ASSERT_EQ(0, t_node(o, c.s, &n, &h));
	ASSERT_EQ(3, h);
	/* R already holds handle 3 to O's node. */
	ASSERT_EQ(0, t_transfer(c.s, c.r, 1, &src, &dst));
	ASSERT_EQ(3, dst.id);

	h = 1;
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	t_send_handle(&s, 3);
	t_send_handle(&s, 3);
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_USER(c.r, &m, 1, payload, sizeof(payload));
	ASSERT_EQ(2, m.msg.n_transfers);
	ASSERT_EQ(5, m.tr[0].id);
	ASSERT_EQ(7, m.tr[1].id);

	/* Three independent handles, all reaching O's node. */
	ASSERT_EQ(0, t_send1(c.r, 3, "a", 1));
	ASSERT_EQ(0, t_send1(c.r, 5, "b", 1));
	ASSERT_EQ(0, t_send1(c.r, 7, "c", 1));
	ASSERT_USER(o, &m, 1, "a", 1);
	ASSERT_USER(o, &m, 1, "b", 1);
	ASSERT_USER(o, &m, 1, "c", 1);

	/* Each counts separately: only the last release notifies. */
	ASSERT_EQ(0, t_release1(c.r, 3));
	ASSERT_EQ(0, t_release1(c.r, 5));
	ASSERT_EQ(0, t_release1(c.s, 3));
	ASSERT_EMPTY(o);
	ASSERT_EQ(0, t_release1(c.r, 7));
	ASSERT_HANDLE_RELEASE(o, 1);
	ASSERT_EMPTY(o);
}

/* 70 */
TEST(handle_to_receivers_own_node_loops_back)
{
	struct t_msg m;
	struct ctx c;

	CTX_OPEN(c);
	ASSERT_EQ(0, t_send_with(c.s, 1, payload, sizeof(payload), 1));
	ASSERT_USER(c.r, &m, 1, payload, sizeof(payload));
	ASSERT_EQ(1, m.msg.n_transfers);
	ASSERT_EQ(3, m.tr[0].id);

	ASSERT_EQ(0, t_send1(c.r, 3, "loop", 4));
	ASSERT_USER(c.r, &m, 1, "loop", 4);
	ASSERT_EMPTY(c.r);
}

/* 71 */
TEST(multicast_transfers_give_each_receiver_its_own_handle)
{
	uint64_t dst[] = { 3, 5 }, n, h;
	struct t_send s;
	struct t_msg m;
	int o, sfd, r[2];

	ASSERT_OPEN(o);
	ASSERT_OPEN(sfd);
	ASSERT_EQ(0, t_node(o, sfd, &n, &h));
	ASSERT_EQ(1, h);
	ASSERT_OPEN(r[0]);
	ASSERT_OPEN(r[1]);
	ASSERT_EQ(0, t_node(r[0], sfd, &n, &h));
	ASSERT_EQ(3, h);
	ASSERT_EQ(0, t_node(r[1], sfd, &n, &h));
	ASSERT_EQ(5, h);

	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	t_send_handle(&s, 1);
	ASSERT_EQ(0, t_send_do(sfd, &s));
	/* The copies in flight keep O's node alive after S lets go. */
	ASSERT_EQ(0, t_release1(sfd, 1));
	ASSERT_EMPTY(o);

	ASSERT_USER(r[0], &m, 1, payload, sizeof(payload));
	ASSERT_EQ(3, m.tr[0].id);
	ASSERT_USER(r[1], &m, 1, payload, sizeof(payload));
	ASSERT_EQ(3, m.tr[0].id);

	ASSERT_EQ(0, t_release1(r[0], 3));
	ASSERT_EMPTY(o);
	ASSERT_EQ(0, t_send1(r[1], 3, "r1", 2));
	ASSERT_USER(o, &m, 1, "r1", 2);
	ASSERT_EQ(0, t_release1(r[1], 3));
	ASSERT_HANDLE_RELEASE(o, 1);
	ASSERT_EMPTY(o);
}

/* 72 */
TEST(sender_buffer_reusable_when_send_returns)
{
	char buf[64];
	struct t_msg m;
	struct ctx c;

	CTX_OPEN(c);
	memcpy(buf, "original bytes", 15);
	ASSERT_EQ(0, t_send1(c.s, 1, buf, 15));
	memset(buf, 'X', sizeof(buf));
	ASSERT_USER(c.r, &m, 1, "original bytes", 15);
}

/* 73 */
TEST(unwritable_errors_array_is_efault_and_sends_nothing)
{
	int32_t zero[4] = { 0 };
	uint64_t dst[] = { 1, 3 }, n, h;
	void *hole = t_hole(), *ro = t_rdonly(zero, sizeof(zero));
	int32_t *etail = t_tail(sizeof(int32_t));
	struct t_send s;
	struct ctx c;

	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, ro);
	ASSERT_NE(NULL, etail);
	CTX_OPEN(c);
	ASSERT_EQ(0, t_node(c.r, c.s, &n, &h));
	ASSERT_EQ(3, h);

	t_send_prep(&s, 1, dst, payload, sizeof(payload));
	s.cmd.ptr_errors = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);

	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	s.cmd.ptr_errors = BUS1_FROM_PTR(ro);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);

	/* errors[0] writable, errors[1] not. */
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	s.cmd.ptr_errors = BUS1_FROM_PTR(etail);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);

	/* With a CREATE transfer: the staged node (ID 5) never exists. */
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	t_send_create(&s);
	s.cmd.ptr_errors = BUS1_FROM_PTR(ro);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);
	ASSERT_EMPTY(c.s);
	ASSERT_EQ(-EBADRQC, t_release1(c.s, 5));

	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 7);
	ASSERT_NEXT_ID(c.r, 5);
}

/* 74 */
TEST(payload_of_16mib_arrives_intact)
{
	const size_t len = 16 << 20;
	struct bus1_metadata meta;
	struct bus1_message msg;
	uint8_t *out = malloc(len), *in = malloc(len + 16);
	struct ctx c;
	size_t i;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 2654435761u >> 13);
	CTX_OPEN(c);
	ASSERT_EQ(0, t_send1(c.s, 1, out, len));
	memset(in, 0, len + 16);
	ASSERT_EQ(0, recv_big(c.r, in, len + 16, &meta, &msg));
	ASSERT_EQ(len, msg.n_data);
	ASSERT_EQ(1, meta.id);
	ASSERT_EQ(0, memcmp(in, out, len));
	ASSERT_EMPTY(c.r);
	free(in);
	free(out);
}

/* 75 */
TEST(send_to_node_of_closed_owner_succeeds_and_is_discarded)
{
	uint64_t dst[] = { 1, 3 }, n, h;
	struct t_send s;
	struct t_msg m;
	struct ctx c;
	int o;

	CTX_OPEN(c);
	ASSERT_OPEN(o);
	ASSERT_EQ(0, t_node(o, c.s, &n, &h));
	ASSERT_EQ(3, h);
	ASSERT_EQ(0, close(o));

	/* Handle 3 is still valid until its NODE_RELEASE is received. */
	ASSERT_EQ(0, t_send1(c.s, 3, payload, sizeof(payload)));
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EQ(0, s.errors[0]);
	ASSERT_EQ(0, s.errors[1]);
	ASSERT_USER(c.r, &m, 1, payload, sizeof(payload));
	ASSERT_EMPTY(c.r);

	ASSERT_NODE_RELEASE(c.s, 3);
	ASSERT_EMPTY(c.s);
	ASSERT_EQ(-EBADRQC, t_send1(c.s, 3, payload, sizeof(payload)));
}

/* 76 */
TEST(create_transfer_gives_each_destination_a_handle_to_new_node)
{
	uint64_t dst[] = { 1, 3 };
	struct t_send s;
	struct t_msg m;
	int sfd, r[2], i;

	ASSERT_OPEN(sfd);
	ASSERT_EQ(0, open_receivers(sfd, r, 2));
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	t_send_create(&s);
	ASSERT_EQ(0, t_send_do(sfd, &s));
	ASSERT_EQ(0, s.tr[0].flags);
	ASSERT_EQ(5, s.tr[0].id);
	ASSERT_EQ(0, s.errors[0]);
	ASSERT_EQ(0, s.errors[1]);

	for (i = 0; i < 2; i++) {
		ASSERT_USER(r[i], &m, 1, payload, sizeof(payload));
		ASSERT_EQ(1, m.msg.n_transfers);
		ASSERT_EQ(0, m.tr[0].flags);
		ASSERT_EQ(3, m.tr[0].id);
	}
	ASSERT_EQ(0, t_send1(r[0], 3, "r0", 2));
	ASSERT_EQ(0, t_send1(r[1], 3, "r1", 2));
	ASSERT_USER(sfd, &m, 5, "r0", 2);
	ASSERT_USER(sfd, &m, 5, "r1", 2);
	ASSERT_EMPTY(sfd);
}

/* 77 */
TEST(create_transfer_with_bad_destination_burns_node_id)
{
	uint64_t dst[] = { 1, 7 };
	struct t_send s;
	int sfd, r[2];

	ASSERT_OPEN(sfd);
	ASSERT_EQ(0, open_receivers(sfd, r, 2));
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	t_send_create(&s);
	ASSERT_EQ(-EBADRQC, t_send_do(sfd, &s));
	ASSERT_EQ(BUS1_TRANSFER_FLAG_CREATE, s.tr[0].flags);
	ASSERT_EQ(BUS1_INVALID, s.tr[0].id);
	ASSERT_TRUE(t_errors_untouched(&s));
	ASSERT_EMPTY(r[0]);
	ASSERT_EMPTY(r[1]);
	ASSERT_EMPTY(sfd);
	/* ID 5 was burned: it names nothing and is never handed out. */
	ASSERT_EQ(-EBADRQC, t_release1(sfd, 5));
	ASSERT_NEXT_ID(sfd, 7);
}

/* 78 */
TEST(create_transfer_node_gets_one_handle_release)
{
	uint64_t dst[] = { 1, 3 };
	struct t_send s;
	int sfd, r[2], i;

	ASSERT_OPEN(sfd);
	ASSERT_EQ(0, open_receivers(sfd, r, 2));
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	t_send_create(&s);
	ASSERT_EQ(0, t_send_do(sfd, &s));
	ASSERT_EQ(5, s.tr[0].id);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, t_recv_any(r[i]));

	ASSERT_EQ(0, t_release1(r[0], 3));
	ASSERT_EMPTY(sfd);
	ASSERT_EQ(0, t_release1(r[1], 3));
	ASSERT_HANDLE_RELEASE(sfd, 5);
	ASSERT_EMPTY(sfd);
	ASSERT_EQ(-EBADRQC, t_release1(sfd, 5));
}

/* 79 */
TEST(create_transfer_without_destinations_makes_silent_node)
{
	struct t_send s;
	int p;

	ASSERT_OPEN(p);
	t_send_prep(&s, 0, NULL, payload, sizeof(payload));
	t_send_create(&s);
	t_send_create(&s);
	ASSERT_EQ(0, t_send_do(p, &s));
	ASSERT_EQ(0, s.tr[0].flags);
	ASSERT_EQ(1, s.tr[0].id);
	ASSERT_EQ(0, s.tr[1].flags);
	ASSERT_EQ(3, s.tr[1].id);
	ASSERT_TRUE(t_errors_untouched(&s));
	ASSERT_EMPTY(p);
	ASSERT_EQ(0, t_release1(p, 1));
	ASSERT_EQ(0, t_release1(p, 3));
	ASSERT_EMPTY(p);
	ASSERT_EQ(-EBADRQC, t_release1(p, 1));
	ASSERT_NEXT_ID(p, 5);
}

/* 80 */
TEST(zero_destinations_does_not_read_payload)
{
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 0, NULL, hole, 100);
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);
	ASSERT_EMPTY(c.s);
}

/* §5.3 steps 1 and 3: the command and the message must be readable. */
TEST(unreadable_command_or_message_is_efault)
{
	void *hole = t_hole();
	struct bus1_cmd_send *ctail = t_tail(24);
	struct bus1_message *mtail = t_tail(48);
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, ctail);
	ASSERT_NE(NULL, mtail);
	CTX_OPEN(c);
	ASSERT_EQ(-EFAULT, t_ioctl(c.s, BUS1_CMD_SEND, hole));
	ASSERT_EQ(-EFAULT, t_ioctl(c.s, BUS1_CMD_SEND, NULL));
	/* Only the first 24 of the 40 bytes are readable. */
	ASSERT_EQ(-EFAULT, t_ioctl(c.s, BUS1_CMD_SEND, ctail));

	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.cmd.ptr_message = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* Only the first 48 of the 56 bytes are readable. */
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	memcpy(mtail, &s.msg, 48);
	s.cmd.ptr_message = BUS1_FROM_PTR(mtail);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 3);
}

/* §5.3 step 10: destinations[] is read element by element. */
TEST(unreadable_destination_is_efault_and_sends_nothing)
{
	uint64_t *dtail = t_tail(sizeof(uint64_t));
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, dtail);
	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.cmd.ptr_destinations = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* destinations[0] = 1 is valid, destinations[1] is unreadable. */
	*dtail = 1;
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.cmd.n_destinations = 2;
	s.cmd.ptr_destinations = BUS1_FROM_PTR(dtail);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 3);
}

/* §5.3 step 9: transfers[] is read element by element. */
TEST(unreadable_transfer_is_efault_and_burns_staged_nodes)
{
	struct bus1_transfer *ttail = t_tail(sizeof(struct bus1_transfer));
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, ttail);
	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = 1;
	s.msg.ptr_transfers = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* A CREATE element (node 3 staged), then an unreadable one. */
	ttail->flags = BUS1_TRANSFER_FLAG_CREATE;
	ttail->id = BUS1_INVALID;
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = 2;
	s.msg.ptr_transfers = BUS1_FROM_PTR(ttail);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
	ASSERT_EQ(BUS1_INVALID, ttail->id);
	ASSERT_EQ(-EBADRQC, t_release1(c.s, 3));
	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 5);
}

/* §5.3 step 12: a fault writing back a CREATE ID rolls everything back. */
TEST(unwritable_create_transfer_is_efault_and_rolls_back)
{
	struct bus1_transfer create = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer *ro = t_rdonly(&create, sizeof(create));
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, ro);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = 1;
	s.msg.ptr_transfers = BUS1_FROM_PTR(ro);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	/* transfers[] is written before errors[]: errors[] is untouched. */
	ASSERT_NO_EFFECT(c, &s);
	ASSERT_EQ(-EBADRQC, t_release1(c.s, 3));
	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 5);
}

/* §5.3 step 12: only CREATE elements of transfers[] are written. */
TEST(non_create_transfers_are_never_written)
{
	struct bus1_transfer tr = { 0, 3 }, *ro;
	uint64_t n, h;
	struct t_send s;
	struct t_msg m;
	struct ctx c;
	int o;

	CTX_OPEN(c);
	ASSERT_OPEN(o);
	ASSERT_EQ(0, t_node(o, c.s, &n, &h));
	ASSERT_EQ(3, h);
	ro = t_rdonly(&tr, sizeof(tr));
	ASSERT_NE(NULL, ro);
	h = 1;
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = 1;
	s.msg.ptr_transfers = BUS1_FROM_PTR(ro);
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EQ(0, s.errors[0]);
	ASSERT_USER(c.r, &m, 1, payload, sizeof(payload));
	ASSERT_EQ(1, m.msg.n_transfers);
	ASSERT_EQ(3, m.tr[0].id);
}

/* §5.3 steps 9/10, §10: counts beyond every quota fail up front. */
TEST(oversized_transfer_count_or_payload_is_edquot)
{
	uint64_t max = t_module_param("bus1", "max_objects");
	const uint64_t big = 3ULL << 29; /* 1.5 GiB */
	void *hole = t_hole(), *bighole = t_big_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(0, max);
	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, bighole);
	CTX_OPEN(c);

	/* The count is checked before transfers[] is read. */
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = max + 1;
	s.msg.ptr_transfers = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = 1ULL << 62;
	s.msg.ptr_transfers = 0;
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = UINT64_MAX;
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/*
	 * 1.5 GiB exceeds what one peer may charge to a user (half of the
	 * default 1 GiB); the payload range is valid but unmapped, and the
	 * charge comes before any payload byte is read.
	 */
	t_send_prep(&s, 1, &h, bighole, big);
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* Exactly MAX_RW_COUNT passes the size check and fails the charge. */
	t_send_prep(&s, 1, &h, bighole, t_max_rw());
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* An iovec total above MAX_RW_COUNT is capped, not an error. */
	t_send_prep(&s, 1, &h, bighole, t_max_rw());
	s.vec[1] = s.vec[0];
	s.msg.n_data_vecs = 2;
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* Without destinations nothing is charged and nothing is read. */
	t_send_prep(&s, 0, NULL, bighole, big);
	ASSERT_EQ(0, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);

	ASSERT_STILL_WORKS(c);
	ASSERT_NEXT_ID(c.s, 3);
	ASSERT_NEXT_ID(c.r, 3);
}

/*
 * Validation order (§5.3, §5.0 rule 2): each test combines a defect of an
 * earlier step with defects of later ones; the earlier step's errno wins.
 */

TEST(order_command_flags_before_message_copy)
{
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.cmd.flags = 1;
	s.cmd.ptr_message = BUS1_FROM_PTR(hole);
	s.cmd.ptr_destinations = BUS1_FROM_PTR(hole);
	s.cmd.ptr_errors = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);
}

TEST(order_message_flags_and_type_before_data_size)
{
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.flags = 1;
	s.msg.n_data = t_max_rw() + 1;
	s.msg.n_data_vecs = 1025;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.type = BUS1_MESSAGE_TYPE_NODE_RELEASE;
	s.msg.n_data = t_max_rw() + 1;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
}

TEST(order_data_size_before_iovecs)
{
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_data = t_max_rw() + 1;
	s.msg.n_data_vecs = 1025;
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_data = t_max_rw() + 1;
	s.msg.ptr_data_vecs = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
}

TEST(order_iovec_count_before_iovec_array)
{
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_data_vecs = 1025;
	s.msg.ptr_data_vecs = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
}

TEST(order_iovec_import_before_data_total)
{
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	/* Unreadable array, n_data 10: EFAULT, not EMSGSIZE. */
	t_send_prep(&s, 1, &h, payload, 4);
	s.msg.n_data = 10;
	s.msg.ptr_data_vecs = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* A 4-byte element in kernel space, n_data 10: EFAULT. */
	t_send_prep(&s, 1, &h, (void *)0xffff888000000000UL, 4);
	s.msg.n_data = 10;
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* An element longer than SSIZE_MAX: EINVAL. */
	t_send_prep(&s, 1, &h, payload, SIZE_MAX);
	s.msg.n_data = 10;
	s.vec[1].iov_base = (void *)payload;
	s.vec[1].iov_len = 1;
	s.msg.n_data_vecs = 2;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
}

TEST(order_data_total_before_transfers)
{
	void *hole = t_hole();
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &h, payload, 4);
	s.msg.n_data = 10;
	s.tr[0].flags = 2;
	s.tr[0].id = 1;
	s.msg.n_transfers = 1;
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	t_send_prep(&s, 1, &h, payload, 4);
	s.msg.n_data = 10;
	s.msg.n_transfers = UINT64_MAX;
	s.msg.ptr_transfers = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EMSGSIZE, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
}

TEST(order_transfer_count_before_transfers_and_destinations)
{
	void *hole = t_hole();
	uint64_t bad = 99;
	struct t_send s;
	struct ctx c;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &bad, payload, sizeof(payload));
	s.msg.n_transfers = 1ULL << 62;
	s.msg.ptr_transfers = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
}

TEST(order_transfers_before_destinations)
{
	void *hole = t_hole();
	uint64_t bad = 99;
	struct t_send s;
	struct ctx c;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	/* Bad flags in transfers[0], unknown destination: EINVAL. */
	t_send_prep(&s, 1, &bad, payload, sizeof(payload));
	s.tr[0].flags = 2;
	s.tr[0].id = 1;
	s.msg.n_transfers = 1;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* CREATE with an ID, unknown destination: EINVAL. */
	t_send_prep(&s, 1, &bad, payload, sizeof(payload));
	s.tr[0].flags = BUS1_TRANSFER_FLAG_CREATE;
	s.tr[0].id = 0;
	s.msg.n_transfers = 1;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* Unknown transfer ID, unreadable destinations: EBADRQC. */
	t_send_prep(&s, 1, &bad, payload, sizeof(payload));
	t_send_handle(&s, 99);
	s.cmd.ptr_destinations = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
	ASSERT_NEXT_ID(c.s, 3);
}

TEST(order_transfer_elements_in_index_order)
{
	struct bus1_transfer *ttail = t_tail(sizeof(struct bus1_transfer));
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, ttail);
	CTX_OPEN(c);
	/* [unknown ID, bad flags]: EBADRQC. */
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	t_send_handle(&s, 99);
	s.tr[1].flags = 2;
	s.tr[1].id = 1;
	s.msg.n_transfers = 2;
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* [bad flags, unknown ID]: EINVAL. */
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.tr[0].flags = 2;
	s.tr[0].id = 1;
	s.tr[1].flags = 0;
	s.tr[1].id = 99;
	s.msg.n_transfers = 2;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* Within one element the flags are checked before the lookup. */
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.tr[0].flags = 2;
	s.tr[0].id = 99;
	s.msg.n_transfers = 1;
	ASSERT_EQ(-EINVAL, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* [unknown ID, unreadable]: EBADRQC; [valid, unreadable]: EFAULT. */
	ttail->flags = 0;
	ttail->id = 99;
	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = 2;
	s.msg.ptr_transfers = BUS1_FROM_PTR(ttail);
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
	ttail->id = 1;
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
	ASSERT_NEXT_ID(c.s, 3);
}

TEST(order_destination_elements_in_index_order)
{
	uint64_t *dtail = t_tail(sizeof(uint64_t));
	uint64_t dst[] = { 1, 99 };
	struct t_send s;
	struct ctx c;

	ASSERT_NE(NULL, dtail);
	CTX_OPEN(c);
	/* [unknown, unreadable]: EBADRQC. */
	*dtail = 99;
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	s.cmd.ptr_destinations = BUS1_FROM_PTR(dtail);
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* [valid, unreadable]: EFAULT. */
	*dtail = 1;
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* [valid, unknown]: EBADRQC, and the valid one gets nothing. */
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
}

TEST(order_destinations_before_payload)
{
	uint64_t dst[] = { 1, 99 };
	void *hole = t_hole(), *bighole = t_big_hole();
	struct t_send s;
	struct ctx c;

	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, bighole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &dst[1], hole, 64);
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	t_send_prep(&s, 2, dst, hole, 64);
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);

	/* The destination's quota charge also precedes the payload copy. */
	t_send_prep(&s, 1, dst, bighole, 3ULL << 29);
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
}

TEST(order_payload_before_writeback)
{
	int32_t zero[2] = { 0 };
	void *hole = t_hole(), *ro = t_rdonly(zero, sizeof(zero));
	struct t_send s;
	struct ctx c;
	uint64_t h = 1;

	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, ro);
	CTX_OPEN(c);
	/* Payload fault: the CREATE element is not written back. */
	t_send_prep(&s, 1, &h, hole, 64);
	t_send_create(&s);
	s.cmd.ptr_errors = BUS1_FROM_PTR(ro);
	ASSERT_EQ(-EFAULT, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);
	ASSERT_EMPTY(c.s);
	ASSERT_EQ(BUS1_TRANSFER_FLAG_CREATE, s.tr[0].flags);
	ASSERT_EQ(BUS1_INVALID, s.tr[0].id);
	ASSERT_EQ(-EBADRQC, t_release1(c.s, 3));
	ASSERT_NEXT_ID(c.s, 5);
}

TEST(order_staging_errors_before_errors_writeback)
{
	void *hole = t_hole();
	uint64_t bad = 99, h = 1;
	struct t_send s;
	struct ctx c;

	ASSERT_NE(NULL, hole);
	CTX_OPEN(c);
	t_send_prep(&s, 1, &bad, payload, sizeof(payload));
	s.cmd.ptr_errors = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);

	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	t_send_handle(&s, 99);
	s.cmd.ptr_errors = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);

	t_send_prep(&s, 1, &h, payload, sizeof(payload));
	s.msg.n_transfers = 1ULL << 62;
	s.cmd.ptr_errors = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EDQUOT, t_send_do(c.s, &s));
	ASSERT_EMPTY(c.r);
	ASSERT_STILL_WORKS(c);
}

/*
 * A failed SEND carrying the only handle to a node leaves the handle count
 * untouched: releasing that handle afterwards yields exactly one
 * HANDLE_RELEASE.
 */
TEST(failed_send_with_transfer_leaves_handle_count_unchanged)
{
	uint64_t dst[] = { 1, 99 }, n, h;
	struct t_send s;
	struct ctx c;
	int o;

	CTX_OPEN(c);
	ASSERT_OPEN(o);
	ASSERT_EQ(0, t_node(o, c.s, &n, &h));
	ASSERT_EQ(3, h);
	t_send_prep(&s, 2, dst, payload, sizeof(payload));
	t_send_handle(&s, 3);
	ASSERT_EQ(-EBADRQC, t_send_do(c.s, &s));
	ASSERT_NO_EFFECT(c, &s);
	ASSERT_EMPTY(o);
	ASSERT_EQ(0, t_release1(c.s, 3));
	ASSERT_HANDLE_RELEASE(o, 1);
	ASSERT_EMPTY(o);
}

TEST_HARNESS_MAIN
