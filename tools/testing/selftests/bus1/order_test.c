// SPDX-License-Identifier: GPL-2.0
/*
 * Ordering and concurrency guarantees (spec §7.2, checklist §12.10, items
 * 122-126, 128, 129; item 127 is stress_test.c). Causality is created by
 * bus1 messages, by pipes between processes, or by receipt.
 */
#include "kselftest_harness.h"
#include <stdatomic.h>
#include "util2.h"

/* Message payload: who sent it and its sequence number. */
struct tag {
	uint64_t from, seq;
};

#define A_TAG 1
#define B_TAG 2

/*
 * A child that is done keeps its peers open until the parent has checked
 * everything (closing them would queue notifications at the receiver): it
 * waits for EOF on the "hold" pipe, whose write end only the parent keeps.
 */
static void hold_until_released(int hold[2])
{
	uint64_t v;

	close(hold[1]);
	while (t_read_u64(hold[0], &v, 60000) == 0)
		;
}

static int recv_tag(int fd, struct tag *t, uint64_t *node)
{
	struct t_msg m;
	int r;

	r = t_recv_wait(fd, &m, 10000);
	if (r)
		return r;
	if (m.msg.type != BUS1_MESSAGE_TYPE_USER || m.msg.n_data != sizeof(*t))
		return -EPROTO;
	memcpy(t, m.data, sizeof(*t));
	if (node)
		*node = m.meta.id;
	return 0;
}

/*
 * 122: A sends m1(r) to C, then m2(r) to B; B, on receipt, sends m3(r) to
 * C. C must get m1(r) before m3(r). Three processes, 1000 rounds,
 * pipelined (A does not wait for anything).
 */
#define TRI_ROUNDS 1000

TEST(triangle_message_causality_is_respected)
{
	uint64_t n, a_to_c, a_to_b, b_to_c;
	int a, b, c, hold[2];
	pid_t pa, pb;
	struct tag t;
	uint64_t next_a = 0, next_b = 0;
	int i;

	ASSERT_OPEN(a);
	ASSERT_OPEN(b);
	ASSERT_OPEN(c);
	ASSERT_EQ(0, t_node(c, a, &n, &a_to_c));
	ASSERT_EQ(0, t_node(c, b, &n, &b_to_c));
	ASSERT_EQ(0, t_node(b, a, &n, &a_to_b));
	ASSERT_EQ(0, pipe(hold));

	pb = t_fork();
	ASSERT_LE(0, pb);
	if (pb == 0) {
		close(a);
		close(c);
		for (i = 0; i < TRI_ROUNDS; i++) {
			ASSERT_EQ(0, recv_tag(b, &t, NULL));
			ASSERT_EQ(A_TAG, t.from);
			ASSERT_EQ(i, t.seq);
			t.from = B_TAG;
			ASSERT_EQ(0, t_send1(b, b_to_c, &t, sizeof(t)));
		}
		hold_until_released(hold);
		T_CHILD_EXIT();
	}
	pa = t_fork();
	ASSERT_LE(0, pa);
	if (pa == 0) {
		close(b);
		close(c);
		for (i = 0; i < TRI_ROUNDS; i++) {
			t = (struct tag){ A_TAG, i };
			ASSERT_EQ(0, t_send1(a, a_to_c, &t, sizeof(t)));
			ASSERT_EQ(0, t_send1(a, a_to_b, &t, sizeof(t)));
		}
		hold_until_released(hold);
		T_CHILD_EXIT();
	}
	close(a);
	close(b);
	close(hold[0]);
	while (next_a < TRI_ROUNDS || next_b < TRI_ROUNDS) {
		ASSERT_EQ(0, recv_tag(c, &t, NULL));
		if (t.from == A_TAG) {
			ASSERT_EQ(next_a, t.seq);
			next_a++;
		} else {
			ASSERT_EQ(B_TAG, t.from);
			ASSERT_EQ(next_b, t.seq);
			/* m1 of this round came first. */
			ASSERT_LT(t.seq, next_a);
			next_b++;
		}
	}
	ASSERT_EMPTY(c);
	close(hold[1]);
	ASSERT_EQ(0, t_wait(pa));
	ASSERT_EQ(0, t_wait(pb));
}

