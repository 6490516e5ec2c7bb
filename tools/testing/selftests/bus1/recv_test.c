// SPDX-License-Identifier: GPL-2.0
/*
 * BUS1_CMD_RECV: validation and its order, capacities and the EMSGSIZE
 * write-back, faults that keep the entry queued (with the same transfer
 * IDs on retry), exactly which user memory is written, ordering, stale
 * entries, notifications, and metadata.account across credentials and user
 * namespaces.
 */
#include <sched.h>
#include "kselftest_harness.h"
#include "util1.h"

/*
 * Receiver @r owns node @node (ID 1); sender @s holds @handle (ID 1) to it
 * and owns node 3 with its handle 5, which messages may carry.
 */
struct rs {
	int r, s;
	uint64_t node, handle;
};

static int rs_init(struct rs *p)
{
	uint64_t n, h;

	p->r = t_open();
	p->s = t_open();
	if (p->r < 0 || p->s < 0)
		return -1;
	if (t_node(p->r, p->s, &p->node, &p->handle) ||
	    p->node != 1 || p->handle != 1)
		return -1;
	if (t_node(p->s, -1, &n, &h) || n != 3 || h != 5)
		return -1;
	return 0;
}

/* Send @len bytes of @data to r's node carrying @k copies of s's handle 5. */
static int rs_send(struct rs *p, const char *data, size_t len, unsigned int k)
{
	struct bus1_transfer tr[8];
	unsigned int i;

	for (i = 0; i < k && i < 8; i++)
		tr[i] = (struct bus1_transfer){ 0, 5 };
	return u_send_tr(p->s, p->handle, data, len, k, tr);
}

/* The next IDs the receiver allocates (node of a CREATE to self). */
static uint64_t next_id(int fd)
{
	uint64_t node;

	return t_node(fd, -1, &node, NULL) ? 0 : node;
}

TEST(empty_queue_is_eagain_and_writes_nothing)
{
	struct u_rx rx;
	struct bus1_message before;
	struct bus1_metadata canary;
	char buf[8];
	struct iovec v = { buf, sizeof(buf) };
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	u_rx_init(&rx, NULL, 4, &v, 1, sizeof(buf));
	memset(&rx.meta, 0x5a, sizeof(rx.meta));
	canary = rx.meta;
	before = rx.msg;
	EXPECT_EQ(-EAGAIN, u_rx(fd, &rx));
	EXPECT_EQ(0, memcmp(&before, &rx.msg, sizeof(before)));
	EXPECT_EQ(0, memcmp(&canary, &rx.meta, sizeof(canary)));
	/* And again: EAGAIN is not a one-shot state. */
	EXPECT_EQ(-EAGAIN, u_rx_again(fd, &rx));
}

TEST(invalid_flags_or_type_are_einval_and_the_message_stays)
{
	static const uint64_t cmd_flags[] = { 1, 1ULL << 63 };
	static const uint64_t msg_flags[] = { 1, 2, 1ULL << 63 };
	static const uint64_t types[] = {
		BUS1_MESSAGE_TYPE_USER, BUS1_MESSAGE_TYPE_NODE_RELEASE,
		BUS1_MESSAGE_TYPE_HANDLE_RELEASE, _BUS1_MESSAGE_TYPE_N, 4,
		1ULL << 63, BUS1_INVALID - 1,
	};
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	unsigned int i;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "keep", 4, 0));

	for (i = 0; i < U_ARRAY_SIZE(cmd_flags); i++) {
		u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
		rx.cmd.flags = cmd_flags[i];
		EXPECT_EQ(-EINVAL, u_rx(p.r, &rx));
	}
	for (i = 0; i < U_ARRAY_SIZE(msg_flags); i++) {
		u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
		rx.msg.flags = msg_flags[i];
		EXPECT_EQ(-EINVAL, u_rx(p.r, &rx));
		EXPECT_EQ(BUS1_INVALID, rx.msg.type);
	}
	for (i = 0; i < U_ARRAY_SIZE(types); i++) {
		u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
		rx.msg.type = types[i];
		EXPECT_EQ(-EINVAL, u_rx(p.r, &rx))
			TH_LOG("type %#llx", (unsigned long long)types[i]);
		EXPECT_EQ(types[i], rx.msg.type);
		EXPECT_EQ(sizeof(buf), rx.msg.n_data);
	}

	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(4, rx.msg.n_data);
	EXPECT_EQ(0, memcmp(buf, "keep", 4));
	EXPECT_EQ(-EAGAIN, u_rx_again(p.r, &rx));
}

