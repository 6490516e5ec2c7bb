// SPDX-License-Identifier: GPL-2.0
/*
 * Notifications: NODE_RELEASE and HANDLE_RELEASE (spec §6, checklist §12.8,
 * items 99-112), including the exactly-once properties under races.
 */
#include "kselftest_harness.h"
#include <stdatomic.h>
#include "util2.h"

/* 99 */
TEST(last_handle_release_notifies_owner_and_retires_node)
{
	uint64_t n, h;
	int p;

	ASSERT_OPEN(p);
	ASSERT_EQ(0, t_node(p, -1, &n, &h));
	ASSERT_EQ(1, n);
	ASSERT_EQ(3, h);
	ASSERT_EQ(0, t_release1(p, 3));
	ASSERT_HANDLE_RELEASE(p, 1);
	ASSERT_EMPTY(p);
	ASSERT_EQ(-EBADRQC, t_release1(p, 1));
	ASSERT_EQ(-EBADRQC, t_release1(p, 3));
}

/* 100 */
TEST(handle_release_waits_for_last_of_two_peers)
{
	struct bus1_transfer src = { 0, 1 }, dst = { 0, 0 };
	uint64_t n, h;
	struct t_msg m;
	int o, a, b;

	ASSERT_OPEN(o);
	ASSERT_OPEN(a);
	ASSERT_OPEN(b);
	ASSERT_EQ(0, t_node(o, a, &n, &h));
	ASSERT_EQ(1, n);
	ASSERT_EQ(1, h);
	ASSERT_EQ(0, t_transfer(a, b, 1, &src, &dst));
	ASSERT_EQ(1, dst.id);

	ASSERT_EQ(0, t_release1(a, 1));
	ASSERT_EMPTY(o);
	ASSERT_EQ(0, t_send1(b, 1, "still", 5));
	ASSERT_USER(o, &m, 1, "still", 5);
	ASSERT_EMPTY(o);
	ASSERT_EQ(0, t_release1(b, 1));
	ASSERT_HANDLE_RELEASE(o, 1);
	ASSERT_EMPTY(o);
}

/* 101 */
TEST(node_release_notifies_every_handle_once_and_retires_it)
{
	struct bus1_transfer src = { 0, 3 }, dst = { 0, 0 };
	uint64_t n, h;
	int o, a, b;

	ASSERT_OPEN(o);
	ASSERT_OPEN(a);
	ASSERT_OPEN(b);
	/* O: node 1 and its own handle 3. */
	ASSERT_EQ(0, t_node(o, -1, &n, &h));
	ASSERT_EQ(1, n);
	ASSERT_EQ(3, h);
	/* B's counter is moved on so that its handle gets ID 5. */
	ASSERT_EQ(0, t_node(b, -1, &n, &h));
	ASSERT_EQ(0, t_transfer(o, a, 1, &src, &dst));
	ASSERT_EQ(1, dst.id);
	ASSERT_EQ(0, t_transfer(o, b, 1, &src, &dst));
	ASSERT_EQ(5, dst.id);

	ASSERT_EQ(0, t_release1(o, 1));
	ASSERT_NODE_RELEASE(o, 3);
	ASSERT_EMPTY(o);
	ASSERT_NODE_RELEASE(a, 1);
	ASSERT_EMPTY(a);
	ASSERT_NODE_RELEASE(b, 5);
	ASSERT_EMPTY(b);

	/* Retired: the IDs name nothing any more. */
	ASSERT_EQ(-EBADRQC, t_release1(o, 3));
	ASSERT_EQ(-EBADRQC, t_send1(a, 1, "x", 1));
	src.id = 5;
	ASSERT_EQ(-EBADRQC, t_transfer(b, b, 1, &src, &dst));
	ASSERT_EQ(-EBADRQC, t_release1(o, 1));
}

