// SPDX-License-Identifier: GPL-2.0
/*
 * Peer close and object lifetime (spec §8, checklist §12.9, items 113-121):
 * notifications caused by close, release of handles carried by queued
 * messages, cycles, and close racing with other processes.
 *
 * Leak checks read the module's live-object counters from debugfs; they
 * assume no other program holds bus1 peers while a test runs (the suite
 * runs one test at a time).
 */
/*
 * TEST_F() of the 6.12 harness keeps a pid in a local across setjmp();
 * gcc's -Wclobbered flags it in every fixture test. The harness aborts the
 * test on any ASSERT failure whatever that local holds.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include <stdatomic.h>
#include "util2.h"

/* Tests that need more than the default 30 s on slow (debug) kernels. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

/* Receive @n entries of @type from @fd and check their IDs are @ids. */
#define ASSERT_NOTIFY_SET(fd_, type_, n_, ids_) do {			\
	bool __got[n_];							\
	struct t_msg __m;						\
	int __i, __j;							\
	memset(__got, 0, sizeof(__got));				\
	for (__i = 0; __i < (n_); __i++) {				\
		ASSERT_EQ(0, t_recv((fd_), &__m));			\
		ASSERT_EQ((uint64_t)(type_), __m.msg.type);		\
		ASSERT_EQ(BUS1_INVALID, __m.meta.account);		\
		for (__j = 0; __j < (n_); __j++)			\
			if ((ids_)[__j] == __m.meta.id)			\
				break;					\
		ASSERT_GT((n_), __j);					\
		ASSERT_FALSE(__got[__j]);				\
		__got[__j] = true;					\
	}								\
	ASSERT_EMPTY(fd_);						\
} while (0)

/* 113 */
TEST(closing_owner_notifies_each_handle_once)
{
	struct bus1_transfer src = { 0, 1 }, dst = { 0, 0 };
	const uint64_t a_ids[] = { 1, 3, 5 }, b_ids[] = { 1, 3 };
	uint64_t n, h;
	int o, a, b;

	ASSERT_OPEN(o);
	ASSERT_OPEN(a);
	ASSERT_OPEN(b);
	/* A: handles 1 and 3 to O's node 1, handle 5 to O's node 3. */
	ASSERT_EQ(0, t_node(o, a, &n, &h));
	ASSERT_EQ(1, h);
	ASSERT_EQ(0, t_transfer(a, a, 1, &src, &dst));
	ASSERT_EQ(3, dst.id);
	ASSERT_EQ(0, t_node(o, a, &n, &h));
	ASSERT_EQ(3, n);
	ASSERT_EQ(5, h);
	/* B: handle 1 to node 3, handle 3 to node 1. */
	src.id = 5;
	ASSERT_EQ(0, t_transfer(a, b, 1, &src, &dst));
	ASSERT_EQ(1, dst.id);
	src.id = 1;
	ASSERT_EQ(0, t_transfer(a, b, 1, &src, &dst));
	ASSERT_EQ(3, dst.id);

	ASSERT_EQ(0, close(o));
	ASSERT_NOTIFY_SET(a, BUS1_MESSAGE_TYPE_NODE_RELEASE, 3, a_ids);
	ASSERT_NOTIFY_SET(b, BUS1_MESSAGE_TYPE_NODE_RELEASE, 2, b_ids);
	ASSERT_EQ(-EBADRQC, t_send1(a, 5, "x", 1));
	ASSERT_EQ(-EBADRQC, t_release1(b, 3));
}

/* 114 */
TEST(closing_holder_of_last_handles_notifies_owner_once)
{
	struct bus1_transfer src = { 0, 1 }, dst = { 0, 0 };
	uint64_t n, h;
	int o, a;

	ASSERT_OPEN(o);
	ASSERT_OPEN(a);
	ASSERT_EQ(0, t_node(o, a, &n, &h));
	/* Two handles in A, both released by its close. */
	ASSERT_EQ(0, t_transfer(a, a, 1, &src, &dst));
	ASSERT_EQ(0, close(a));
	ASSERT_HANDLE_RELEASE(o, 1);
	ASSERT_EMPTY(o);
	ASSERT_EQ(-EBADRQC, t_release1(o, 1));
}