/* Steps 2-4 come before the queue is looked at: EINVAL, not EAGAIN. */
TEST(arguments_checked_before_the_queue)
{
	struct u_rx rx;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	u_rx_init(&rx, NULL, 0, NULL, 0, 0);
	rx.cmd.flags = 1;
	EXPECT_EQ(-EINVAL, u_rx(fd, &rx));
	u_rx_init(&rx, NULL, 0, NULL, 0, 0);
	rx.msg.flags = 1;
	EXPECT_EQ(-EINVAL, u_rx(fd, &rx));
	u_rx_init(&rx, NULL, 0, NULL, 0, 0);
	rx.msg.type = BUS1_MESSAGE_TYPE_USER;
	EXPECT_EQ(-EINVAL, u_rx(fd, &rx));
}

/* Command copy (1), flags (2), message copy (3), in that order. */
TEST(unreadable_command_or_message_is_efault_and_entry_stays)
{
	struct bus1_cmd_recv *cmd;
	struct bus1_message *msg;
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;
	void *hole;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "queued", 6, 0));
	hole = u_map_hole();
	cmd = u_map_before_hole(sizeof(*cmd) - 8);
	msg = u_map_before_hole(sizeof(*msg) - 8);
	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, cmd);
	ASSERT_NE(NULL, msg);

	EXPECT_EQ(-EFAULT, t_ioctl(p.r, BUS1_CMD_RECV, hole));
	cmd->flags = 0;
	cmd->ptr_metadata = BUS1_FROM_PTR(&rx.meta);
	EXPECT_EQ(-EFAULT, t_ioctl(p.r, BUS1_CMD_RECV, cmd));

	/* cmd.flags is checked before the message is read. */
	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	rx.cmd.flags = 1;
	rx.cmd.ptr_message = BUS1_FROM_PTR(hole);
	EXPECT_EQ(-EINVAL, u_rx(p.r, &rx));
	rx.cmd.flags = 0;
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	/* The last field of the message (ptr_data_vecs) is unreadable. */
	memcpy(msg, &rx.msg, sizeof(*msg) - 8);
	msg->type = BUS1_INVALID;
	rx.cmd.ptr_message = BUS1_FROM_PTR(msg);
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));

	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(6, rx.msg.n_data);
	EXPECT_EQ(0, memcmp(buf, "queued", 6));
}

/* Kernel addresses and arrays that wrap around the address space. */
TEST(kernel_or_wrapping_pointers_are_efault_and_entry_stays)
{
	struct bus1_transfer tr[2];
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "kernel", 6, 2));

	EXPECT_EQ(-EFAULT, t_ioctl(p.r, BUS1_CMD_RECV,
				   (void *)(uintptr_t)U_KPTR_DIRECT));
	u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
	rx.cmd.ptr_message = U_KPTR_DIRECT;
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
	rx.cmd.ptr_metadata = U_KPTR_TEXT;
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
	rx.msg.ptr_transfers = U_PTR_WRAP;
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	u_rx_init(&rx, tr, 2, (void *)(uintptr_t)U_KPTR_DIRECT, 1, sizeof(buf));
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	u_rx_init(&rx, tr, 2, (void *)(uintptr_t)U_PTR_WRAP, 2, sizeof(buf));
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));

	u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(0, memcmp(buf, "kernel", 6));
	EXPECT_EQ(3, tr[0].id);
	EXPECT_EQ(5, tr[1].id);
}

TEST(success_returns_0_sets_results_and_echoes_inputs)
{
	struct bus1_transfer tr[4];
	char b0[3], b1[64];
	struct iovec v[2] = { { b0, sizeof(b0) }, { b1, sizeof(b1) } };
	struct u_rx rx;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "hello", 5, 1));

	u_rx_init(&rx, tr, 4, v, 2, sizeof(b0) + sizeof(b1));
	memset(&rx.meta, 0xa5, sizeof(rx.meta));
	/* The return value itself is 0 (not 1). */
	ASSERT_EQ(0, ioctl(p.r, BUS1_CMD_RECV, &rx.cmd));
	EXPECT_EQ(0, rx.msg.flags);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, rx.msg.type);
	EXPECT_EQ(1, rx.msg.n_transfers);
	EXPECT_EQ(BUS1_FROM_PTR(tr), rx.msg.ptr_transfers);
	EXPECT_EQ(5, rx.msg.n_data);
	EXPECT_EQ(2, rx.msg.n_data_vecs);
	EXPECT_EQ(BUS1_FROM_PTR(v), rx.msg.ptr_data_vecs);
	EXPECT_EQ(0, rx.meta.flags);
	EXPECT_EQ(p.node, rx.meta.id);
	EXPECT_EQ((uint64_t)geteuid(), rx.meta.account);
	EXPECT_EQ(0, tr[0].flags);
	EXPECT_EQ(3, tr[0].id);
	EXPECT_EQ(0, memcmp(b0, "hel", 3));
	EXPECT_EQ(0, memcmp(b1, "lo", 2));
}

