/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ABI checks shared by abi_test (native) and abi_test32 (-m32, the compat
 * path): layout, command words and constants of <linux/bus1.h>, and one
 * round trip through every command with multi-element iovec arrays, whose
 * element size is the one thing that differs between the two. The header is
 * included first and with -Wpedantic promoted to an error, so a header that
 * is not plain ISO C fails to build either binary.
 */
#ifndef BUS1_TEST_ABI_COMMON_H
#define BUS1_TEST_ABI_COMMON_H

#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wpedantic"
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#include <linux/bus1.h>
#pragma GCC diagnostic pop

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdalign.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "util1.h"

TEST(struct_sizes_match_spec)
{
	EXPECT_EQ(16, sizeof(struct bus1_transfer));
	EXPECT_EQ(24, sizeof(struct bus1_metadata));
	EXPECT_EQ(56, sizeof(struct bus1_message));
	EXPECT_EQ(40, sizeof(struct bus1_cmd_transfer));
	EXPECT_EQ(24, sizeof(struct bus1_cmd_release));
	EXPECT_EQ(40, sizeof(struct bus1_cmd_send));
	EXPECT_EQ(24, sizeof(struct bus1_cmd_recv));
}

TEST(structs_are_8_byte_aligned)
{
	EXPECT_EQ(8, alignof(struct bus1_transfer));
	EXPECT_EQ(8, alignof(struct bus1_metadata));
	EXPECT_EQ(8, alignof(struct bus1_message));
	EXPECT_EQ(8, alignof(struct bus1_cmd_transfer));
	EXPECT_EQ(8, alignof(struct bus1_cmd_release));
	EXPECT_EQ(8, alignof(struct bus1_cmd_send));
	EXPECT_EQ(8, alignof(struct bus1_cmd_recv));
}

#define U_OFF(_s, _f, _o) do { \
		EXPECT_EQ((size_t)(_o), offsetof(struct _s, _f)); \
		EXPECT_EQ(8, sizeof(((struct _s *)0)->_f)); \
	} while (0)

TEST(field_offsets_match_spec)
{
	U_OFF(bus1_transfer, flags, 0);
	U_OFF(bus1_transfer, id, 8);

	U_OFF(bus1_metadata, flags, 0);
	U_OFF(bus1_metadata, id, 8);
	U_OFF(bus1_metadata, account, 16);

	U_OFF(bus1_message, flags, 0);
	U_OFF(bus1_message, type, 8);
	U_OFF(bus1_message, n_transfers, 16);
	U_OFF(bus1_message, ptr_transfers, 24);
	U_OFF(bus1_message, n_data, 32);
	U_OFF(bus1_message, n_data_vecs, 40);
	U_OFF(bus1_message, ptr_data_vecs, 48);

	U_OFF(bus1_cmd_transfer, flags, 0);
	U_OFF(bus1_cmd_transfer, to, 8);
	U_OFF(bus1_cmd_transfer, n_transfers, 16);
	U_OFF(bus1_cmd_transfer, ptr_src, 24);
	U_OFF(bus1_cmd_transfer, ptr_dst, 32);

	U_OFF(bus1_cmd_release, flags, 0);
	U_OFF(bus1_cmd_release, n_ids, 8);
	U_OFF(bus1_cmd_release, ptr_ids, 16);

	U_OFF(bus1_cmd_send, flags, 0);
	U_OFF(bus1_cmd_send, n_destinations, 8);
	U_OFF(bus1_cmd_send, ptr_destinations, 16);
	U_OFF(bus1_cmd_send, ptr_errors, 24);
	U_OFF(bus1_cmd_send, ptr_message, 32);

	U_OFF(bus1_cmd_recv, flags, 0);
	U_OFF(bus1_cmd_recv, ptr_metadata, 8);
	U_OFF(bus1_cmd_recv, ptr_message, 16);
}

TEST(command_words_match_spec)
{
	EXPECT_EQ(0xC0289700u, (uint32_t)BUS1_CMD_TRANSFER);
	EXPECT_EQ(0xC0189701u, (uint32_t)BUS1_CMD_RELEASE);
	EXPECT_EQ(0xC0289702u, (uint32_t)BUS1_CMD_SEND);
	EXPECT_EQ(0xC0189703u, (uint32_t)BUS1_CMD_RECV);

	/* Decoded: read-write, magic 0x97, numbers 0..3, struct sizes. */
	EXPECT_EQ(_IOC_READ | _IOC_WRITE, _IOC_DIR(BUS1_CMD_TRANSFER));
	EXPECT_EQ(_IOC_READ | _IOC_WRITE, _IOC_DIR(BUS1_CMD_RECV));
	EXPECT_EQ(0x97, _IOC_TYPE(BUS1_CMD_SEND));
	EXPECT_EQ(0x97, BUS1_IOCTL_MAGIC);
	EXPECT_EQ(0, _IOC_NR(BUS1_CMD_TRANSFER));
	EXPECT_EQ(1, _IOC_NR(BUS1_CMD_RELEASE));
	EXPECT_EQ(2, _IOC_NR(BUS1_CMD_SEND));
	EXPECT_EQ(3, _IOC_NR(BUS1_CMD_RECV));
	EXPECT_EQ(40, _IOC_SIZE(BUS1_CMD_TRANSFER));
	EXPECT_EQ(24, _IOC_SIZE(BUS1_CMD_RELEASE));
	EXPECT_EQ(40, _IOC_SIZE(BUS1_CMD_SEND));
	EXPECT_EQ(24, _IOC_SIZE(BUS1_CMD_RECV));
}