/* 114 */
TEST(closing_holder_while_other_handles_remain_is_silent)
{
	struct bus1_transfer src = { 0, 1 }, dst = { 0, 0 };
	uint64_t n, h;
	struct t_msg m;
	int o, a, b;

	ASSERT_OPEN(o);
	ASSERT_OPEN(a);
	ASSERT_OPEN(b);
	ASSERT_EQ(0, t_node(o, a, &n, &h));
	ASSERT_EQ(0, t_transfer(a, b, 1, &src, &dst));
	ASSERT_EQ(1, dst.id);
	ASSERT_EQ(0, close(a));
	ASSERT_EMPTY(o);
	ASSERT_EQ(0, t_send1(b, 1, "b", 1));
	ASSERT_USER(o, &m, 1, "b", 1);
	ASSERT_EMPTY(o);
	ASSERT_EQ(0, close(b));
	ASSERT_HANDLE_RELEASE(o, 1);
	ASSERT_EMPTY(o);
}

/*
 * 115: O owns nodes 1..11 (six), S holds the only handle to each and sends
 * them to R, one per message. R receives the first message, fails twice on
 * the second (EMSGSIZE, then EFAULT after its IDs were assigned), more
 * messages arrive, then R closes. O gets exactly one HANDLE_RELEASE per
 * node, and nothing stays allocated.
 */
TEST(closing_receiver_releases_handles_of_queued_messages)
{
	const uint64_t nodes[] = { 1, 3, 5, 7, 9, 11 };
	struct bus1_message msg = { .type = BUS1_INVALID };
	struct bus1_cmd_recv cmd = { .ptr_message = BUS1_FROM_PTR(&msg) };
	struct bus1_metadata meta;
	void *hole = t_hole();
	uint64_t n, h;
	struct t_msg m;
	struct iovec vec = { m.data, sizeof(m.data) };
	int o, s, r, i;

	ASSERT_NE(NULL, hole);
	ASSERT_OPEN(o);
	ASSERT_OPEN(s);
	ASSERT_OPEN(r);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, t_node(o, s, &n, &h));
		ASSERT_EQ(nodes[i], n);
		ASSERT_EQ(nodes[i], h);
	}
	ASSERT_EQ(0, t_node(r, s, &n, &h));
	ASSERT_EQ(13, h);

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, t_send_with(s, 13, "carry", 5, nodes[i]));
		ASSERT_EQ(0, t_release1(s, nodes[i]));
	}
	ASSERT_USER(r, &m, 1, "carry", 5);
	ASSERT_EQ(3, m.tr[0].id);

	/* No room for payload or transfers: EMSGSIZE, the entry stays. */
	cmd.ptr_metadata = BUS1_FROM_PTR(&meta);
	ASSERT_EQ(-EMSGSIZE, t_ioctl(r, BUS1_CMD_RECV, &cmd));
	ASSERT_EQ(5, msg.n_data);
	/* Unwritable metadata: EFAULT after the IDs were assigned. */
	msg = (struct bus1_message){
		.type = BUS1_INVALID,
		.n_transfers = 64,
		.ptr_transfers = BUS1_FROM_PTR(m.tr),
		.n_data = sizeof(m.data),
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&vec),
	};
	cmd.ptr_metadata = BUS1_FROM_PTR(hole);
	ASSERT_EQ(-EFAULT, t_ioctl(r, BUS1_CMD_RECV, &cmd));

	for (i = 4; i < 6; i++) {
		ASSERT_EQ(0, t_send_with(s, 13, "carry", 5, nodes[i]));
		ASSERT_EQ(0, t_release1(s, nodes[i]));
	}
	ASSERT_EMPTY(o);
	ASSERT_EQ(0, close(r));
	ASSERT_NOTIFY_SET(o, BUS1_MESSAGE_TYPE_HANDLE_RELEASE, 6, nodes);
	ASSERT_NODE_RELEASE(s, 13);
	ASSERT_EMPTY(s);

	close(o);
	close(s);
	ASSERT_EQ(0, t_live_objects("bus1", 2000));
}