/* 102 */
TEST(release_of_node_and_own_handle_together_notifies_only_holders)
{
	static const uint64_t orders[2][2] = { { 1, 3 }, { 3, 1 } };
	struct bus1_transfer src = { 0, 3 }, dst = { 0, 0 };
	uint64_t n, h;
	int o, a, i;

	for (i = 0; i < 2; i++) {
		ASSERT_OPEN(o);
		ASSERT_OPEN(a);
		ASSERT_EQ(0, t_node(o, -1, &n, &h));
		ASSERT_EQ(3, h);
		ASSERT_EQ(0, t_transfer(o, a, 1, &src, &dst));
		ASSERT_EQ(1, dst.id);
		ASSERT_EQ(0, t_release(o, 2, orders[i]));
		ASSERT_EMPTY(o);
		ASSERT_NODE_RELEASE(a, 1);
		ASSERT_EMPTY(a);
		ASSERT_EQ(-EBADRQC, t_release1(o, 1));
		ASSERT_EQ(-EBADRQC, t_release1(o, 3));
		close(o);
		close(a);
	}
}

/* 103 */
TEST(message_sent_before_node_release_arrives_first)
{
	uint64_t n, h;
	struct t_msg m;
	int o, hd;

	ASSERT_OPEN(o);
	ASSERT_OPEN(hd);
	/* O: node 1, HD: handle 1 to it. HD: node 3, O: handle 3 to it. */
	ASSERT_EQ(0, t_node(o, hd, &n, &h));
	ASSERT_EQ(1, h);
	ASSERT_EQ(0, t_node(hd, o, &n, &h));
	ASSERT_EQ(3, n);
	ASSERT_EQ(3, h);

	ASSERT_EQ(0, t_send1(o, 3, "before", 6));
	ASSERT_EQ(0, t_release1(o, 1));
	ASSERT_USER(hd, &m, 3, "before", 6);
	ASSERT_NODE_RELEASE(hd, 1);
	ASSERT_EMPTY(hd);
	ASSERT_EMPTY(o);
}

/* 104 */
TEST(send_to_released_node_is_discarded)
{
	uint64_t n, h;
	int o, hd;

	ASSERT_OPEN(o);
	ASSERT_OPEN(hd);
	ASSERT_EQ(0, t_node(o, hd, &n, &h));
	ASSERT_EQ(0, t_release1(o, 1));
	/* The handle stays usable until its NODE_RELEASE is received. */
	ASSERT_EQ(0, t_send1(hd, 1, "lost", 4));
	ASSERT_EQ(0, t_send_with(hd, 1, "lost", 4, 1));
	ASSERT_EMPTY(o);
	ASSERT_NODE_RELEASE(hd, 1);
	ASSERT_EMPTY(hd);
	ASSERT_EQ(-EBADRQC, t_send1(hd, 1, "x", 1));
	ASSERT_EMPTY(o);
}

/*
 * O owns node 1 with P's handle 1 as its only handle; R owns node 1, to
 * which P holds handle 3. P sends a message to R carrying handle 1.
 */
struct carry {
	int o, p, r;
};

#define CARRY_OPEN(c) do {						\
	uint64_t __n, __h;						\
	ASSERT_OPEN((c).o);						\
	ASSERT_OPEN((c).p);						\
	ASSERT_OPEN((c).r);						\
	ASSERT_EQ(0, t_node((c).o, (c).p, &__n, &__h));			\
	ASSERT_EQ(1, __h);						\
	ASSERT_EQ(0, t_node((c).r, (c).p, &__n, &__h));			\
	ASSERT_EQ(3, __h);						\
} while (0)

/* 105 */
TEST(handle_in_flight_counts_until_received_and_released)
{
	struct t_msg m;
	struct carry c;

	CARRY_OPEN(c);
	ASSERT_EQ(0, t_send_with(c.p, 3, "carry", 5, 1));
	ASSERT_EQ(0, t_release1(c.p, 1));
	ASSERT_EMPTY(c.o);
	ASSERT_USER(c.r, &m, 1, "carry", 5);
	ASSERT_EQ(1, m.msg.n_transfers);
	ASSERT_EQ(3, m.tr[0].id);
	ASSERT_EMPTY(c.o);
	ASSERT_EQ(0, t_release1(c.r, 3));
	ASSERT_HANDLE_RELEASE(c.o, 1);
	ASSERT_EMPTY(c.o);
}