/*
 * Data capacity one byte short: EMSGSIZE, and the metadata and message
 * struct describe what is waiting; nothing else is written.
 */
TEST(small_data_capacity_is_emsgsize_with_write_back)
{
	struct bus1_transfer tr[4], canary[4];
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "0123456789", 10, 1));

	memset(tr, 0x77, sizeof(tr));
	memcpy(canary, tr, sizeof(tr));
	memset(buf, '.', sizeof(buf));
	u_rx_init(&rx, tr, 4, &v, 1, 9);
	EXPECT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, rx.msg.type);
	EXPECT_EQ(0, rx.msg.flags);
	EXPECT_EQ(10, rx.msg.n_data);
	EXPECT_EQ(1, rx.msg.n_transfers);
	EXPECT_EQ(BUS1_FROM_PTR(tr), rx.msg.ptr_transfers);
	EXPECT_EQ(1, rx.msg.n_data_vecs);
	EXPECT_EQ(BUS1_FROM_PTR(&v), rx.msg.ptr_data_vecs);
	EXPECT_EQ(0, rx.meta.flags);
	EXPECT_EQ(p.node, rx.meta.id);
	EXPECT_EQ((uint64_t)geteuid(), rx.meta.account);
	EXPECT_EQ(0, memcmp(tr, canary, sizeof(tr)));
	EXPECT_EQ('.', buf[0]);

	/* A retry must reset the type: it now says USER. */
	rx.msg.n_data = sizeof(buf);
	EXPECT_EQ(-EINVAL, u_rx(p.r, &rx));
	rx.msg.type = BUS1_INVALID;
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(10, rx.msg.n_data);
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(3, tr[0].id);
	EXPECT_EQ(-EAGAIN, u_rx_again(p.r, &rx));
}

TEST(small_transfer_capacity_is_emsgsize_and_array_untouched)
{
	struct bus1_transfer tr[2];
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;
	void *hole;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "abc", 3, 2));
	hole = u_map_hole();
	ASSERT_NE(NULL, hole);

	tr[0] = (struct bus1_transfer){ 0xC0FFEE, 0xC0FFEE };
	tr[1] = tr[0];
	u_rx_init(&rx, tr, 1, &v, 1, sizeof(buf));
	EXPECT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	EXPECT_EQ(2, rx.msg.n_transfers);
	EXPECT_EQ(3, rx.msg.n_data);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, rx.msg.type);
	EXPECT_EQ(0xC0FFEE, tr[0].flags);
	EXPECT_EQ(0xC0FFEE, tr[0].id);
	EXPECT_EQ(0xC0FFEE, tr[1].id);

	/* Capacity 0: the array is not even accessed. */
	u_rx_init(&rx, hole, 0, &v, 1, sizeof(buf));
	EXPECT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	EXPECT_EQ(2, rx.msg.n_transfers);

	u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(3, tr[0].id);
	EXPECT_EQ(5, tr[1].id);
}

/* EMSGSIZE assigns no IDs: the retry's IDs continue the counter. */
TEST(emsgsize_consumes_no_ids)
{
	struct bus1_transfer tr[3];
	char buf[8];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;
	int i;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "xy", 2, 3));
	for (i = 0; i < 3; i++) {
		u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
		ASSERT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
		u_rx_init(&rx, tr, 3, &v, 1, 1);
		ASSERT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	}
	u_rx_init(&rx, tr, 3, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(3, tr[0].id);
	EXPECT_EQ(5, tr[1].id);
	EXPECT_EQ(7, tr[2].id);
	EXPECT_EQ(9, next_id(p.r));
}