/*
 * A and B hold handles to each other's nodes and have handle-carrying
 * messages (including new nodes) queued at each other and at themselves.
 */
static int make_cycle(int a, int b)
{
	struct bus1_transfer tr[2];
	uint64_t n, ha, hb, dst;
	int i;

	if (t_node(a, b, &n, &hb) || t_node(b, a, &n, &ha))
		return -EIO;
	for (i = 0; i < 8; i++) {
		tr[0] = (struct bus1_transfer){ 0, ha };
		tr[1] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
						BUS1_INVALID };
		dst = ha;
		if (t_send(a, 1, &dst, "ab", 2, 2, tr))
			return -EIO;
		tr[0] = (struct bus1_transfer){ 0, hb };
		tr[1] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
						BUS1_INVALID };
		dst = hb;
		if (t_send(b, 1, &dst, "ba", 2, 2, tr))
			return -EIO;
	}
	/* Each also receives one, installing a handle to its own node. */
	if (t_recv_any(a) || t_recv_any(b))
		return -EIO;
	return 0;
}

/* 116 */
TEST(handle_cycles_with_messages_in_flight_are_freed_on_close)
{
	int a, b;

	ASSERT_OPEN(a);
	ASSERT_OPEN(b);
	ASSERT_EQ(0, make_cycle(a, b));
	ASSERT_LT(0, t_live_objects("bus1", 0));
	ASSERT_EQ(0, close(a));
	ASSERT_EQ(0, close(b));
	ASSERT_EQ(0, t_live_objects("bus1", 2000));
}

/* 116, on a second instance that must unload afterwards. */
TEST(handle_cycles_closed_let_the_module_unload)
{
	uint64_t t0;
	int a = -1, b, r;

	ASSERT_EQ(0, t_load("/modules/bus1x.ko", "bus1x", ""));
	/* devtmpfs creates the node asynchronously. */
	t0 = t_now_us();
	while ((a = t_open_dev("bus1x")) < 0 && t_now_us() - t0 < 5000000)
		usleep(10000);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b = t_open_dev("bus1x"));
	r = make_cycle(a, b);
	EXPECT_EQ(0, r);
	/* An open peer pins the module. */
	EXPECT_EQ(-EWOULDBLOCK, (int)(syscall(SYS_delete_module, "bus1x",
					       O_NONBLOCK) ? -errno : 0));
	close(a);
	close(b);
	EXPECT_EQ(0, t_live_objects("bus1x", 2000));
	ASSERT_EQ(0, t_unload("bus1x"));
}

/*
 * 117: process A holds peer P; process B holds P through an inherited fd
 * and has two threads: one keeps creating nodes in its own peer Q with
 * their only handle in P (TRANSFER to P's fd) until the fd is gone, the
 * other closes that fd, while A closes its own fd. 20 rounds with varying
 * delays. Every TRANSFER that succeeded put a handle into P, so P's close
 * must give Q exactly one HANDLE_RELEASE per created node.
 */
#define XFER_ROUNDS 20
#define XFER_MAX 100000

struct xfer_race {
	int p, q;
	int delay_us;
	uint64_t *nodes;
	int n;
	int err;
};

static void *xfer_loop(void *arg)
{
	struct xfer_race *x = arg;
	uint64_t n, h;
	int r;

	while (x->n < XFER_MAX) {
		r = t_node(x->q, x->p, &n, &h);
		if (r == -EBADF)
			return NULL;
		if (r) {
			x->err = r;
			return NULL;
		}
		x->nodes[x->n++] = n;
	}
	return NULL;
}