/* 106 */
TEST(discarded_stale_message_releases_carried_last_handle)
{
	struct carry c;

	CARRY_OPEN(c);
	ASSERT_EQ(0, t_send_with(c.p, 3, "carry", 5, 1));
	ASSERT_EQ(0, t_release1(c.p, 1));
	/* R releases the destination node while the message is queued. */
	ASSERT_EQ(0, t_release1(c.r, 1));
	ASSERT_EMPTY(c.o);
	/* R's RECV skips (discards) it... */
	ASSERT_EMPTY(c.r);
	/* ... which releases the handle it carried: the last one. */
	ASSERT_HANDLE_RELEASE(c.o, 1);
	ASSERT_EMPTY(c.o);
	ASSERT_NODE_RELEASE(c.p, 3);
	ASSERT_EMPTY(c.p);
}

/* 107 */
TEST(handle_release_arrives_after_every_message_to_node)
{
	char buf[8];
	uint64_t n, h;
	struct t_msg m;
	int o, s, i;

	ASSERT_OPEN(o);
	ASSERT_OPEN(s);
	ASSERT_EQ(0, t_node(o, s, &n, &h));
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		ASSERT_EQ(0, t_send1(s, 1, buf, strlen(buf)));
	}
	ASSERT_EQ(0, t_release1(s, 1));
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		ASSERT_USER(o, &m, 1, buf, strlen(buf));
	}
	ASSERT_HANDLE_RELEASE(o, 1);
	ASSERT_EMPTY(o);
}

/* 108 */
TEST(node_release_for_carried_handle_follows_its_message)
{
	struct t_msg m;
	struct carry c;

	CARRY_OPEN(c);
	ASSERT_EQ(0, t_send_with(c.p, 3, "carry", 5, 1));
	ASSERT_EQ(0, t_release1(c.o, 1));
	ASSERT_NODE_RELEASE(c.p, 1);
	ASSERT_EMPTY(c.p);
	ASSERT_USER(c.r, &m, 1, "carry", 5);
	ASSERT_EQ(3, m.tr[0].id);
	ASSERT_NODE_RELEASE(c.r, 3);
	ASSERT_EMPTY(c.r);
	ASSERT_EMPTY(c.o);
}

/* 108, late variant (§6.1, D20): the node is dead before the send. */
TEST(handle_sent_after_node_release_gets_late_node_release)
{
	struct t_msg m;
	struct carry c;

	CARRY_OPEN(c);
	ASSERT_EQ(0, t_release1(c.o, 1));
	/* P's handle 1 is still valid (NODE_RELEASE not yet received). */
	ASSERT_EQ(0, t_send_with(c.p, 3, "late", 4, 1));
	ASSERT_USER(c.r, &m, 1, "late", 4);
	ASSERT_EQ(3, m.tr[0].id);
	ASSERT_NODE_RELEASE(c.r, 3);
	ASSERT_EMPTY(c.r);
	ASSERT_NODE_RELEASE(c.p, 1);
	ASSERT_EMPTY(c.p);
	ASSERT_EMPTY(c.o);
}

/* 109 */
TEST(releasing_two_last_handles_at_once_notifies_once)
{
	struct bus1_transfer src = { 0, 1 }, dst = { 0, 0 };
	const uint64_t ids[] = { 1, 3, 1 };
	uint64_t n, h;
	int o, hd;

	ASSERT_OPEN(o);
	ASSERT_OPEN(hd);
	ASSERT_EQ(0, t_node(o, hd, &n, &h));
	ASSERT_EQ(0, t_transfer(hd, hd, 1, &src, &dst));
	ASSERT_EQ(3, dst.id);
	ASSERT_EQ(0, t_release(hd, 3, ids));
	ASSERT_HANDLE_RELEASE(o, 1);
	ASSERT_EMPTY(o);
	ASSERT_EMPTY(hd);
}

/*
 * 110: the owner releases nodes while the holder releases the handles to
 * them, both also receiving in between. 100 rounds of 100 node/handle pairs
 * (10^4 races). Every odd pair has a second handle the holder keeps.
 *
 * Per pair, at most one side can receive a notification, and only before
 * it released its own object (afterwards the entry is stale, §6.3); a side
 * that received it finds its object retired (RELEASE fails with EBADRQC).
 * The kept handle gets exactly one NODE_RELEASE.
 */