/* The iovecs must hold the declared capacity, not just the payload. */
TEST(iovec_total_below_capacity_is_emsgsize_with_write_back)
{
	char buf[50];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "ten bytes!", 10, 0));
	memset(buf, '.', sizeof(buf));
	u_rx_init(&rx, NULL, 0, &v, 1, 100);
	EXPECT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	EXPECT_EQ(10, rx.msg.n_data);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, rx.msg.type);
	EXPECT_EQ(p.node, rx.meta.id);
	EXPECT_EQ('.', buf[0]);

	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(0, memcmp(buf, "ten bytes!", 10));
}

/* Capacities (6.1) are checked before the iovec array is imported (6.2). */
TEST(capacities_checked_before_iovec_import)
{
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;
	void *hole;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "0123456789", 10, 1));
	hole = u_map_hole();
	ASSERT_NE(NULL, hole);

	u_rx_init(&rx, NULL, 0, hole, 5000, 100);
	EXPECT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	u_rx_init(&rx, NULL, 4, hole, 5000, 5);
	EXPECT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	u_rx_init(&rx, NULL, 4, hole, 1, 5);
	EXPECT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	EXPECT_EQ(10, rx.msg.n_data);

	/* With enough capacity the iovec defects surface. */
	u_rx_init(&rx, (struct bus1_transfer[1]){ { 0, 0 } }, 1, hole, 5000, 100);
	EXPECT_EQ(-EINVAL, u_rx(p.r, &rx));
	u_rx_init(&rx, (struct bus1_transfer[1]){ { 0, 0 } }, 1, hole, 1, 10);
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	u_rx_init(&rx, (struct bus1_transfer[1]){ { 0, 0 } }, 1, &v, 1, 16);
	ASSERT_EQ(0, u_rx(p.r, &rx));
}

TEST(more_than_1024_iovecs_is_einval_only_for_user_messages)
{
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	/* An empty queue is EAGAIN whatever the vector count. */
	u_rx_init(&rx, NULL, 0, &v, 5000, sizeof(buf));
	EXPECT_EQ(-EAGAIN, u_rx_again(p.r, &rx));

	ASSERT_EQ(0, rs_send(&p, "v", 1, 0));
	u_rx_init(&rx, NULL, 0, &v, 1025, sizeof(buf));
	EXPECT_EQ(-EINVAL, u_rx(p.r, &rx));
	u_rx_init(&rx, NULL, 0, &v, 1ULL << 32, sizeof(buf));
	EXPECT_EQ(-EINVAL, u_rx(p.r, &rx));
	u_rx_init(&rx, NULL, 0, &v, (1ULL << 32) + 1, sizeof(buf));
	EXPECT_EQ(-EINVAL, u_rx(p.r, &rx));
	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ('v', buf[0]);
}

TEST(unusable_iovec_array_or_buffer_is_efault_and_entry_stays)
{
	char buf[16], zero[16] = { 0 };
	struct iovec v = { buf, sizeof(buf) };
	struct iovec bad;
	struct u_rx rx;
	struct rs p;
	void *hole, *ro;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "payload", 7, 0));
	hole = u_map_hole();
	ro = u_map_readonly(zero, sizeof(zero));
	ASSERT_NE(NULL, hole);
	ASSERT_NE(NULL, ro);

	u_rx_init(&rx, NULL, 0, hole, 1, 16);
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	bad = (struct iovec){ hole, 16 };
	u_rx_init(&rx, NULL, 0, &bad, 1, 16);
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	bad = (struct iovec){ ro, 16 };
	u_rx_init(&rx, NULL, 0, &bad, 1, 16);
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	EXPECT_EQ(0, memcmp(ro, zero, sizeof(zero)));

	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(7, rx.msg.n_data);
	EXPECT_EQ(0, memcmp(buf, "payload", 7));
}

/*
 * The metadata write (6.7) faults after the transfer IDs were assigned and
 * written (6.5): they name nothing until a RECV succeeds, and every retry
 * reports the same IDs.
 */