static void *xfer_close(void *arg)
{
	struct xfer_race *x = arg;

	usleep(x->delay_us);
	close(x->p);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST(close_racing_transfer_from_other_process_is_exactly_once)
{
	int round, p, go[2], closed[2], rep[2];
	uint64_t v, total = 0;
	pid_t pid;

	for (round = 0; round < XFER_ROUNDS; round++) {
		ASSERT_OPEN(p);
		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(0, pipe(closed));
		ASSERT_EQ(0, pipe(rep));
		pid = t_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			static struct xfer_race x;
			pthread_t t1, t2;
			struct t_msg m;
			uint64_t *got;
			int i;

			x.p = p;
			x.n = 0;
			x.err = 0;
			x.delay_us = 200 + 300 * (round % 7);
			x.nodes = calloc(XFER_MAX, sizeof(uint64_t));
			got = calloc(XFER_MAX, sizeof(uint64_t));
			ASSERT_NE(NULL, x.nodes);
			ASSERT_NE(NULL, got);
			ASSERT_OPEN(x.q);
			ASSERT_EQ(0, t_write_u64(go[1], 1));
			ASSERT_EQ(0, pthread_create(&t1, NULL, xfer_loop, &x));
			ASSERT_EQ(0, pthread_create(&t2, NULL, xfer_close, &x));
			pthread_join(t1, NULL);
			pthread_join(t2, NULL);
			ASSERT_EQ(0, x.err);
			/* A's close has returned too: P is gone. */
			ASSERT_EQ(0, t_read_u64(closed[0], &v, 10000));
			for (i = 0; i < x.n; i++) {
				ASSERT_EQ(0, t_recv(x.q, &m));
				ASSERT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE,
					  m.msg.type);
				got[i] = m.meta.id;
			}
			ASSERT_EMPTY(x.q);
			qsort(got, x.n, sizeof(*got), cmp_u64);
			/* Node IDs are 1, 3, 5, ... in creation order. */
			for (i = 0; i < x.n; i++) {
				ASSERT_EQ(x.nodes[i], 2 * (uint64_t)i + 1);
				ASSERT_EQ(x.nodes[i], got[i]);
			}
			ASSERT_EQ(0, t_write_u64(rep[1], x.n));
			T_CHILD_EXIT();
		}
		close(rep[1]);
		ASSERT_EQ(0, t_read_u64(go[0], &v, 10000));
		usleep(100 * (round % 11));
		ASSERT_EQ(0, close(p));
		ASSERT_EQ(0, t_write_u64(closed[1], 1));
		ASSERT_EQ(0, t_read_u64(rep[0], &v, 20000));
		total += v;
		ASSERT_EQ(0, t_wait(pid));
		close(go[0]);
		close(go[1]);
		close(closed[0]);
		close(closed[1]);
		close(rep[0]);
	}
	/* The race must have happened: TRANSFERs succeeded before the close. */
	TH_LOG("%llu TRANSFERs into closing peers", (unsigned long long)total);
	ASSERT_LT(0, total);
	ASSERT_EQ(0, t_live_objects("bus1", 2000));
}

/*
 * 118: two sender processes multicast to a victim V and two survivors R1,
 * R2 (all separate processes), 500 messages each, every message carrying
 * a new node of its sender (a CREATE transfer). V closes after receiving
 * 100 messages, while the multicasts go on. The survivors must receive
 * every message exactly once in per-sender order; each sender must get
 * exactly one HANDLE_RELEASE per created node (its three copies' handles
 * were all released, by receipt or by V's close) and, once all receivers
 * have exited, one NODE_RELEASE for each of its three destination handles.
 */
#define MC_SENDERS 2
#define MC_MSGS 500
#define MC_VICTIM_AFTER 100

struct mc_payload {
	uint64_t sender, seq;
};

/* Receive everything for a survivor; return 0 if all checks held. */
static int mc_survivor(int fd)
{
	uint64_t next[MC_SENDERS] = { 0 };
	struct mc_payload p;
	struct t_msg m;
	int got = 0, r;

	while (got < MC_SENDERS * MC_MSGS) {
		r = t_recv_wait(fd, &m, 10000);
		if (r)
			return 10;
		if (m.msg.type != BUS1_MESSAGE_TYPE_USER || m.meta.id != 1 ||
		    m.msg.n_data != sizeof(p) || m.msg.n_transfers != 1)
			return 11;
		memcpy(&p, m.data, sizeof(p));
		if (p.sender >= MC_SENDERS || p.seq != next[p.sender])
			return 12;	/* lost, duplicated or reordered */
		next[p.sender]++;
		if (t_release1(fd, m.tr[0].id))
			return 13;
		got++;
	}
	return t_recv_any(fd) == -EAGAIN ? 0 : 14;
}

