// SPDX-License-Identifier: GPL-2.0
/*
 * Stress (checklist item 127): N sender processes x M receiver processes,
 * random multicasts. Every sender draws its messages from a seeded
 * generator that the receivers replay, so each receiver knows exactly which
 * copies it must get from each sender and in which order. Checked: no
 * loss, no duplicates, no corruption, per-sender FIFO at every receiver
 * (across both of its nodes, and in destinations[] order within one
 * multicast), and exactly-once HANDLE_RELEASE for the nodes the messages
 * create. Receivers wait in poll(); nothing busy-waits.
 */
/* See close_test.c: -Wclobbered is a false positive of TEST_F(). */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "util2.h"

#define ST_SENDERS 4
#define ST_RECEIVERS 4
#define ST_NODES (2 * ST_RECEIVERS)	/* two nodes per receiver */
#define ST_MSGS 1000			/* per sender */
#define ST_MAX_DST 8
#define ST_MAX_LEN 256

struct st_plan {
	int ndst;
	int node[ST_MAX_DST];	/* global node index: receiver * 2 + local */
	bool create;
	size_t len;
};

struct st_head {
	uint64_t sender, seq;
};

static uint64_t st_seed(int sender)
{
	return 0x9e3779b97f4a7c15ULL ^ (uint64_t)(sender + 1);
}

/* The next message of a sender: 1-8 destinations (repeats allowed). */
static void st_plan_next(uint64_t *seed, struct st_plan *p)
{
	int k;

	p->ndst = 1 + t_rand(seed) % ST_MAX_DST;
	for (k = 0; k < p->ndst; k++)
		p->node[k] = t_rand(seed) % ST_NODES;
	p->create = t_rand(seed) % 4 == 0;
	p->len = sizeof(struct st_head) +
		 t_rand(seed) % (ST_MAX_LEN - sizeof(struct st_head) + 1);
}

static uint8_t st_fill(uint64_t sender, uint64_t seq, size_t k)
{
	return (uint8_t)(sender * 131 + seq * 7 + k * 13);
}

static int st_sender(int fd, int id, const uint64_t *handles, int done_fd)
{
	static uint64_t created[ST_MSGS];
	static bool seen[ST_MSGS];
	bool nr[ST_NODES] = { false };
	uint64_t seed = st_seed(id), dst[ST_MAX_DST], v;
	uint8_t buf[ST_MAX_LEN];
	struct bus1_transfer tr;
	struct st_head h;
	struct st_plan p;
	struct t_msg m;
	int n = 0, i, k;
	size_t j;

	for (i = 0; i < ST_MSGS; i++) {
		st_plan_next(&seed, &p);
		for (k = 0; k < p.ndst; k++)
			dst[k] = handles[p.node[k]];
		h = (struct st_head){ id, i };
		memcpy(buf, &h, sizeof(h));
		for (j = sizeof(h); j < p.len; j++)
			buf[j] = st_fill(id, i, j);
		tr = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
					     BUS1_INVALID };
		if (t_send(fd, p.ndst, dst, buf, p.len, p.create, &tr))
			return 10;
		if (p.create)
			created[n++] = tr.id;
	}
	/* Once all receivers are done and gone, collect the notifications. */
	if (t_read_u64(done_fd, &v, 120000))
		return 11;
	for (i = 0; i < n + ST_NODES; i++) {
		if (t_recv(fd, &m))
			return 12;
		if (m.msg.type == BUS1_MESSAGE_TYPE_NODE_RELEASE) {
			for (k = 0; k < ST_NODES; k++)
				if (handles[k] == m.meta.id)
					break;
			if (k == ST_NODES || nr[k])
				return 13;
			nr[k] = true;
			continue;
		}
		if (m.msg.type != BUS1_MESSAGE_TYPE_HANDLE_RELEASE)
			return 14;
		for (k = 0; k < n; k++)
			if (created[k] == m.meta.id)
				break;
		if (k == n || seen[k])
			return 15;
		seen[k] = true;
	}
	return t_recv_any(fd) == -EAGAIN ? 0 : 16;
}

struct st_expect {
	uint64_t seq;
	uint64_t node;		/* node ID in the receiver: 1 or 3 */
	bool create;
	size_t len;
};