TEST(unmapped_metadata_keeps_assigned_ids_until_retry)
{
	struct bus1_transfer tr[2], src, dst;
	char buf[8];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct t_msg m;
	struct rs p;
	void *hole;
	int i;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "ids", 3, 2));
	hole = u_map_hole();
	ASSERT_NE(NULL, hole);

	for (i = 0; i < 2; i++) {
		memset(tr, 0, sizeof(tr));
		u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
		rx.cmd.ptr_metadata = BUS1_FROM_PTR(hole);
		ASSERT_EQ(-EFAULT, u_rx(p.r, &rx));
		EXPECT_EQ(3, tr[0].id);
		EXPECT_EQ(5, tr[1].id);

		/* Assigned but not installed. */
		EXPECT_EQ(-EBADRQC, t_release1(p.r, 3));
		EXPECT_EQ(-EBADRQC, t_send1(p.r, 5, "x", 1));
		src = (struct bus1_transfer){ 0, 3 };
		EXPECT_EQ(-EBADRQC, t_transfer(p.r, p.s, 1, &src, &dst));
	}

	memset(tr, 0, sizeof(tr));
	u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(3, tr[0].id);
	EXPECT_EQ(5, tr[1].id);
	EXPECT_EQ(p.node, rx.meta.id);
	EXPECT_EQ(0, memcmp(buf, "ids", 3));

	/* Now valid: they reach s's node 3. */
	ASSERT_EQ(0, t_send1(p.r, 5, "back", 4));
	ASSERT_EQ(0, t_recv(p.s, &m));
	EXPECT_EQ(3, m.meta.id);
	EXPECT_EQ(0, t_release1(p.r, 3));
	/* No further IDs were taken by the failed attempts. */
	EXPECT_EQ(7, next_id(p.r));
}

/* A fault writing the transfer array (6.5): the retry gets the same IDs. */
TEST(readonly_transfer_array_is_efault_and_retry_reports_same_ids)
{
	struct bus1_transfer zero[2] = { { 0, 0 } }, *ro, tr[2];
	char buf[8];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "ro", 2, 2));
	ro = u_map_readonly(zero, sizeof(zero));
	ASSERT_NE(NULL, ro);

	u_rx_init(&rx, ro, 2, &v, 1, sizeof(buf));
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));
	EXPECT_EQ(-EBADRQC, t_release1(p.r, 3));

	u_rx_init(&rx, tr, 2, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(3, tr[0].id);
	EXPECT_EQ(5, tr[1].id);
	EXPECT_EQ(7, next_id(p.r));
}

/*
 * The message struct is readable but not writable: the final write-back
 * (6.8, or the EMSGSIZE write-back) faults and the entry stays. Likewise
 * an unwritable metadata pointer turns EMSGSIZE into EFAULT.
 */
TEST(unwritable_message_or_metadata_is_efault_and_entry_stays)
{
	struct bus1_message *ro;
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct rs p;
	void *hole;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "struct", 6, 0));
	hole = u_map_hole();
	ASSERT_NE(NULL, hole);

	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	ro = u_map_readonly(&rx.msg, sizeof(rx.msg));
	ASSERT_NE(NULL, ro);
	rx.cmd.ptr_message = BUS1_FROM_PTR(ro);
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));

	u_rx_init(&rx, NULL, 0, &v, 1, 2);
	ro = u_map_readonly(&rx.msg, sizeof(rx.msg));
	ASSERT_NE(NULL, ro);
	rx.cmd.ptr_message = BUS1_FROM_PTR(ro);
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));

	u_rx_init(&rx, NULL, 0, &v, 1, 2);
	rx.cmd.ptr_metadata = BUS1_FROM_PTR(hole);
	EXPECT_EQ(-EFAULT, u_rx(p.r, &rx));

	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(6, rx.msg.n_data);
	EXPECT_EQ(0, memcmp(buf, "struct", 6));
	EXPECT_EQ(-EAGAIN, u_rx_again(p.r, &rx));
}

/*
 * Exactly n_data bytes are written: the rest of the buffer keeps its
 * contents and an unmapped iovec after the payload is never touched.
 */
TEST(only_the_payload_bytes_are_written)
{
	char buf[64], *tail;
	struct iovec v[2];
	struct u_rx rx;
	struct rs p;
	int i;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "0123456789", 10, 0));
	ASSERT_EQ(0, rs_send(&p, "abcdef", 6, 0));
	tail = u_map_hole();
	ASSERT_NE(NULL, tail);

	memset(buf, '.', sizeof(buf));
	v[0] = (struct iovec){ buf, sizeof(buf) };
	u_rx_init(&rx, NULL, 0, v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	for (i = 10; i < (int)sizeof(buf); i++) {
		EXPECT_EQ('.', buf[i]);
	}

	memset(buf, '.', sizeof(buf));
	v[0] = (struct iovec){ buf, 8 };
	v[1] = (struct iovec){ tail, 8 };
	u_rx_init(&rx, NULL, 0, v, 2, 16);
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(6, rx.msg.n_data);
	EXPECT_EQ(0, memcmp(buf, "abcdef..", 8));
}