#define RACE_ROUNDS 100
#define RACE_PAIRS 100

struct race {
	int o, h;
	uint64_t node0, handle0, spare0;
	pthread_barrier_t go, done;
	bool stop;
	/* owner side */
	int rel_node[RACE_PAIRS];
	int hr_before[RACE_PAIRS], hr_after[RACE_PAIRS];
	/* holder side */
	int rel_handle[RACE_PAIRS];
	int nr_before[RACE_PAIRS], nr_after[RACE_PAIRS];
	int nr_spare[RACE_PAIRS];
	int bogus_o, bogus_h;
};

/* Index of @id in a run of consecutive IDs starting at @base, or -1. */
static int race_idx(uint64_t id, uint64_t base)
{
	if (id < base || (id - base) % 2 || (id - base) / 2 >= RACE_PAIRS)
		return -1;
	return (int)((id - base) / 2);
}

/* One RECV on the owner, accounting for a HANDLE_RELEASE; 0 or -errno. */
static int race_owner_recv(struct race *r)
{
	struct t_msg m;
	int i, ret;

	ret = t_recv(r->o, &m);
	if (ret)
		return ret;
	i = race_idx(m.meta.id, r->node0);
	if (m.msg.type != BUS1_MESSAGE_TYPE_HANDLE_RELEASE || i < 0)
		r->bogus_o++;
	else if (r->rel_node[i] == 1)	/* not yet released */
		r->hr_before[i]++;
	else
		r->hr_after[i]++;
	return 0;
}

/* One RECV on the holder, accounting for a NODE_RELEASE; 0 or -errno. */
static int race_holder_recv(struct race *r)
{
	struct t_msg m;
	int i, ret;

	ret = t_recv(r->h, &m);
	if (ret)
		return ret;
	if (m.msg.type != BUS1_MESSAGE_TYPE_NODE_RELEASE) {
		r->bogus_h++;
		return 0;
	}
	i = race_idx(m.meta.id, r->handle0);
	if (i >= 0) {
		if (r->rel_handle[i] == 1)
			r->nr_before[i]++;
		else
			r->nr_after[i]++;
		return 0;
	}
	/* Spares exist for odd pairs only: spare j belongs to pair 2j+1. */
	i = race_idx(m.meta.id, r->spare0);
	if (i < 0 || i >= RACE_PAIRS / 2)
		r->bogus_h++;
	else
		r->nr_spare[2 * i + 1]++;
	return 0;
}

static void *race_owner(void *arg)
{
	struct race *r = arg;
	int i;

	for (;;) {
		pthread_barrier_wait(&r->go);
		if (r->stop)
			return NULL;
		for (i = 0; i < RACE_PAIRS; i++) {
			race_owner_recv(r);
			r->rel_node[i] = t_release1(r->o, r->node0 + 2 * i);
		}
		pthread_barrier_wait(&r->done);
	}
}

static void *race_holder(void *arg)
{
	struct race *r = arg;
	int i;

	for (;;) {
		pthread_barrier_wait(&r->go);
		if (r->stop)
			return NULL;
		for (i = 0; i < RACE_PAIRS; i++) {
			race_holder_recv(r);
			r->rel_handle[i] = t_release1(r->h, r->handle0 + 2 * i);
		}
		pthread_barrier_wait(&r->done);
	}
}