/*
 * 123: after A's SEND to C returns, A writes the round to a pipe; B reads
 * it and sends to C. C must get A's message first. 1000 rounds.
 */
TEST(side_channel_causality_is_respected)
{
	uint64_t n, a_to_c, b_to_c, v, next_a = 0, next_b = 0;
	int a, b, c, pp[2], hold[2], i;
	pid_t pa, pb;
	struct tag t;

	ASSERT_OPEN(a);
	ASSERT_OPEN(b);
	ASSERT_OPEN(c);
	ASSERT_EQ(0, t_node(c, a, &n, &a_to_c));
	ASSERT_EQ(0, t_node(c, b, &n, &b_to_c));
	ASSERT_EQ(0, pipe(pp));
	ASSERT_EQ(0, pipe(hold));

	pb = t_fork();
	ASSERT_LE(0, pb);
	if (pb == 0) {
		close(a);
		close(c);
		close(pp[1]);
		for (i = 0; i < TRI_ROUNDS; i++) {
			ASSERT_EQ(0, t_read_u64(pp[0], &v, 10000));
			ASSERT_EQ(i, v);
			t = (struct tag){ B_TAG, v };
			ASSERT_EQ(0, t_send1(b, b_to_c, &t, sizeof(t)));
		}
		hold_until_released(hold);
		T_CHILD_EXIT();
	}
	pa = t_fork();
	ASSERT_LE(0, pa);
	if (pa == 0) {
		close(b);
		close(c);
		close(pp[0]);
		for (i = 0; i < TRI_ROUNDS; i++) {
			t = (struct tag){ A_TAG, i };
			ASSERT_EQ(0, t_send1(a, a_to_c, &t, sizeof(t)));
			ASSERT_EQ(0, t_write_u64(pp[1], i));
		}
		hold_until_released(hold);
		T_CHILD_EXIT();
	}
	close(a);
	close(b);
	close(pp[0]);
	close(pp[1]);
	close(hold[0]);
	while (next_a < TRI_ROUNDS || next_b < TRI_ROUNDS) {
		ASSERT_EQ(0, recv_tag(c, &t, NULL));
		if (t.from == A_TAG) {
			ASSERT_EQ(next_a, t.seq);
			next_a++;
		} else {
			ASSERT_EQ(B_TAG, t.from);
			ASSERT_EQ(next_b, t.seq);
			ASSERT_LT(t.seq, next_a);
			next_b++;
		}
	}
	ASSERT_EMPTY(c);
	close(hold[1]);
	ASSERT_EQ(0, t_wait(pa));
	ASSERT_EQ(0, t_wait(pb));
}

/*
 * 124: a SEND followed by a RECV on the receiver in the same thread finds
 * the message (1000 unicasts; 300 multicasts to three receivers), also
 * while another thread keeps sending to the same receiver (1000 rounds).
 */
struct noise {
	int fd;
	uint64_t dst;
	atomic_bool stop;
	atomic_uint round;
	int err;
};

/* Sends concurrently with the main thread, at most 3 messages per round. */
static void *noise_send(void *arg)
{
	struct noise *n = arg;
	struct tag t = { B_TAG, 0 };

	while (!atomic_load(&n->stop)) {
		if (t.seq >= 3 * ((uint64_t)atomic_load(&n->round) + 1)) {
			usleep(20);
			continue;
		}
		if (t_send1(n->fd, n->dst, &t, sizeof(t)))
			n->err++;
		t.seq++;
	}
	return NULL;
}