TEST(thousand_messages_arrive_in_send_order)
{
	uint32_t i, got;
	struct t_msg m;
	struct rs p;
	int bad = 0;

	ASSERT_EQ(0, rs_init(&p));
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, t_send1(p.s, p.handle, &i, sizeof(i)));
	}
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, t_recv(p.r, &m));
		memcpy(&got, m.data, sizeof(got));
		if (got != i || m.msg.n_data != sizeof(got))
			bad++;
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(-EAGAIN, t_recv(p.r, &m));
}

/* All nodes of a peer share its queue: send order holds across them. */
TEST(send_order_holds_across_nodes_of_one_peer)
{
	struct bus1_transfer src[3], dst[3];
	uint32_t i, got;
	struct t_msg m;
	int r, s, j;

	r = t_open();
	s = t_open();
	ASSERT_GE(r, 0);
	ASSERT_GE(s, 0);
	for (j = 0; j < 3; j++)
		src[j] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
						 BUS1_INVALID };
	ASSERT_EQ(0, t_transfer(r, s, 3, src, dst));

	for (i = 0; i < 30; i++) {
		ASSERT_EQ(0, t_send1(s, dst[(i * 7) % 3].id, &i, sizeof(i)));
	}
	for (i = 0; i < 30; i++) {
		ASSERT_EQ(0, t_recv(r, &m));
		memcpy(&got, m.data, sizeof(got));
		EXPECT_EQ(i, got);
		EXPECT_EQ(src[(i * 7) % 3].id, m.meta.id);
	}
	EXPECT_EQ(-EAGAIN, t_recv(r, &m));
}

TEST(message_to_released_node_is_skipped)
{
	uint64_t n2, h2;
	struct t_msg m;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, t_node(p.r, p.s, &n2, &h2));
	ASSERT_EQ(0, t_send1(p.s, p.handle, "m1", 2));
	ASSERT_EQ(0, t_send1(p.s, h2, "m2", 2));
	ASSERT_EQ(0, t_send1(p.s, p.handle, "m3", 2));
	ASSERT_EQ(0, t_release1(p.r, p.node));

	ASSERT_EQ(0, t_recv(p.r, &m));
	EXPECT_EQ(n2, m.meta.id);
	EXPECT_EQ(0, memcmp(m.data, "m2", 2));
	EXPECT_EQ(-EAGAIN, t_recv(p.r, &m));
}

TEST(queue_of_only_stale_entries_is_eagain_and_clears_pollin)
{
	uint64_t sn, rh;
	struct t_msg m;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	/* Two messages for r's node, then the node goes. */
	ASSERT_EQ(0, t_send1(p.s, p.handle, "a", 1));
	ASSERT_EQ(0, t_send1(p.s, p.handle, "b", 1));
	/* A NODE_RELEASE for r's handle to a node of s, then the handle goes. */
	ASSERT_EQ(0, t_node(p.s, p.r, &sn, &rh));
	ASSERT_EQ(0, t_release1(p.s, sn));
	ASSERT_EQ(0, t_release(p.r, 2, (uint64_t[]){ p.node, rh }));

	EXPECT_EQ(-EAGAIN, t_recv(p.r, &m));
	EXPECT_EQ(POLLOUT | POLLWRNORM, u_revents(p.r));
	EXPECT_EQ(-EAGAIN, t_recv(p.r, &m));
}

/*
 * Notifications have no payload and no transfers: RECV neither reads nor
 * writes the transfer array or the iovecs, and echoes the pointers.
 */