static int mc_victim(int fd)
{
	struct t_msg m;
	int i;

	for (i = 0; i < MC_VICTIM_AFTER; i++) {
		if (t_recv_wait(fd, &m, 10000))
			return 20;
		if (i % 2 && t_release1(fd, m.tr[0].id))
			return 21;
	}
	return close(fd) ? 22 : 0;
}

static int mc_sender(int fd, uint64_t id, const uint64_t *dst, int rfd)
{
	static uint64_t nodes[MC_MSGS];
	bool seen[MC_MSGS] = { false };
	struct bus1_transfer tr;
	struct mc_payload p = { id, 0 };
	struct t_msg m;
	int nr[3] = { 0 };
	uint64_t v;
	int i, j;

	for (i = 0; i < MC_MSGS; i++) {
		p.seq = i;
		tr = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
					     BUS1_INVALID };
		if (t_send(fd, 3, dst, &p, sizeof(p), 1, &tr))
			return 30;
		nodes[i] = tr.id;
	}
	/* Wait until all receivers are done (or gone). */
	if (t_read_u64(rfd, &v, 60000))
		return 31;
	/*
	 * One HANDLE_RELEASE per created node; one NODE_RELEASE per handle to
	 * the receivers' nodes (all three receivers have closed by now).
	 */
	for (i = 0; i < MC_MSGS + 3; i++) {
		if (t_recv(fd, &m))
			return 32;
		if (m.msg.type == BUS1_MESSAGE_TYPE_NODE_RELEASE) {
			for (j = 0; j < 3; j++)
				if (m.meta.id == dst[j])
					break;
			if (j == 3 || nr[j]++)
				return 35;
			continue;
		}
		if (m.msg.type != BUS1_MESSAGE_TYPE_HANDLE_RELEASE)
			return 33;
		for (j = 0; j < MC_MSGS; j++)
			if (nodes[j] == m.meta.id)
				break;
		if (j == MC_MSGS || seen[j])
			return 34;
		seen[j] = true;
	}
	return t_recv_any(fd) == -EAGAIN ? 0 : 36;
}

TEST_F_TIMEOUT(slow, receiver_close_during_multicasts_loses_nothing_elsewhere,
	       120)
{
	int s[MC_SENDERS], rcv[3], done[MC_SENDERS][2], i, j, k;
	uint64_t dst[MC_SENDERS][3], n;
	pid_t ps[MC_SENDERS], pr[3];

	/* rcv[0] is the victim V, rcv[1] and rcv[2] the survivors. */
	for (j = 0; j < 3; j++)
		ASSERT_OPEN(rcv[j]);
	for (i = 0; i < MC_SENDERS; i++) {
		ASSERT_OPEN(s[i]);
		for (j = 0; j < 3; j++) {
			if (i == 0) {
				ASSERT_EQ(0, t_node(rcv[j], s[i], &n,
						    &dst[i][j]));
				ASSERT_EQ(1, n);
			} else {
				struct bus1_transfer a = { 0, dst[0][j] }, b;

				ASSERT_EQ(0, t_transfer(s[0], s[i], 1, &a, &b));
				dst[i][j] = b.id;
			}
		}
		ASSERT_EQ(0, pipe(done[i]));
	}

	for (j = 0; j < 3; j++) {
		pr[j] = t_fork();
		ASSERT_LE(0, pr[j]);
		if (pr[j] == 0) {
			for (k = 0; k < 3; k++)
				if (k != j)
					close(rcv[k]);
			for (k = 0; k < MC_SENDERS; k++)
				close(s[k]);
			_exit(j ? mc_survivor(rcv[j]) : mc_victim(rcv[j]));
		}
	}
	for (i = 0; i < MC_SENDERS; i++) {
		ps[i] = t_fork();
		ASSERT_LE(0, ps[i]);
		if (ps[i] == 0) {
			for (k = 0; k < 3; k++)
				close(rcv[k]);
			for (k = 0; k < MC_SENDERS; k++)
				if (k != i)
					close(s[k]);
			_exit(mc_sender(s[i], i, dst[i], done[i][0]));
		}
	}
	/* Only the children hold the peers now. */
	for (j = 0; j < 3; j++)
		close(rcv[j]);
	for (i = 0; i < MC_SENDERS; i++)
		close(s[i]);

	for (j = 0; j < 3; j++)
		EXPECT_EQ(0, t_wait(pr[j]));
	for (i = 0; i < MC_SENDERS; i++)
		ASSERT_EQ(0, t_write_u64(done[i][1], 1));
	for (i = 0; i < MC_SENDERS; i++)
		EXPECT_EQ(0, t_wait(ps[i]));
	EXPECT_EQ(0, t_live_objects("bus1", 2000));
}