TEST(recv_after_own_send_never_sees_empty_queue)
{
	static struct noise nz;
	uint64_t n, h, dst[3];
	int s, r[3], i, j;
	struct t_msg m;
	struct tag t;
	pthread_t th;

	ASSERT_OPEN(s);
	for (j = 0; j < 3; j++) {
		ASSERT_OPEN(r[j]);
		ASSERT_EQ(0, t_node(r[j], s, &n, &dst[j]));
	}
	for (i = 0; i < 1000; i++) {
		t = (struct tag){ A_TAG, i };
		ASSERT_EQ(0, t_send1(s, dst[0], &t, sizeof(t)));
		ASSERT_EQ(0, t_recv(r[0], &m));
		ASSERT_EQ(0, memcmp(m.data, &t, sizeof(t)));
	}
	for (i = 0; i < 300; i++) {
		t = (struct tag){ A_TAG, i };
		ASSERT_EQ(0, t_send(s, 3, dst, &t, sizeof(t), 0, NULL));
		for (j = 0; j < 3; j++) {
			ASSERT_EQ(0, t_recv(r[j], &m));
			ASSERT_EQ(0, memcmp(m.data, &t, sizeof(t)));
		}
	}

	/* With a concurrent sender to the same receiver. */
	ASSERT_OPEN(nz.fd);
	ASSERT_EQ(0, t_node(r[0], nz.fd, &n, &h));
	nz.dst = h;
	ASSERT_EQ(0, pthread_create(&th, NULL, noise_send, &nz));
	for (i = 0; i < 1000; i++) {
		t = (struct tag){ A_TAG, i };
		ASSERT_EQ(0, t_send1(s, dst[0], &t, sizeof(t)));
		/* Other messages may come first, but no EAGAIN before ours. */
		for (;;) {
			ASSERT_EQ(0, t_recv(r[0], &m));
			if (!memcmp(m.data, &t, sizeof(t)))
				break;
			ASSERT_EQ(B_TAG, ((struct tag *)m.data)->from);
		}
		atomic_store(&nz.round, i + 1);
	}
	atomic_store(&nz.stop, true);
	pthread_join(th, NULL);
	ASSERT_EQ(0, nz.err);
}

/*
 * 125: S multicasts 1000 messages to R1 and R2. Whenever R1 receives
 * message k it tells R2 through a pipe; R2 then drains its queue and must
 * have received message k by the end of that drain. Three processes.
 */
TEST(multicast_received_by_one_is_visible_to_the_other)
{
	uint64_t n, dst[2], v, seen = 0;
	int s, r1, r2, pp[2], hold[2], i, ret;
	struct t_msg m;
	pid_t ps, p1;
	struct tag t;

	ASSERT_OPEN(s);
	ASSERT_OPEN(r1);
	ASSERT_OPEN(r2);
	ASSERT_EQ(0, t_node(r1, s, &n, &dst[0]));
	ASSERT_EQ(0, t_node(r2, s, &n, &dst[1]));
	ASSERT_EQ(0, pipe(pp));
	ASSERT_EQ(0, pipe(hold));

	ps = t_fork();
	ASSERT_LE(0, ps);
	if (ps == 0) {
		close(r1);
		close(r2);
		for (i = 0; i < TRI_ROUNDS; i++) {
			t = (struct tag){ A_TAG, i };
			ASSERT_EQ(0, t_send(s, 2, dst, &t, sizeof(t), 0, NULL));
		}
		hold_until_released(hold);
		T_CHILD_EXIT();
	}
	p1 = t_fork();
	ASSERT_LE(0, p1);
	if (p1 == 0) {
		close(s);
		close(r2);
		close(pp[0]);
		for (i = 0; i < TRI_ROUNDS; i++) {
			ASSERT_EQ(0, recv_tag(r1, &t, NULL));
			ASSERT_EQ(i, t.seq);
			ASSERT_EQ(0, t_write_u64(pp[1], t.seq));
		}
		T_CHILD_EXIT();
	}
	close(s);
	close(r1);
	close(pp[1]);
	close(hold[0]);
	for (i = 0; i < TRI_ROUNDS; i++) {
		ASSERT_EQ(0, t_read_u64(pp[0], &v, 10000));
		while ((ret = t_recv(r2, &m)) == 0) {
			memcpy(&t, m.data, sizeof(t));
			ASSERT_EQ(seen, t.seq);
			seen++;
		}
		ASSERT_EQ(-EAGAIN, ret);
		/* Message v was received by R1, so R2's drain included it. */
		ASSERT_LT(v, seen);
	}
	ASSERT_EQ(TRI_ROUNDS, seen);
	close(hold[1]);
	ASSERT_EQ(0, t_wait(ps));
	ASSERT_EQ(0, t_wait(p1));
}