TEST(concurrent_node_and_last_handle_release_notify_at_most_once)
{
	static struct bus1_transfer src[RACE_PAIRS], dst[RACE_PAIRS];
	static struct race r;
	pthread_t to, th;
	int round, i;

	memset(&r, 0, sizeof(r));
	ASSERT_OPEN(r.o);
	ASSERT_OPEN(r.h);
	pthread_barrier_init(&r.go, NULL, 3);
	pthread_barrier_init(&r.done, NULL, 3);
	ASSERT_EQ(0, pthread_create(&to, NULL, race_owner, &r));
	ASSERT_EQ(0, pthread_create(&th, NULL, race_holder, &r));

	for (round = 0; round < RACE_ROUNDS; round++) {
		for (i = 0; i < RACE_PAIRS; i++) {
			src[i].flags = BUS1_TRANSFER_FLAG_CREATE;
			src[i].id = BUS1_INVALID;
		}
		ASSERT_EQ(0, t_transfer(r.o, r.h, RACE_PAIRS, src, dst));
		r.node0 = src[0].id;
		r.handle0 = dst[0].id;
		for (i = 0; i < RACE_PAIRS; i++) {
			ASSERT_EQ(r.node0 + 2 * i, src[i].id);
			ASSERT_EQ(r.handle0 + 2 * i, dst[i].id);
		}
		/* A spare handle for every odd pair, kept by the holder. */
		for (i = 0; i < RACE_PAIRS / 2; i++) {
			src[i].flags = 0;
			src[i].id = r.handle0 + 2 * (2 * i + 1);
		}
		ASSERT_EQ(0, t_transfer(r.h, r.h, RACE_PAIRS / 2, src, dst));
		r.spare0 = dst[0].id;
		for (i = 0; i < RACE_PAIRS / 2; i++)
			ASSERT_EQ(r.spare0 + 2 * i, dst[i].id);

		for (i = 0; i < RACE_PAIRS; i++) {
			r.rel_node[i] = r.rel_handle[i] = 1;
			r.hr_before[i] = r.hr_after[i] = 0;
			r.nr_before[i] = r.nr_after[i] = r.nr_spare[i] = 0;
		}
		pthread_barrier_wait(&r.go);
		pthread_barrier_wait(&r.done);

		/* Drain what is left; everything queued is receivable now. */
		while (race_owner_recv(&r) == 0)
			;
		while (race_holder_recv(&r) == 0)
			;
		ASSERT_EQ(0, r.bogus_o);
		ASSERT_EQ(0, r.bogus_h);

		for (i = 0; i < RACE_PAIRS; i++) {
			ASSERT_EQ(0, r.hr_after[i]);
			ASSERT_EQ(0, r.nr_after[i]);
			ASSERT_GE(1, r.hr_before[i] + r.nr_before[i]);
			ASSERT_EQ(r.hr_before[i] ? -EBADRQC : 0, r.rel_node[i]);
			ASSERT_EQ(r.nr_before[i] ? -EBADRQC : 0,
				  r.rel_handle[i]);
			ASSERT_EQ(-EBADRQC, t_release1(r.o, r.node0 + 2 * i));
			if (i % 2) {
				/*
				 * The spare kept the node's count above 0 and
				 * got exactly one NODE_RELEASE, which retired it.
				 */
				ASSERT_EQ(0, r.hr_before[i]);
				ASSERT_EQ(1, r.nr_spare[i]);
				ASSERT_EQ(-EBADRQC, t_release1(r.h,
					r.spare0 + 2 * (i / 2)));
			} else {
				ASSERT_EQ(0, r.nr_spare[i]);
			}
		}
	}
	r.stop = true;
	pthread_barrier_wait(&r.go);
	pthread_join(to, NULL);
	pthread_join(th, NULL);
}

/*
 * 111: three sender threads keep sending messages that carry their handle
 * to O's node while O releases it; R receives them all, releasing every
 * second carried handle at once. 10 rounds of 3 x 100 messages.
 *
 * Every handle R ever received either was released by R (and then gets no
 * NODE_RELEASE) or gets exactly one NODE_RELEASE; each sender's own handle
 * gets exactly one.
 */
#define CARRY_ROUNDS 10
#define CARRY_SENDERS 3
#define CARRY_MSGS 100
#define CARRY_TOTAL (CARRY_SENDERS * CARRY_MSGS)

struct carry_race {
	int o, r, s[CARRY_SENDERS];
	uint64_t to_o[CARRY_SENDERS], to_r[CARRY_SENDERS];
	atomic_int received;
	atomic_int send_errors;
	int rx_errors, live, notified;
	const char *why;
	uint8_t state[CARRY_TOTAL];	/* 1 live, 2 released, 3 notified */
};