TEST(notifications_leave_transfer_and_iovec_pointers_alone)
{
	uint64_t sn, rh;
	struct u_rx rx;
	struct rs p;
	void *hole;

	ASSERT_EQ(0, rs_init(&p));
	hole = u_map_hole();
	ASSERT_NE(NULL, hole);

	/* NODE_RELEASE for r's handle rh. */
	ASSERT_EQ(0, t_node(p.s, p.r, &sn, &rh));
	ASSERT_EQ(0, t_release1(p.s, sn));
	u_rx_init(&rx, NULL, 0, hole, 5000, 0);
	memset(&rx.meta, 0x5a, sizeof(rx.meta));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, rx.msg.type);
	EXPECT_EQ(0, rx.msg.flags);
	EXPECT_EQ(0, rx.msg.n_transfers);
	EXPECT_EQ(0, rx.msg.ptr_transfers);
	EXPECT_EQ(0, rx.msg.n_data);
	EXPECT_EQ(5000, rx.msg.n_data_vecs);
	EXPECT_EQ(BUS1_FROM_PTR(hole), rx.msg.ptr_data_vecs);
	EXPECT_EQ(0, rx.meta.flags);
	EXPECT_EQ(rh, rx.meta.id);
	EXPECT_EQ(BUS1_INVALID, rx.meta.account);

	/* HANDLE_RELEASE for r's node; transfer pointer unmapped too. */
	ASSERT_EQ(0, t_release1(p.s, p.handle));
	u_rx_init(&rx, hole, 7, hole, 1, 3);
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, rx.msg.type);
	EXPECT_EQ(0, rx.msg.n_transfers);
	EXPECT_EQ(BUS1_FROM_PTR(hole), rx.msg.ptr_transfers);
	EXPECT_EQ(0, rx.msg.n_data);
	EXPECT_EQ(1, rx.msg.n_data_vecs);
	EXPECT_EQ(p.node, rx.meta.id);
	EXPECT_EQ(BUS1_INVALID, rx.meta.account);
	EXPECT_EQ(-EAGAIN, u_rx_again(p.r, &rx));
}