/*
 * 126: in each of 1000 rounds two threads, on peers P1 and P2, multicast to
 * R1 and R2 at the same time; each receiver gets both messages exactly once.
 */
struct twin {
	int fd;
	uint64_t dst[2], id;
	pthread_barrier_t *go, *done;
	int rounds, err;
};

static void *twin_send(void *arg)
{
	struct twin *w = arg;
	struct tag t = { w->id, 0 };
	int i;

	for (i = 0; i < w->rounds; i++) {
		pthread_barrier_wait(w->go);
		t.seq = i;
		if (t_send(w->fd, 2, w->dst, &t, sizeof(t), 0, NULL))
			w->err++;
		pthread_barrier_wait(w->done);
	}
	return NULL;
}

TEST(concurrent_multicasts_each_arrive_exactly_once)
{
	pthread_barrier_t go, done;
	struct twin w[2];
	int r[2], i, j, k;
	struct t_msg m;
	struct tag t;
	pthread_t th[2];
	uint64_t n;

	pthread_barrier_init(&go, NULL, 3);
	pthread_barrier_init(&done, NULL, 3);
	for (j = 0; j < 2; j++)
		ASSERT_OPEN(r[j]);
	for (i = 0; i < 2; i++) {
		w[i] = (struct twin){ .id = i, .go = &go, .done = &done,
				      .rounds = 1000 };
		ASSERT_OPEN(w[i].fd);
		for (j = 0; j < 2; j++)
			ASSERT_EQ(0, t_node(r[j], w[i].fd, &n, &w[i].dst[j]));
		ASSERT_EQ(0, pthread_create(&th[i], NULL, twin_send, &w[i]));
	}
	for (k = 0; k < 1000; k++) {
		pthread_barrier_wait(&go);
		pthread_barrier_wait(&done);
		for (j = 0; j < 2; j++) {
			bool got[2] = { false, false };

			for (i = 0; i < 2; i++) {
				ASSERT_EQ(0, t_recv(r[j], &m));
				memcpy(&t, m.data, sizeof(t));
				ASSERT_EQ(k, t.seq);
				ASSERT_GT(2, t.from);
				ASSERT_FALSE(got[t.from]);
				got[t.from] = true;
			}
			ASSERT_EMPTY(r[j]);
		}
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		ASSERT_EQ(0, w[i].err);
	}
}

/*
 * 128: 16 threads share one peer and each runs 200 iterations of TRANSFER
 * (create node + handle to self), SEND through the handle, RELEASE of the
 * handle and one RECV. Commands are serialised: each TRANSFER gets two
 * consecutive IDs, all IDs are distinct and together exactly 1, 3, ...,
 * 12799; every message and every HANDLE_RELEASE (one per node, after its
 * message) is received exactly once, by whichever thread.
 */
#define MIX_THREADS 16
#define MIX_ITERS 200
#define MIX_IDS (2 * MIX_THREADS * MIX_ITERS)

struct mix {
	int fd;
	atomic_int msg_seen[MIX_IDS];	/* by node ID / 2 */
	atomic_int hr_seen[MIX_IDS];
	atomic_int id_used[MIX_IDS];
	atomic_int errors;
};

struct mix_msg {
	uint64_t node, thread, iter;
};

static void mix_recv(struct mix *x)
{
	struct mix_msg p;
	struct t_msg m;

	if (t_recv(x->fd, &m))
		return;
	if (m.meta.id >= 2 * MIX_IDS || !(m.meta.id & 1)) {
		atomic_fetch_add(&x->errors, 1);
		return;
	}
	if (m.msg.type == BUS1_MESSAGE_TYPE_USER) {
		memcpy(&p, m.data, sizeof(p));
		if (m.msg.n_data != sizeof(p) || p.node != m.meta.id)
			atomic_fetch_add(&x->errors, 1);
		atomic_fetch_add(&x->msg_seen[m.meta.id / 2], 1);
	} else if (m.msg.type == BUS1_MESSAGE_TYPE_HANDLE_RELEASE) {
		atomic_fetch_add(&x->hr_seen[m.meta.id / 2], 1);
	} else {
		atomic_fetch_add(&x->errors, 1);
	}
}