struct carry_sender {
	struct carry_race *c;
	int i;
};

static void *carry_send(void *arg)
{
	struct carry_sender *cs = arg;
	struct carry_race *c = cs->c;
	uint64_t seq;

	for (seq = 0; seq < CARRY_MSGS; seq++)
		if (t_send_with(c->s[cs->i], c->to_r[cs->i], &seq, sizeof(seq),
				c->to_o[cs->i]))
			atomic_fetch_add(&c->send_errors, 1);
	return NULL;
}

static void *carry_recv(void *arg)
{
	struct carry_race *c = arg;
	struct t_msg m;
	int r, n, idx;

	for (;;) {
		/*
		 * Done when every message is in and every live handle has
		 * its NODE_RELEASE; as half of them stay live, the latter
		 * implies the node's release has happened.
		 */
		n = atomic_load(&c->received);
		if (n == CARRY_TOTAL && c->notified == c->live)
			return NULL;
		r = t_recv_wait(c->r, &m, 5000);
		if (r) {
			c->why = r == -ETIMEDOUT ? "timeout" : "recv failed";
			c->rx_errors++;
			return NULL;
		}
		if (m.msg.type == BUS1_MESSAGE_TYPE_USER) {
			/* Handles are numbered 3, 5, ... in receive order. */
			if (m.meta.id != 1 || m.msg.n_transfers != 1 ||
			    m.tr[0].id != 3 + 2 * (uint64_t)n ||
			    n >= CARRY_TOTAL) {
				c->why = "unexpected message";
				c->rx_errors++;
				return NULL;
			}
			if (n % 2) {
				if (t_release1(c->r, m.tr[0].id)) {
					c->why = "release of received handle";
					c->rx_errors++;
				}
				c->state[n] = 2;
			} else {
				c->state[n] = 1;
				c->live++;
			}
			atomic_fetch_add(&c->received, 1);
		} else if (m.msg.type == BUS1_MESSAGE_TYPE_NODE_RELEASE) {
			idx = (int)((m.meta.id - 3) / 2);
			if (m.meta.id < 3 || !(m.meta.id & 1) || idx >= n ||
			    c->state[idx] != 1) {
				c->why = "NODE_RELEASE for a handle not live";
				c->rx_errors++;
				return NULL;
			}
			c->state[idx] = 3;
			c->notified++;
		} else {
			c->why = "unexpected entry type";
			c->rx_errors++;
			return NULL;
		}
	}
}

TEST(handles_carried_during_node_release_get_one_node_release_each)
{
	static struct carry_race c;
	struct carry_sender cs[CARRY_SENDERS];
	pthread_t ts[CARRY_SENDERS], tr;
	struct bus1_transfer src, dst;
	uint64_t node, t0;
	int round, i;

	for (round = 0; round < CARRY_ROUNDS; round++) {
		memset(&c, 0, sizeof(c));
		ASSERT_OPEN(c.o);
		ASSERT_OPEN(c.r);
		for (i = 0; i < CARRY_SENDERS; i++)
			ASSERT_OPEN(c.s[i]);
		/* O's node 1 and R's node 1; sender 0 gets handles 1 and 3. */
		ASSERT_EQ(0, t_node(c.o, c.s[0], &node, &c.to_o[0]));
		ASSERT_EQ(1, node);
		ASSERT_EQ(0, t_node(c.r, c.s[0], &node, &c.to_r[0]));
		ASSERT_EQ(1, node);
		/* The other senders get their own handles from sender 0. */
		for (i = 1; i < CARRY_SENDERS; i++) {
			src = (struct bus1_transfer){ 0, c.to_o[0] };
			ASSERT_EQ(0, t_transfer(c.s[0], c.s[i], 1, &src, &dst));
			c.to_o[i] = dst.id;
			src = (struct bus1_transfer){ 0, c.to_r[0] };
			ASSERT_EQ(0, t_transfer(c.s[0], c.s[i], 1, &src, &dst));
			c.to_r[i] = dst.id;
		}
		ASSERT_EQ(0, pthread_create(&tr, NULL, carry_recv, &c));
		for (i = 0; i < CARRY_SENDERS; i++) {
			cs[i].c = &c;
			cs[i].i = i;
			ASSERT_EQ(0, pthread_create(&ts[i], NULL, carry_send,
						    &cs[i]));
		}
		/* Release while messages are in flight (about a third in). */
		t0 = t_now_us();
		while (atomic_load(&c.received) < CARRY_TOTAL / 3 &&
		       t_now_us() - t0 < 10000000)
			usleep(500);
		ASSERT_EQ(0, t_release1(c.o, 1));

		for (i = 0; i < CARRY_SENDERS; i++)
			pthread_join(ts[i], NULL);
		pthread_join(tr, NULL);
		if (c.why)
			TH_LOG("round %d: %s", round, c.why);
		ASSERT_EQ(0, c.rx_errors);
		ASSERT_EQ(0, atomic_load(&c.send_errors));
		ASSERT_EQ(CARRY_TOTAL, atomic_load(&c.received));
		ASSERT_EQ(CARRY_TOTAL / 2, c.live);
		ASSERT_EQ(c.live, c.notified);
		ASSERT_EMPTY(c.r);
		ASSERT_EMPTY(c.o);
		ASSERT_EQ(-EBADRQC, t_release1(c.o, 1));
		for (i = 0; i < CARRY_SENDERS; i++) {
			ASSERT_NODE_RELEASE(c.s[i], c.to_o[i]);
			ASSERT_EMPTY(c.s[i]);
			close(c.s[i]);
		}
		close(c.o);
		close(c.r);
	}
}