TEST(constants_match_spec)
{
	uint64_t invalid = BUS1_INVALID, managed = BUS1_MANAGED;
	uint64_t create = BUS1_TRANSFER_FLAG_CREATE;

	EXPECT_EQ(~0ULL, invalid);
	EXPECT_EQ(8, sizeof(BUS1_INVALID));
	EXPECT_EQ(1, managed);
	EXPECT_EQ(8, sizeof(BUS1_MANAGED));
	EXPECT_EQ(1, create);
	EXPECT_EQ(8, sizeof(BUS1_TRANSFER_FLAG_CREATE));
	EXPECT_EQ(0, BUS1_MESSAGE_TYPE_USER);
	EXPECT_EQ(1, BUS1_MESSAGE_TYPE_NODE_RELEASE);
	EXPECT_EQ(2, BUS1_MESSAGE_TYPE_HANDLE_RELEASE);
	EXPECT_EQ(3, _BUS1_MESSAGE_TYPE_N);
}

TEST(pointer_macros_zero_extend_and_round_trip)
{
	static char obj[4];
	void *p = &obj[1];
	uint64_t v = BUS1_FROM_PTR(p);

	EXPECT_EQ((uint64_t)(uintptr_t)p, v);
	if (sizeof(void *) == 4) {
		EXPECT_EQ(0, v >> 32);
	}
	EXPECT_TRUE(BUS1_TO_PTR(v) == p);
	EXPECT_EQ(0, BUS1_FROM_PTR(NULL));
	EXPECT_TRUE(BUS1_TO_PTR(0) == NULL);
}

/*
 * TRANSFER, SEND with 3 iovecs, RECV with 2 iovecs, RELEASE: exact IDs,
 * bytes and notifications. With the wrong iovec element size the kernel
 * would read other lengths and bases than the ones given here.
 */