static void *mix_thread(void *arg)
{
	struct mix *x = arg;
	static atomic_int next_thread;
	uint64_t t = atomic_fetch_add(&next_thread, 1), n, h, i;
	struct mix_msg p;

	for (i = 0; i < MIX_ITERS; i++) {
		if (t_node(x->fd, -1, &n, &h) || h != n + 2 ||
		    n >= 2 * MIX_IDS || h >= 2 * MIX_IDS) {
			atomic_fetch_add(&x->errors, 1);
			return NULL;
		}
		atomic_fetch_add(&x->id_used[n / 2], 1);
		atomic_fetch_add(&x->id_used[h / 2], 1);
		p = (struct mix_msg){ n, t, i };
		if (t_send1(x->fd, h, &p, sizeof(p)) || t_release1(x->fd, h))
			atomic_fetch_add(&x->errors, 1);
		mix_recv(x);
	}
	return NULL;
}

TEST(sixteen_threads_on_one_peer_are_serialised)
{
	static struct mix x;
	pthread_t th[MIX_THREADS];
	int i;

	ASSERT_OPEN(x.fd);
	for (i = 0; i < MIX_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mix_thread, &x));
	for (i = 0; i < MIX_THREADS; i++)
		pthread_join(th[i], NULL);
	/* Receive whatever the threads left queued. */
	for (i = 0; i < MIX_IDS; i++)
		mix_recv(&x);
	ASSERT_EMPTY(x.fd);
	ASSERT_EQ(0, atomic_load(&x.errors));
	for (i = 0; i < MIX_IDS; i++) {
		/* Every odd ID below 2 * MIX_IDS was handed out once. */
		ASSERT_EQ(1, atomic_load(&x.id_used[i]));
	}
	for (i = 0; i < MIX_IDS; i += 2) {
		/* ID 4i+1 is a node, 4i+3 its handle. */
		ASSERT_EQ(1, atomic_load(&x.msg_seen[i]));
		ASSERT_EQ(1, atomic_load(&x.hr_seen[i]));
		ASSERT_EQ(0, atomic_load(&x.msg_seen[i + 1]));
		ASSERT_EQ(0, atomic_load(&x.hr_seen[i + 1]));
		ASSERT_EQ(-EBADRQC, t_release1(x.fd, 2 * i + 1));
	}
}

/*
 * 129: one SEND to several nodes of one receiver delivers the copies in
 * destinations[] order (G6): 200 random destination lists of 1 to 8
 * elements over three nodes, repeats included.
 */
TEST(copies_to_one_receiver_arrive_in_destination_order)
{
	uint64_t nodes[3], handles[3], dst[8], seed = 129;
	int s, r, i, j, k, len;
	struct t_msg m;

	ASSERT_OPEN(s);
	ASSERT_OPEN(r);
	for (j = 0; j < 3; j++)
		ASSERT_EQ(0, t_node(r, s, &nodes[j], &handles[j]));
	for (i = 0; i < 200; i++) {
		int pick[8];

		len = 1 + t_rand(&seed) % 8;
		for (k = 0; k < len; k++) {
			pick[k] = t_rand(&seed) % 3;
			dst[k] = handles[pick[k]];
		}
		ASSERT_EQ(0, t_send(s, len, dst, &i, sizeof(i), 0, NULL));
		for (k = 0; k < len; k++) {
			ASSERT_EQ(0, t_recv(r, &m));
			ASSERT_EQ(nodes[pick[k]], m.meta.id);
			ASSERT_EQ(0, memcmp(m.data, &i, sizeof(i)));
		}
		ASSERT_EMPTY(r);
	}
}

TEST_HARNESS_MAIN