/* RECV with the metadata and message structs at the given addresses. */
static int recv_at(int fd, void *meta, void *msg)
{
	struct bus1_cmd_recv cmd = {
		.ptr_metadata = BUS1_FROM_PTR(meta),
		.ptr_message = BUS1_FROM_PTR(msg),
	};

	return t_ioctl(fd, BUS1_CMD_RECV, &cmd);
}

/* 112 */
TEST(notification_copy_out_fault_keeps_id_and_redelivers)
{
	struct bus1_message req = { .type = BUS1_INVALID }, msg;
	struct bus1_metadata meta;
	struct bus1_message *ro_msg = t_rdonly(&req, sizeof(req));
	struct bus1_metadata *ro_meta = t_rdonly(&meta, sizeof(meta));
	void *hole = t_hole();
	uint64_t n, h;
	int o, hd;

	ASSERT_NE(NULL, ro_msg);
	ASSERT_NE(NULL, ro_meta);
	ASSERT_NE(NULL, hole);

	/* NODE_RELEASE */
	ASSERT_OPEN(o);
	ASSERT_OPEN(hd);
	ASSERT_EQ(0, t_node(o, hd, &n, &h));
	ASSERT_EQ(0, t_release1(o, 1));
	msg = req;
	ASSERT_EQ(-EFAULT, recv_at(hd, hole, &msg));
	ASSERT_EQ(-EFAULT, recv_at(hd, ro_meta, &msg));
	ASSERT_EQ(-EFAULT, recv_at(hd, &meta, ro_msg));
	/* Not retired: the handle still works (the send is discarded). */
	ASSERT_EQ(0, t_send1(hd, 1, "x", 1));
	ASSERT_NODE_RELEASE(hd, 1);
	ASSERT_EMPTY(hd);
	ASSERT_EQ(-EBADRQC, t_send1(hd, 1, "x", 1));
	ASSERT_EMPTY(o);

	/* HANDLE_RELEASE */
	ASSERT_EQ(0, t_node(o, -1, &n, &h));
	ASSERT_EQ(3, n);
	ASSERT_EQ(0, t_release1(o, h));
	msg = req;
	ASSERT_EQ(-EFAULT, recv_at(o, hole, &msg));
	ASSERT_EQ(-EFAULT, recv_at(o, ro_meta, &msg));
	ASSERT_EQ(-EFAULT, recv_at(o, &meta, ro_msg));
	ASSERT_HANDLE_RELEASE(o, 3);
	ASSERT_EMPTY(o);
	ASSERT_EQ(-EBADRQC, t_release1(o, 3));
}

TEST_HARNESS_MAIN