TEST(transfer_send_recv_release_round_trip)
{
	struct bus1_transfer src[2] = {
		{ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID },
		{ BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID },
	};
	struct bus1_transfer dst[2] = { { 7, 7 }, { 7, 7 } };
	struct bus1_transfer tr[1], rtr[2];
	char p0[] = "hello ", p1[] = "compat ", p2[] = "world";
	struct iovec sv[3] = {
		{ p0, 6 }, { p1, 7 }, { p2, 5 },
	};
	char r0[10], r1[100];
	struct iovec rv[2] = { { r0, sizeof(r0) }, { r1, sizeof(r1) } };
	struct bus1_message msg = {
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_transfers = 1,
		.ptr_transfers = BUS1_FROM_PTR(tr),
		.n_data = 18,
		.n_data_vecs = 3,
		.ptr_data_vecs = BUS1_FROM_PTR(sv),
	};
	uint64_t dest = 1;
	int32_t err[2] = { 77, 77 };
	struct u_rx rx;
	int a, b;

	a = t_open();
	b = t_open();
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);

	/* Two nodes in b, handles to them in a. */
	ASSERT_EQ(0, t_transfer(b, a, 2, src, dst));
	EXPECT_EQ(0, src[0].flags);
	EXPECT_EQ(1, src[0].id);
	EXPECT_EQ(0, src[1].flags);
	EXPECT_EQ(3, src[1].id);
	EXPECT_EQ(0, dst[0].flags);
	EXPECT_EQ(1, dst[0].id);
	EXPECT_EQ(0, dst[1].flags);
	EXPECT_EQ(3, dst[1].id);

	/* a sends 18 bytes from 3 iovecs, carrying its handle 3, to node 1. */
	tr[0] = (struct bus1_transfer){ 0, 3 };
	ASSERT_EQ(0, u_send_msg(a, 1, &dest, &msg, err));
	EXPECT_EQ(0, err[0]);
	EXPECT_EQ(77, err[1]);

	memset(r0, '.', sizeof(r0));
	memset(r1, '.', sizeof(r1));
	memset(rtr, 0xff, sizeof(rtr));
	u_rx_init(&rx, rtr, 2, rv, 2, sizeof(r0) + sizeof(r1));
	ASSERT_EQ(0, u_rx(b, &rx));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, rx.msg.type);
	EXPECT_EQ(0, rx.msg.flags);
	EXPECT_EQ(18, rx.msg.n_data);
	EXPECT_EQ(1, rx.msg.n_transfers);
	EXPECT_EQ(2, rx.msg.n_data_vecs);
	EXPECT_EQ(BUS1_FROM_PTR(rv), rx.msg.ptr_data_vecs);
	EXPECT_EQ(BUS1_FROM_PTR(rtr), rx.msg.ptr_transfers);
	EXPECT_EQ(0, rx.meta.flags);
	EXPECT_EQ(1, rx.meta.id);
	EXPECT_EQ((uint64_t)geteuid(), rx.meta.account);
	EXPECT_EQ(0, memcmp(r0, "hello comp", 10));
	EXPECT_EQ(0, memcmp(r1, "at world.", 9));
	/* b's counter is at 5: the carried handle to its own node 3. */
	EXPECT_EQ(0, rtr[0].flags);
	EXPECT_EQ(5, rtr[0].id);
	EXPECT_EQ(~0ULL, rtr[1].id);
	/* The iovec array itself is never written. */
	EXPECT_TRUE(rv[0].iov_base == (void *)r0);
	EXPECT_EQ(sizeof(r0), rv[0].iov_len);
	EXPECT_TRUE(rv[1].iov_base == (void *)r1);
	EXPECT_EQ(sizeof(r1), rv[1].iov_len);

	/* Node 1 released: a gets NODE_RELEASE for its handle 1. */
	ASSERT_EQ(0, t_release1(b, 1));
	u_rx_init(&rx, NULL, 0, NULL, 0, 0);
	ASSERT_EQ(0, u_rx(a, &rx));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, rx.msg.type);
	EXPECT_EQ(1, rx.meta.id);
	EXPECT_EQ(BUS1_INVALID, rx.meta.account);
	EXPECT_EQ(-EBADRQC, t_release1(a, 1));

	/* Node 3 keeps a handle in b until b releases it: then HANDLE_RELEASE. */
	ASSERT_EQ(0, t_release1(a, 3));
	EXPECT_EQ(-EAGAIN, t_recv(b, &(struct t_msg){ 0 }));
	ASSERT_EQ(0, t_release1(b, 5));
	u_rx_init(&rx, NULL, 0, NULL, 0, 0);
	ASSERT_EQ(0, u_rx(b, &rx));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, rx.msg.type);
	EXPECT_EQ(3, rx.meta.id);
	EXPECT_EQ(-EBADRQC, t_release1(b, 3));
	EXPECT_EQ(-EAGAIN, u_rx_again(a, &rx));
}

/* Receive a queued 4-byte message from b into @vecs; set-up for the next two. */
static int abi_queue_one(int *a, int *b)
{
	uint64_t h;

	*a = t_open();
	*b = t_open();
	if (*a < 0 || *b < 0)
		return -1;
	if (t_node(*b, *a, NULL, &h) || h != 1)
		return -1;
	return t_send1(*a, h, "ping", 4);
}

TEST(recv_iovec_length_above_ssize_max_is_einval)
{
	char buf[8];
	struct iovec v[2] = {
		{ buf, sizeof(buf) },
		{ buf, (size_t)SSIZE_MAX + 1 },
	};
	struct u_rx rx;
	int a, b;

	ASSERT_EQ(0, abi_queue_one(&a, &b));
	u_rx_init(&rx, NULL, 0, v, 2, 8);
	EXPECT_EQ(-EINVAL, u_rx(b, &rx));
	/* The entry stays queued. */
	u_rx_init(&rx, NULL, 0, v, 1, 8);
	ASSERT_EQ(0, u_rx(b, &rx));
	EXPECT_EQ(4, rx.msg.n_data);
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
}

TEST(recv_more_than_1024_iovecs_is_einval)
{
	static struct iovec v[1025];
	char buf[4];
	struct u_rx rx;
	int a, b, i;

	for (i = 0; i < 1025; i++)
		v[i] = (struct iovec){ buf + (i % 4), 1 };
	ASSERT_EQ(0, abi_queue_one(&a, &b));
	u_rx_init(&rx, NULL, 0, v, 1025, 4);
	EXPECT_EQ(-EINVAL, u_rx(b, &rx));
	/* 1024 elements are fine; the 4 bytes land one per element. */
	u_rx_init(&rx, NULL, 0, v, 1024, 4);
	ASSERT_EQ(0, u_rx(b, &rx));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
}

#endif /* BUS1_TEST_ABI_COMMON_H */