/* 119 */
TEST(messages_sent_before_close_precede_its_node_release)
{
	int a, b, i, nr = 0, hr = 0;
	uint64_t n, h;
	struct t_msg m;

	ASSERT_OPEN(a);
	ASSERT_OPEN(b);
	ASSERT_EQ(0, t_node(a, b, &n, &h));
	ASSERT_EQ(1, h);
	ASSERT_EQ(0, t_node(b, a, &n, &h));
	ASSERT_EQ(3, n);
	ASSERT_EQ(3, h);
	ASSERT_EQ(0, t_send1(a, 3, "m1", 2));
	ASSERT_EQ(0, t_send1(a, 3, "m2", 2));
	ASSERT_EQ(0, close(a));
	ASSERT_USER(b, &m, 3, "m1", 2);
	ASSERT_USER(b, &m, 3, "m2", 2);
	/*
	 * Then the close's notifications, in either order: NODE_RELEASE for
	 * B's handle 1, and HANDLE_RELEASE for B's node 3, whose last handle
	 * A held.
	 */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, t_recv(b, &m));
		if (m.msg.type == BUS1_MESSAGE_TYPE_NODE_RELEASE) {
			ASSERT_EQ(1, m.meta.id);
			nr++;
		} else {
			ASSERT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, m.msg.type);
			ASSERT_EQ(3, m.meta.id);
			hr++;
		}
	}
	ASSERT_EQ(1, nr);
	ASSERT_EQ(1, hr);
	ASSERT_EMPTY(b);
}

/*
 * 120: 10^5 queued messages (100 multicasts of 1000 copies), each carrying
 * a handle to the sender's node; half are sent before R's first RECV and
 * half after. R's close must discard them all (the kernel log is checked
 * for soft lockups by the runner) and release every carried handle, so the
 * sender gets exactly one HANDLE_RELEASE.
 */
#define BIG_BATCH 1000
#define BIG_SENDS 100

TEST_F_TIMEOUT(slow, close_with_100k_queued_messages_completes, 180)
{
	static uint64_t dst[BIG_BATCH];
	static int32_t errors[BIG_BATCH];
	struct bus1_transfer tr;
	struct iovec vec = { "q", 1 };
	struct bus1_message msg = {
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_transfers = 1,
		.ptr_transfers = BUS1_FROM_PTR(&tr),
		.n_data = 1,
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&vec),
	};
	struct bus1_cmd_send cmd = {
		.n_destinations = BIG_BATCH,
		.ptr_destinations = BUS1_FROM_PTR(dst),
		.ptr_errors = BUS1_FROM_PTR(errors),
		.ptr_message = BUS1_FROM_PTR(&msg),
	};
	const uint64_t ids[2] = { 1, 3 };
	uint64_t n, h, x, t0, t1;
	struct t_msg m;
	int s, r, i;

	ASSERT_OPEN(s);
	ASSERT_OPEN(r);
	/* S: handle 1 to R's node 1; S's own node 3 with its handle 5. */
	ASSERT_EQ(0, t_node(r, s, &n, &x));
	ASSERT_EQ(1, x);
	ASSERT_EQ(0, t_node(s, -1, &n, &h));
	ASSERT_EQ(3, n);
	for (i = 0; i < BIG_BATCH; i++)
		dst[i] = x;
	for (i = 0; i < BIG_SENDS; i++) {
		tr = (struct bus1_transfer){ 0, h };
		ASSERT_EQ(0, t_ioctl(s, BUS1_CMD_SEND, &cmd));
		if (i == BIG_SENDS / 2) {
			ASSERT_EQ(0, t_recv(r, &m));
			ASSERT_EQ(1, m.msg.n_transfers);
		}
	}
	ASSERT_EQ(0, t_release1(s, h));
	ASSERT_EMPTY(s);

	t0 = t_now_us();
	ASSERT_EQ(0, close(r));
	t1 = t_now_us();
	TH_LOG("close of a peer with %d queued messages: %llu ms",
	       BIG_SENDS * BIG_BATCH - 1,
	       (unsigned long long)(t1 - t0) / 1000);
	/* HANDLE_RELEASE for node 3, NODE_RELEASE for handle 1. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, t_recv(s, &m));
		if (m.msg.type == BUS1_MESSAGE_TYPE_HANDLE_RELEASE) {
			ASSERT_EQ(ids[1], m.meta.id);
		} else {
			ASSERT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
			ASSERT_EQ(ids[0], m.meta.id);
		}
	}
	ASSERT_EMPTY(s);
	ASSERT_EQ(-EBADRQC, t_release1(s, 3));
	close(s);
	ASSERT_EQ(0, t_live_objects("bus1", 5000));
}

/*
 * 121: parent peer P; four child processes open 250 peers each and create
 * in each a node whose only handle is in P. Then all children close their
 * peers at once. P gets exactly 1000 NODE_RELEASE, one for each of its
 * handles (IDs 1, 3, ..., 1999), each once.
 */