static int st_receiver(int fd, int id)
{
	static struct st_expect exp[ST_SENDERS][ST_MSGS * ST_MAX_DST];
	size_t pos[ST_SENDERS] = { 0 }, cnt[ST_SENDERS] = { 0 }, j;
	size_t total = 0, got = 0;
	struct st_expect *e;
	struct st_head h;
	struct st_plan p;
	struct t_msg m;
	uint64_t seed;
	int s, i, k;

	/* Replay every sender's plan: the copies for my nodes, in order. */
	for (s = 0; s < ST_SENDERS; s++) {
		seed = st_seed(s);
		for (i = 0; i < ST_MSGS; i++) {
			st_plan_next(&seed, &p);
			for (k = 0; k < p.ndst; k++) {
				if (p.node[k] / 2 != id)
					continue;
				exp[s][cnt[s]++] = (struct st_expect){
					i, p.node[k] % 2 ? 3 : 1, p.create,
					p.len };
			}
		}
		total += cnt[s];
	}
	while (got < total) {
		if (t_recv_wait(fd, &m, 20000))
			return 20;	/* lost (or stuck) */
		if (m.msg.type != BUS1_MESSAGE_TYPE_USER ||
		    m.msg.n_data < sizeof(h))
			return 21;
		memcpy(&h, m.data, sizeof(h));
		if (h.sender >= ST_SENDERS || pos[h.sender] >= cnt[h.sender])
			return 22;	/* unknown or duplicate */
		e = &exp[h.sender][pos[h.sender]++];
		if (h.seq != e->seq || m.meta.id != e->node)
			return 23;	/* reordered, lost or misrouted */
		if (m.msg.n_data != e->len || m.msg.n_transfers != e->create)
			return 24;
		for (j = sizeof(h); j < e->len; j++)
			if ((uint8_t)m.data[j] != st_fill(h.sender, h.seq, j))
				return 25;	/* corrupted */
		if (e->create && t_release1(fd, m.tr[0].id))
			return 26;
		got++;
	}
	return t_recv_any(fd) == -EAGAIN ? 0 : 27;
}

FIXTURE(stress) {
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, random_multicasts_lose_nothing_and_keep_sender_order,
	       300)
{
	int snd[ST_SENDERS], rcv[ST_RECEIVERS], done[ST_SENDERS][2], i, j, k;
	struct bus1_transfer src[ST_NODES], dst[ST_NODES];
	uint64_t handles[ST_SENDERS][ST_NODES], n;
	pid_t ps[ST_SENDERS], pr[ST_RECEIVERS];

	for (i = 0; i < ST_SENDERS; i++) {
		ASSERT_OPEN(snd[i]);
		ASSERT_EQ(0, pipe(done[i]));
	}
	/* Receiver j owns nodes 1 and 3; sender 0 gets a handle to each. */
	for (j = 0; j < ST_RECEIVERS; j++) {
		ASSERT_OPEN(rcv[j]);
		for (k = 0; k < 2; k++) {
			ASSERT_EQ(0, t_node(rcv[j], snd[0], &n,
					    &handles[0][2 * j + k]));
			ASSERT_EQ(2 * k + 1, n);
		}
	}
	/* The other senders get theirs from sender 0. */
	for (k = 0; k < ST_NODES; k++)
		src[k] = (struct bus1_transfer){ 0, handles[0][k] };
	for (i = 1; i < ST_SENDERS; i++) {
		ASSERT_EQ(0, t_transfer(snd[0], snd[i], ST_NODES, src, dst));
		for (k = 0; k < ST_NODES; k++)
			handles[i][k] = dst[k].id;
	}

	for (j = 0; j < ST_RECEIVERS; j++) {
		pr[j] = t_fork();
		ASSERT_LE(0, pr[j]);
		if (pr[j] == 0) {
			for (k = 0; k < ST_RECEIVERS; k++)
				if (k != j)
					close(rcv[k]);
			for (k = 0; k < ST_SENDERS; k++)
				close(snd[k]);
			_exit(st_receiver(rcv[j], j));
		}
	}
	for (i = 0; i < ST_SENDERS; i++) {
		ps[i] = t_fork();
		ASSERT_LE(0, ps[i]);
		if (ps[i] == 0) {
			for (k = 0; k < ST_RECEIVERS; k++)
				close(rcv[k]);
			for (k = 0; k < ST_SENDERS; k++)
				if (k != i)
					close(snd[k]);
			_exit(st_sender(snd[i], i, handles[i], done[i][0]));
		}
	}
	for (j = 0; j < ST_RECEIVERS; j++)
		close(rcv[j]);
	for (i = 0; i < ST_SENDERS; i++)
		close(snd[i]);

	for (j = 0; j < ST_RECEIVERS; j++)
		EXPECT_EQ(0, t_wait(pr[j])) TH_LOG("receiver %d", j);
	for (i = 0; i < ST_SENDERS; i++)
		ASSERT_EQ(0, t_write_u64(done[i][1], 1));
	for (i = 0; i < ST_SENDERS; i++)
		EXPECT_EQ(0, t_wait(ps[i])) TH_LOG("sender %d", i);
	EXPECT_EQ(0, t_live_objects("bus1", 2000));
}

TEST_HARNESS_MAIN