/* Open a peer with effective UID @uid (the caller is root). */
static int open_as(uid_t uid)
{
	int fd;

	if (seteuid(uid))
		return -1;
	fd = t_open();
	if (seteuid(0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int recv_account(int fd, uint64_t *account)
{
	struct t_msg m;
	int r = t_recv(fd, &m);

	if (!r)
		*account = m.meta.account;
	return r;
}

/* account = the sender's effective UID pinned at its open. */
TEST(account_is_sender_euid_pinned_at_open)
{
	uint64_t node, h_alt, h_root, acc = 0;
	int r, alt, root;

	ASSERT_EQ(0, geteuid()) TH_LOG("needs root");
	r = t_open();
	alt = open_as(4321);
	ASSERT_GE(r, 0);
	ASSERT_GE(alt, 0);
	ASSERT_EQ(0, t_node(r, alt, &node, &h_alt));
	root = t_open();
	ASSERT_GE(root, 0);
	ASSERT_EQ(0, t_node(r, root, &node, &h_root));

	/* Sent while the process runs as root: still 4321. */
	ASSERT_EQ(0, t_send1(alt, h_alt, "x", 1));
	ASSERT_EQ(0, recv_account(r, &acc));
	EXPECT_EQ(4321, acc);

	/* Opened as root, sent as 4321: still 0. */
	ASSERT_EQ(0, seteuid(4321));
	ASSERT_EQ(0, t_send1(root, h_root, "y", 1));
	ASSERT_EQ(0, seteuid(0));
	ASSERT_EQ(0, recv_account(r, &acc));
	EXPECT_EQ(0, acc);
}

static uint64_t overflow_uid(void)
{
	unsigned int v = 65534;
	FILE *f = fopen("/proc/sys/kernel/overflowuid", "re");

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 65534;
		fclose(f);
	}
	return v;
}

/*
 * In a new user namespace (optionally with @map written to uid_map),
 * open a receiver, let @s0 (root) and @s1 (UID 4321) send to it, and report
 * both accounts through @out.
 */
static int userns_receiver(int s0, int s1, const char *map, int out)
{
	uint64_t n0, h0, n1, h1, acc[2] = { 1, 1 };
	int r, fd;

	if (unshare(CLONE_NEWUSER))
		return 10;
	if (map) {
		fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return 11;
		if (write(fd, map, strlen(map)) != (ssize_t)strlen(map))
			return 12;
		close(fd);
	}
	r = t_open();
	if (r < 0)
		return 13;
	if (t_node(r, s0, &n0, &h0) || t_node(r, s1, &n1, &h1))
		return 14;
	if (t_send1(s0, h0, "0", 1) || t_send1(s1, h1, "1", 1))
		return 15;
	if (recv_account(r, &acc[0]) || recv_account(r, &acc[1]))
		return 16;
	if (write(out, acc, sizeof(acc)) != sizeof(acc))
		return 17;
	return 0;
}

static int run_userns_case(const char *map, uint64_t acc[2])
{
	int s0, s1, pfd[2], st;
	pid_t pid;

	s0 = t_open();
	s1 = open_as(4321);
	if (s0 < 0 || s1 < 0 || pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(userns_receiver(s0, s1, map, pfd[1]));
	st = u_wait(pid);
	if (st)
		return st;
	if (read(pfd[0], acc, 2 * sizeof(*acc)) != 2 * sizeof(*acc))
		return -1;
	return 0;
}

/*
 * The receiver's namespace maps only UID 0: the root sender is 0 there,
 * the sender opened as 4321 is the overflow UID.
 */
TEST(account_of_sender_unmapped_in_receiver_userns_is_overflow_uid)
{
	uint64_t acc[2] = { 0, 0 };
	int r;

	ASSERT_EQ(0, geteuid()) TH_LOG("needs root");
	r = run_userns_case("0 0 1\n", acc);
	ASSERT_EQ(0, r) TH_LOG("user namespace child failed at step %d", r);
	EXPECT_EQ(0, acc[0]);
	EXPECT_EQ(overflow_uid(), acc[1]);
}

/* Without any uid_map every sender is unmapped. */
TEST(account_in_userns_without_uid_map_is_overflow_uid)
{
	uint64_t acc[2] = { 0, 0 };
	int r;

	ASSERT_EQ(0, geteuid()) TH_LOG("needs root");
	r = run_userns_case(NULL, acc);
	ASSERT_EQ(0, r) TH_LOG("user namespace child failed at step %d", r);
	EXPECT_EQ(overflow_uid(), acc[0]);
	EXPECT_EQ(overflow_uid(), acc[1]);
}

/* Capacities exactly k and d succeed; transfers land at 16-byte stride. */
TEST(exact_fit_capacities_succeed_with_16_byte_transfer_stride)
{
	struct bus1_transfer tr[4];
	char buf[6];
	struct iovec v = { buf, 5 };
	struct u_rx rx;
	struct rs p;

	ASSERT_EQ(0, rs_init(&p));
	ASSERT_EQ(0, rs_send(&p, "exact", 5, 3));
	memset(tr, 0x66, sizeof(tr));
	buf[5] = '#';
	u_rx_init(&rx, tr, 3, &v, 1, 5);
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(3, rx.msg.n_transfers);
	EXPECT_EQ(5, rx.msg.n_data);
	EXPECT_EQ(0, tr[0].flags);
	EXPECT_EQ(3, tr[0].id);
	EXPECT_EQ(0, tr[1].flags);
	EXPECT_EQ(5, tr[1].id);
	EXPECT_EQ(0, tr[2].flags);
	EXPECT_EQ(7, tr[2].id);
	EXPECT_EQ(0x6666666666666666ULL, tr[3].flags);
	EXPECT_EQ(0x6666666666666666ULL, tr[3].id);
	EXPECT_EQ(0, memcmp(buf, "exact#", 6));
}

/*
 * A stale message discarded by a RECV that then fails stays discarded:
 * the handle it carried (the last one to node M of x) is released, so x
 * gets its HANDLE_RELEASE although the RECV returned EMSGSIZE.
 */
TEST(stale_discard_is_kept_when_recv_then_fails)
{
	struct bus1_transfer tr;
	uint64_t m_node, m_handle, n2, h2;
	char buf[16];
	struct iovec v = { buf, sizeof(buf) };
	struct u_rx rx;
	struct t_msg m;
	struct rs p;
	int x;

	ASSERT_EQ(0, rs_init(&p));
	x = t_open();
	ASSERT_GE(x, 0);
	ASSERT_EQ(0, t_node(x, p.s, &m_node, &m_handle));
	ASSERT_EQ(0, t_node(p.r, p.s, &n2, &h2));

	tr = (struct bus1_transfer){ 0, m_handle };
	ASSERT_EQ(0, u_send_tr(p.s, p.handle, "stale", 5, 1, &tr));
	ASSERT_EQ(0, t_release1(p.s, m_handle));
	ASSERT_EQ(0, t_send1(p.s, h2, "0123456789", 10));
	ASSERT_EQ(-EAGAIN, t_recv(x, &m));
	ASSERT_EQ(0, t_release1(p.r, p.node));

	u_rx_init(&rx, NULL, 0, &v, 1, 1);
	EXPECT_EQ(-EMSGSIZE, u_rx(p.r, &rx));
	EXPECT_EQ(n2, rx.meta.id);
	EXPECT_EQ(10, rx.msg.n_data);

	ASSERT_EQ(0, t_recv(x, &m));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);
	EXPECT_EQ(m_node, m.meta.id);

	u_rx_init(&rx, NULL, 0, &v, 1, sizeof(buf));
	ASSERT_EQ(0, u_rx(p.r, &rx));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(-EAGAIN, u_rx_again(p.r, &rx));
}

TEST_HARNESS_MAIN