#define OWN_PROCS 4
#define OWN_PEERS 250
#define OWN_TOTAL (OWN_PROCS * OWN_PEERS)

TEST_F_TIMEOUT(slow, concurrent_close_of_1000_owners_notifies_each_handle_once,
	       120)
{
	int p, go[OWN_PROCS][2], rep[2], i, k;
	static bool seen[OWN_TOTAL];
	pid_t pid[OWN_PROCS];
	struct t_msg m;
	uint64_t v;

	ASSERT_EQ(0, t_raise_nofile(4096));
	ASSERT_OPEN(p);
	ASSERT_EQ(0, pipe(rep));
	for (k = 0; k < OWN_PROCS; k++) {
		ASSERT_EQ(0, pipe(go[k]));
		pid[k] = t_fork();
		ASSERT_LE(0, pid[k]);
		if (pid[k] == 0) {
			int fds[OWN_PEERS];
			uint64_t n, h;

			for (i = 0; i < OWN_PEERS; i++) {
				ASSERT_OPEN(fds[i]);
				ASSERT_EQ(0, t_node(fds[i], p, &n, &h));
				ASSERT_EQ(1, n);
				ASSERT_EQ(0, t_write_u64(rep[1], h));
			}
			close(p);
			ASSERT_EQ(0, t_read_u64(go[k][0], &v, 60000));
			for (i = 0; i < OWN_PEERS; i++)
				ASSERT_EQ(0, close(fds[i]));
			T_CHILD_EXIT();
		}
	}
	for (i = 0; i < OWN_TOTAL; i++) {
		ASSERT_EQ(0, t_read_u64(rep[0], &v, 60000));
		ASSERT_EQ(1, v & 1);
		ASSERT_GT(2 * OWN_TOTAL, v);
		ASSERT_FALSE(seen[v / 2]);
		seen[v / 2] = true;
	}
	ASSERT_EMPTY(p);
	for (k = 0; k < OWN_PROCS; k++)
		ASSERT_EQ(0, t_write_u64(go[k][1], 1));
	for (k = 0; k < OWN_PROCS; k++)
		ASSERT_EQ(0, t_wait(pid[k]));

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < OWN_TOTAL; i++) {
		ASSERT_EQ(0, t_recv(p, &m));
		ASSERT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, m.msg.type);
		ASSERT_EQ(1, m.meta.id & 1);
		ASSERT_GT(2 * OWN_TOTAL, m.meta.id);
		ASSERT_FALSE(seen[m.meta.id / 2]);
		seen[m.meta.id / 2] = true;
	}
	ASSERT_EMPTY(p);
	close(p);
	ASSERT_EQ(0, t_live_objects("bus1", 2000));
}

TEST_HARNESS_MAIN
