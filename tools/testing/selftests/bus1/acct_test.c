// SPDX-License-Identifier: GPL-2.0
/*
 * Resource accounting: spec §9, checklist §12.11 items 131-139, and the
 * fair-share properties that follow from §9.3-§9.5.
 *
 * Every test loads its own bus1x instance with the limits it needs, so no
 * other peer holds charges there and the limits are exact. Peers of other
 * UIDs run in agents (see acct-util.h); the test process is UID 0. Every
 * test ends with all peers closed, checks that the accounting dump lists
 * no user (every user went back to its initial state and was freed) and
 * that no object is alive, and unloads the instance.
 *
 * Expected numbers are derived in the comments from §9.3-§9.5. Two facts
 * are used throughout, for one slot with amount 1 per charge:
 *
 * Self (claimant UID == charged UID), trace T in quota Q: a charge passes
 * iff Q.available + U.available >= T.claimed + 2 (m1 = claimed + 2, and
 * the user covers any shortfall one to one), and each success uses up one
 * unit of that sum. A trace starting at 0 with F units there passes its
 * charge k+1 iff F - k >= k + 2: it gets floor(F / 2).
 *
 * Foreign claimant, one trace alone in its quota, starting from nothing:
 * after k charges the quota holds claimed 2k, available k, the trace k.
 * Charge k+1 needs take = 2 from the user and m2 = (2 + 2k) * A - 2k,
 * where A = A_ql(nq). With U0 what the user had at the start, it passes
 * iff U0 - 2k >= 2A + (2A - 2) k, i.e. 2A (k + 1) <= U0. The number of
 * charges that pass is floor(U0 / (2A)). A_ql(1..3) = 4, 9, 12.
 */
#include "kselftest_harness.h"
#include "acct-util.h"

/*
 * gcc's -Wclobbered fires on a local variable inside the harness's TEST_F()
 * wrapper (kept across its setjmp()), in every fixture test. It is about
 * the harness, not about this file, so it is silenced here as in the other
 * fixture-based test files.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#define UID_A 1001
#define UID_B 1002
#define UID_C 1003

/* more attempts than any limit used here allows */
#define MANY 100000

FIXTURE(acct) {
	int unused;
};

FIXTURE_SETUP(acct)
{
}

/*
 * Runs in the test's parent after the test, also when it failed: the
 * agents died with the test process, so the instance can go.
 */
FIXTURE_TEARDOWN_PARENT(acct)
{
	if (au_loaded())
		EXPECT_EQ(0, au_unload());
}

#define LOAD(params) do {						\
	int __r = au_load(params);					\
	ASSERT_EQ(0, __r) TH_LOG("loading %s \"%s\": %s", AU_KO,	\
				 params, strerror(-__r));		\
} while (0)

#define OPEN(fd) do {							\
	(fd) = t_open();						\
	ASSERT_LE(0, (fd)) TH_LOG("open %s: %s", AU_DEV,		\
				  strerror(errno));			\
} while (0)

#define SPAWN(ag, uid, keep, n_keep, pinned) do {			\
	int __r = au_spawn((ag), (uid), (keep), (n_keep), (pinned));	\
	ASSERT_EQ(0, __r) TH_LOG("agent for UID %u: %s", (uid),		\
				 strerror(-__r));			\
} while (0)

#define STOP(ag) ASSERT_EQ(0, au_stop(ag))

/*
 * The end of every test, once each peer is closed: no user is left in the
 * accounting state, no object is alive, and the instance unloads.
 */
#define FINISH() do {							\
	static char __buf[8192];					\
	int __r;							\
									\
	__buf[0] = 0;							\
	__r = au_wait_idle(__buf, sizeof(__buf));			\
	ASSERT_EQ(0, __r) TH_LOG("left after closing every peer:\n%s",	\
				 __buf);				\
	ASSERT_EQ(0, au_unload());					\
	ASSERT_FALSE(au_loaded());					\
} while (0)

/* The dump of a user with no charge: its initial claim. */
static void initial_dump(char *buf, size_t size, unsigned int uid)
{
	snprintf(buf, size, "user %u available %lld %lld\n", uid,
		 au_param("max_objects"), au_param("max_bytes"));
}

/*
 * 131, §9.7 "self, objects", max_objects=64. A lone peer P of UID_A does
 * CREATE-to-self TRANSFERs: each element charges a node and a handle, both
 * self. A lone trace holds at most floor(64 / 2) = 32 objects: 16 elements;
 * the 17th fails at its node charge (available 32 < 32 + 2).
 *
 * After releasing one node and one handle (one trace; each discharge gives
 * back everything above the trace's new holding, so the quota goes from
 * 32 held + 32 reserve to 30 held + 30 reserve and the user has 4), one
 * element needs 30 + 2 and 31 + 2 with 34 available: passes; the next
 * node needs 32 + 2 with 32 available: fails.
 *
 * A second peer P2 of UID_A while P holds 32 and the quota keeps a reserve
 * of 32 (the user has 0): P2's charge j+1 passes iff 32 - j >= j + 2, so 16
 * objects pass: 8 elements.
 */
TEST_F(acct, self_objects_16_elements_then_edquot)
{
	uint64_t ids[32], pair[2];
	char dump[4096], initial[128];
	struct au_objects o;
	struct au_rep p;
	struct au_agent a;
	int i, r, fd2;
	long n;

	LOAD("max_objects=64");
	SPAWN(&a, UID_A, NULL, 0, false);
	initial_dump(initial, sizeof(initial), UID_A);
	ASSERT_EQ(0, au_acct(dump, sizeof(dump)));
	ASSERT_STREQ(initial, dump);

	/* One call of 17 elements: EDQUOT, and nothing is left of it. */
	ASSERT_EQ(-EDQUOT, au_create(&a, a.fd, -1, 17, &p));
	/* elements 0..15 were staged with IDs 1..63, now burned */
	EXPECT_EQ(1, p.src[0]);
	EXPECT_EQ(3, p.dst[0]);
	EXPECT_EQ(61, p.src[15]);
	EXPECT_EQ(63, p.dst[15]);
	/* the 17th failed at its node charge, before any ID */
	EXPECT_EQ(BUS1_INVALID, p.src[16]);
	EXPECT_EQ(AU_CANARY64, p.dst[16]);
	EXPECT_EQ(-EBADRQC, au_release(&a, a.fd, 1, (uint64_t[]){ 1 }));
	EXPECT_EQ(-EBADRQC, au_release(&a, a.fd, 1, (uint64_t[]){ 63 }));
	EXPECT_EQ(-EAGAIN, au_recv(&a, a.fd, &p));
	ASSERT_EQ(0, au_objects(&o));
	EXPECT_EQ(0, au_counter(&o, "nodes"));
	EXPECT_EQ(0, au_counter(&o, "handles"));
	ASSERT_EQ(0, au_acct(dump, sizeof(dump)));
	EXPECT_STREQ(initial, dump);

	/* 16 elements in one call succeed, the 17th fails. */
	ASSERT_EQ(0, au_create(&a, a.fd, -1, 16, &p));
	EXPECT_EQ(65, p.src[0]);
	EXPECT_EQ(127, p.dst[15]);
	for (i = 0; i < 16; i++) {
		ids[2 * i] = p.src[i];
		ids[2 * i + 1] = p.dst[i];
	}
	EXPECT_EQ(-EDQUOT, au_create(&a, a.fd, -1, 1, &p));
	ASSERT_EQ(0, au_objects(&o));
	EXPECT_EQ(16, au_counter(&o, "nodes"));
	EXPECT_EQ(16, au_counter(&o, "handles"));

	/* Releasing all of it returns the user to its initial state. */
	ASSERT_EQ(0, au_release(&a, a.fd, 32, ids));
	EXPECT_EQ(-EAGAIN, au_recv(&a, a.fd, &p));
	ASSERT_EQ(0, au_acct(dump, sizeof(dump)));
	EXPECT_STREQ(initial, dump);

	/* The same 16 elements in 16 calls; the 17th call fails. */
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, au_create(&a, a.fd, -1, 1, &p))
			TH_LOG("element %d", i + 1);
		if (!i) {
			pair[0] = p.src[0];
			pair[1] = p.dst[0];
		}
	}
	EXPECT_EQ(-EDQUOT, au_create(&a, a.fd, -1, 1, &p));
	TH_LOG("max_objects=64: a lone peer got 16 elements (32 objects)");

	/* One node and its own handle, one call: no notification. */
	ASSERT_EQ(0, au_release(&a, a.fd, 2, pair));
	EXPECT_EQ(-EAGAIN, au_recv(&a, a.fd, &p));
	/* exactly one more element */
	EXPECT_EQ(0, au_create(&a, a.fd, -1, 1, &p));
	EXPECT_EQ(-EDQUOT, au_create(&a, a.fd, -1, 1, &p));

	/* A second peer of the same UID gets 8 elements. */
	ASSERT_EQ(0, au_open(&a, &fd2));
	n = au_create_until(&a, fd2, MANY, &r);
	EXPECT_EQ(8, n);
	EXPECT_EQ(-EDQUOT, r);
	TH_LOG("second peer of the same UID got %ld elements", n);
	EXPECT_EQ(-EDQUOT, au_create(&a, a.fd, -1, 1, &p));

	STOP(&a);
	FINISH();
}

/*
 * 132, §9.7 "cross-UID, bytes", max_bytes=18432. R (UID 0) creates a node
 * with a handle in S (UID_A): the node is charged to UID 0 (self), the
 * handle to UID_A. S's messages are charged to UID 0 with S as claimant,
 * so user 0 has 2 quotas: A_ql(2) = 9, and S gets floor(18432 / 18) = 1024
 * bytes (objects are plenty at the default limit). After the 1024-byte
 * message, 1 more byte needs take 2 and m2 = (2 + 2048) * 9 - 2048 =
 * 16402 > 16384 left: EDQUOT. A 0-byte message skips the bytes slot. Once
 * R has received the 1024 bytes, S's trace holds 0 bytes, the quota gives
 * everything back, and 1024 bytes fit again.
 */
TEST_F(acct, cross_uid_bytes_1024_of_18432)
{
	uint64_t node, handle, h2;
	struct au_agent s;
	struct au_req q;
	struct au_rep p;
	int r, s2;

	LOAD("max_bytes=18432");
	OPEN(r);
	SPAWN(&s, UID_A, &r, 1, false);
	ASSERT_EQ(0, au_grant(&s, r, &node, &handle));
	EXPECT_EQ(1, node);
	EXPECT_EQ(1, handle);

	/* a first message of 1025 bytes fails, and leaves nothing */
	EXPECT_EQ(-EDQUOT, au_send(&s, s.fd, handle, 1025));
	EXPECT_EQ(-EAGAIN, au_recv(NULL, r, &p));

	EXPECT_EQ(0, au_send(&s, s.fd, handle, 1024));
	EXPECT_EQ(-EDQUOT, au_send(&s, s.fd, handle, 1));
	EXPECT_EQ(0, au_send(&s, s.fd, handle, 0));

	ASSERT_EQ(0, au_recv(NULL, r, &p));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, p.msg.type);
	EXPECT_EQ(node, p.meta.id);
	EXPECT_EQ(UID_A, p.meta.account);
	EXPECT_EQ(1024, p.msg.n_data);
	EXPECT_TRUE(au_data_ok(p.data, 1024));
	ASSERT_EQ(0, au_recv(NULL, r, &p));
	EXPECT_EQ(0, p.msg.n_data);
	EXPECT_EQ(UID_A, p.meta.account);
	EXPECT_EQ(-EAGAIN, au_recv(NULL, r, &p));

	/* the capacity is back */
	EXPECT_EQ(0, au_send(&s, s.fd, handle, 1024));
	EXPECT_EQ(-EDQUOT, au_send(&s, s.fd, handle, 1));
	TH_LOG("max_bytes=18432: 1024 bytes pass, 1025 fail, 1 more fails");

	/*
	 * A second peer S2 of UID_A, given a handle by S, sends from the
	 * quota's reserve of 1024: m1 = 2 * n_data, so 512 bytes pass and 513
	 * fail (take 2, m2 = 16402 > 16384). Now S's trace holds 1024 bytes,
	 * more than the 512 reserve left, yet its 0-byte message passes: the
	 * bytes slot is skipped, not checked with amount 0 (§9.4 step 2).
	 */
	ASSERT_EQ(0, au_open(&s, &s2));
	memset(&q, 0, sizeof(q));
	q.op = AU_TRANSFER;
	q.fd = s.fd;
	q.to = s2;
	q.n = 1;
	q.ids[0] = handle;
	ASSERT_EQ(0, au_call(&s, &q, &p));
	h2 = p.dst[0];
	EXPECT_EQ(-EDQUOT, au_send(&s, s2, h2, 513));
	EXPECT_EQ(0, au_send(&s, s2, h2, 512));
	EXPECT_EQ(-EDQUOT, au_send(&s, s2, h2, 1));
	EXPECT_EQ(0, au_send(&s, s.fd, handle, 0));

	ASSERT_EQ(0, au_recv(NULL, r, &p));
	EXPECT_EQ(1024, p.msg.n_data);
	EXPECT_TRUE(au_data_ok(p.data, 1024));
	ASSERT_EQ(0, au_recv(NULL, r, &p));
	EXPECT_EQ(512, p.msg.n_data);
	EXPECT_EQ(UID_A, p.meta.account);
	ASSERT_EQ(0, au_recv(NULL, r, &p));
	EXPECT_EQ(0, p.msg.n_data);
	EXPECT_EQ(-EAGAIN, au_recv(NULL, r, &p));

	STOP(&s);
	close(r);
	FINISH();
}

/*
 * 133: credentials are pinned at open. The agent opens P as root (UID 0),
 * switches to UID_A, then opens Q. Both are used from that UID_A process.
 *
 * Charging, max_objects=64: P, charged to UID 0, gets the 16 elements of a
 * lone peer; Q then also gets 16. Had P been charged to UID_A, Q would be
 * a second peer of that UID and get 8 (see test 131).
 *
 * Reporting: P's messages carry account 0, Q's account UID_A.
 */
TEST_F(acct, credentials_are_pinned_at_open)
{
	const unsigned int claimants[] = { 0, UID_A };
	uint64_t ids_p[32], ids_q[32];
	char dump[4096];
	struct au_rep p;
	struct au_agent a;
	int i, r;
	long n;

	LOAD("max_objects=64");
	SPAWN(&a, UID_A, NULL, 0, true);
	ASSERT_LE(0, a.fd_pinned);

	ASSERT_EQ(0, au_acct(dump, sizeof(dump)));
	EXPECT_EQ(2, au_acct_n_users(dump)) TH_LOG("%s", dump);
	EXPECT_TRUE(au_acct_has_user(dump, 0));
	EXPECT_TRUE(au_acct_has_user(dump, UID_A));

	n = au_create_until(&a, a.fd_pinned, MANY, &r);
	EXPECT_EQ(16, n);
	EXPECT_EQ(-EDQUOT, r);
	n = au_create_until(&a, a.fd, MANY, &r);
	EXPECT_EQ(16, n);
	EXPECT_EQ(-EDQUOT, r);
	TH_LOG("pinned UID 0 peer and UID %u peer in one process: %ld elements each",
	       UID_A, n);

	ASSERT_EQ(0, au_acct(dump, sizeof(dump)));
	EXPECT_EQ(1U << 0, au_acct_quotas(dump, 0, claimants, 2))
		TH_LOG("%s", dump);
	EXPECT_EQ(1U << 1, au_acct_quotas(dump, UID_A, claimants, 2))
		TH_LOG("%s", dump);

	/* drop all of it; the IDs are those of the first 16 elements */
	for (i = 0; i < 32; i++)
		ids_p[i] = ids_q[i] = 2 * i + 1;
	ASSERT_EQ(0, au_release(&a, a.fd_pinned, 32, ids_p));
	ASSERT_EQ(0, au_release(&a, a.fd, 32, ids_q));

	/* Q creates a node with a handle in P; P sends through it */
	ASSERT_EQ(0, au_create(&a, a.fd, a.fd_pinned, 1, &p));
	EXPECT_EQ(0, au_send(&a, a.fd_pinned, p.dst[0], 6));
	/* the message is charged to Q's UID with claimant UID 0 */
	ASSERT_EQ(0, au_acct(dump, sizeof(dump)));
	EXPECT_EQ(3U, au_acct_quotas(dump, UID_A, claimants, 2))
		TH_LOG("%s", dump);
	EXPECT_EQ(2U, au_acct_quotas(dump, 0, claimants, 2))
		TH_LOG("%s", dump);
	ASSERT_EQ(0, au_recv(&a, a.fd, &p));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, p.msg.type);
	EXPECT_EQ(6, p.msg.n_data);
	EXPECT_EQ(0, p.meta.account);

	/* and the other way round */
	ASSERT_EQ(0, au_create(&a, a.fd_pinned, a.fd, 1, &p));
	EXPECT_EQ(0, au_send(&a, a.fd, p.dst[0], 7));
	ASSERT_EQ(0, au_recv(&a, a.fd_pinned, &p));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, p.msg.type);
	EXPECT_EQ(7, p.msg.n_data);
	EXPECT_EQ(UID_A, p.meta.account);

	STOP(&a);
	FINISH();
}

/*
 * 134: EDQUOT has no bus-visible effect. max_objects=256. R (UID 0) gives
 * S (UID_A) a handle; S also has a node and handle of its own. S fills its
 * quota at user 0: floor((256 - 2) / 18) = 14 messages (R's node holds 2
 * of user 0). Then
 *
 *  - a multicast to [S itself, R] carrying [CREATE, S's handle] fails at
 *    the second destination, after the node was created and the first copy
 *    staged;
 *  - a TRANSFER S -> R of one CREATE element fails at the handle charge
 *    (user 0), after the node in S was staged.
 *
 * Neither leaves a queue entry, an object or a charge (the debugfs object
 * counters and accounting dump are unchanged), nor writes the caller's
 * arrays beyond the staged IDs §5.1 allows; only IDs are burned: S's node
 * IDs 7 and 9, none in R (its handle charge comes before its ID).
 */
TEST_F(acct, edquot_has_no_bus_visible_effect)
{
	struct au_objects o1, o2;
	static char d1[4096], d2[4096];
	uint64_t node, handle;
	struct au_agent s;
	struct au_req q;
	struct au_rep p;
	int r, rr;
	long n;

	LOAD("max_objects=256");
	OPEN(r);
	SPAWN(&s, UID_A, &r, 1, false);
	ASSERT_EQ(0, au_create(&s, r, s.fd, 1, &p));
	node = p.src[0];
	handle = p.dst[0];
	ASSERT_EQ(1, node);
	ASSERT_EQ(1, handle);
	ASSERT_EQ(0, au_create(&s, s.fd, -1, 1, &p));
	ASSERT_EQ(3, p.src[0]);
	ASSERT_EQ(5, p.dst[0]);

	n = au_send_until(&s, s.fd, handle, 0, MANY, &rr);
	EXPECT_EQ(14, n);
	EXPECT_EQ(-EDQUOT, rr);
	ASSERT_EQ(0, au_objects(&o1));
	ASSERT_EQ(0, au_acct(d1, sizeof(d1)));

	memset(&q, 0, sizeof(q));
	q.op = AU_SEND;
	q.fd = s.fd;
	q.n_dst = 2;
	q.dst[0] = 5;
	q.dst[1] = handle;
	q.n = 2;
	q.ids[0] = BUS1_INVALID;
	q.ids[1] = 5;
	q.n_data = 16;
	EXPECT_EQ(-EDQUOT, au_call(&s, &q, &p));
	/* user memory untouched: no CREATE write-back, errors[] intact */
	EXPECT_EQ(BUS1_TRANSFER_FLAG_CREATE, p.src_flags[0]);
	EXPECT_EQ(BUS1_INVALID, p.src[0]);
	EXPECT_EQ(AU_CANARY32, p.errors[0]);
	EXPECT_EQ(AU_CANARY32, p.errors[1]);
	EXPECT_EQ(-EAGAIN, au_recv(&s, s.fd, &p));
	ASSERT_EQ(0, au_objects(&o2));
	EXPECT_STREQ(o1.text, o2.text);
	ASSERT_EQ(0, au_acct(d2, sizeof(d2)));
	EXPECT_STREQ(d1, d2);

	ASSERT_EQ(-EDQUOT, au_create(&s, s.fd, r, 1, &p));
	/* the node was staged: its ID is written (and dead); no handle */
	EXPECT_EQ(9, p.src[0]);
	EXPECT_EQ(AU_CANARY64, p.dst[0]);
	EXPECT_EQ(-EBADRQC, au_release(&s, s.fd, 1, (uint64_t[]){ 9 }));
	EXPECT_EQ(-EAGAIN, au_recv(&s, s.fd, &p));
	ASSERT_EQ(0, au_objects(&o2));
	EXPECT_STREQ(o1.text, o2.text);
	ASSERT_EQ(0, au_acct(d2, sizeof(d2)));
	EXPECT_STREQ(d1, d2);

	/* only IDs were burned: 7 and 9 in S, none in R */
	ASSERT_EQ(0, au_create(&s, s.fd, -1, 1, &p));
	EXPECT_EQ(11, p.src[0]);
	EXPECT_EQ(13, p.dst[0]);
	ASSERT_EQ(0, au_create(NULL, r, -1, 1, &p));
	EXPECT_EQ(3, p.src[0]);
	EXPECT_EQ(5, p.dst[0]);

	/* R got exactly the 14 messages */
	EXPECT_EQ(14, au_drain_user(NULL, r, 0, UID_A, MANY));
	EXPECT_EQ(-EAGAIN, au_recv(NULL, r, &p));

	STOP(&s);
	close(r);
	FINISH();
}

/*
 * 135: the quota is per receiving UID and claimant UID. max_objects=1024.
 * R (UID 0) gives handles to S (UID_A) and S2 (UID_B): two nodes of R,
 * user 0 has 1024 - 4 = 1020 left. S floods R: nq = 2, A = 9,
 * floor(1020 / 18) = 56 messages. S's own UID is untouched by that:
 * user UID_A only holds S's handle (claimant UID 0: nq = 1, A = 4, take 2,
 * 1022 left), so S, alone in its UID, still gets floor(1022 / 2) = 511
 * objects of its own: 255 CREATE-to-self elements (the 256th element's
 * handle is the 512th object). S's sends to R still fail. A third UID
 * still gets its share at R: 1020 - 112 = 908 left, nq = 3, A = 12,
 * floor(908 / 24) = 37.
 */
TEST_F(acct, sender_with_plenty_gets_edquot_at_receiver_quota)
{
	uint64_t node1, node2, h1, h2;
	struct au_agent s, s2;
	struct au_rep p;
	int r, rr;
	long n;

	LOAD("max_objects=1024");
	OPEN(r);
	SPAWN(&s, UID_A, &r, 1, false);
	SPAWN(&s2, UID_B, &r, 1, false);
	ASSERT_EQ(0, au_grant(&s, r, &node1, &h1));
	ASSERT_EQ(0, au_grant(&s2, r, &node2, &h2));

	n = au_send_until(&s, s.fd, h1, 0, MANY, &rr);
	EXPECT_EQ(56, n);
	EXPECT_EQ(-EDQUOT, rr);
	TH_LOG("UID %u filled its quota at UID 0 with %ld messages", UID_A, n);

	n = au_create_until(&s, s.fd, MANY, &rr);
	EXPECT_EQ(255, n);
	EXPECT_EQ(-EDQUOT, rr);
	TH_LOG("meanwhile it created %ld elements of its own", n);
	EXPECT_EQ(-EDQUOT, au_send(&s, s.fd, h1, 0));

	n = au_send_until(&s2, s2.fd, h2, 0, MANY, &rr);
	EXPECT_EQ(37, n);
	EXPECT_EQ(-EDQUOT, rr);
	TH_LOG("UID %u then sent %ld messages to UID 0", UID_B, n);
	EXPECT_EQ(-EDQUOT, au_send(&s, s.fd, h1, 0));

	EXPECT_EQ(56, au_drain_user(NULL, r, 0, UID_A, 56));
	EXPECT_EQ(37, au_drain_user(NULL, r, 0, UID_B, MANY));
	EXPECT_EQ(-EAGAIN, au_recv(NULL, r, &p));

	STOP(&s);
	STOP(&s2);
	close(r);
	FINISH();
}

/*
 * 136, receiver close. max_objects=1024. R1 and R2 (both UID 0) each give
 * S (UID_A) a handle: user 0 holds their two nodes (2 + 1 taken, with R2's
 * trace using the reserve R1's left), 1021 left. S floods R1:
 * floor(1021 / 18) = 56; a send to R2 then fails (same user, same quota).
 * R1 closes: its 56 queued messages are discarded and S's quota at user 0
 * empties and goes away (one trace, so exact), R1's node goes too: user 0
 * has 1023 left, and S gets floor(1023 / 18) = 56 messages to R2.
 */
TEST_F(acct, receiver_close_releases_the_charges_of_its_queue)
{
	uint64_t node1, node2, h1, h2;
	struct au_agent s;
	struct au_rep p;
	int fds[2], rr;
	long n;

	LOAD("max_objects=1024");
	OPEN(fds[0]);
	OPEN(fds[1]);
	SPAWN(&s, UID_A, fds, 2, false);
	ASSERT_EQ(0, au_grant(&s, fds[0], &node1, &h1));
	ASSERT_EQ(0, au_grant(&s, fds[1], &node2, &h2));

	n = au_send_until(&s, s.fd, h1, 0, MANY, &rr);
	EXPECT_EQ(56, n);
	EXPECT_EQ(-EDQUOT, rr);
	EXPECT_EQ(-EDQUOT, au_send(&s, s.fd, h2, 0));

	close(fds[0]);
	n = au_send_until(&s, s.fd, h2, 0, MANY, &rr);
	EXPECT_EQ(56, n);
	EXPECT_EQ(-EDQUOT, rr);
	TH_LOG("after the receiver closed, %ld messages fit again", n);

	/* S learns about R1's node; R2 has its 56 */
	ASSERT_EQ(0, au_recv(&s, s.fd, &p));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, p.msg.type);
	EXPECT_EQ(h1, p.meta.id);
	EXPECT_EQ(-EAGAIN, au_recv(&s, s.fd, &p));
	EXPECT_EQ(56, au_drain_user(NULL, fds[1], 0, UID_A, MANY));
	EXPECT_EQ(-EAGAIN, au_recv(NULL, fds[1], &p));

	STOP(&s);
	close(fds[1]);
	FINISH();
}

/*
 * 136, RECV discarding stale messages. max_objects=1024. R (UID 0) gives S
 * (UID_A) handles to two nodes: user 0 has 1020 left; S floods node 1:
 * floor(1020 / 18) = 56. R releases node 1: its 56 messages become stale
 * but stay queued, and charged, until RECV discards them (§6.3, §9.2), so
 * S still gets EDQUOT at node 2. Once R's RECV has discarded them
 * (EAGAIN), user 0 has 1022 left: S gets floor(1022 / 18) = 56 at node 2.
 */
TEST_F(acct, recv_discarding_stale_messages_releases_their_charges)
{
	uint64_t node1, node2, h1, h2;
	struct au_agent s;
	struct au_rep p;
	int r, rr;
	long n;

	LOAD("max_objects=1024");
	OPEN(r);
	SPAWN(&s, UID_A, &r, 1, false);
	ASSERT_EQ(0, au_create(&s, r, s.fd, 2, &p));
	node1 = p.src[0];
	h1 = p.dst[0];
	node2 = p.src[1];
	h2 = p.dst[1];
	ASSERT_EQ(0, au_close(&s, r));

	n = au_send_until(&s, s.fd, h1, 0, MANY, &rr);
	EXPECT_EQ(56, n);
	EXPECT_EQ(-EDQUOT, rr);
	EXPECT_EQ(-EDQUOT, au_send(&s, s.fd, h2, 0));

	ASSERT_EQ(0, au_release(NULL, r, 1, &node1));
	EXPECT_EQ(-EDQUOT, au_send(&s, s.fd, h2, 0));

	EXPECT_EQ(-EAGAIN, au_recv(NULL, r, &p));
	n = au_send_until(&s, s.fd, h2, 0, MANY, &rr);
	EXPECT_EQ(56, n);
	EXPECT_EQ(-EDQUOT, rr);
	TH_LOG("after RECV discarded the stale messages, %ld fit again", n);

	ASSERT_EQ(0, au_recv(NULL, r, &p));
	EXPECT_EQ(node2, p.meta.id);
	EXPECT_EQ(55, au_drain_user(NULL, r, 0, UID_A, MANY));
	ASSERT_EQ(0, au_recv(&s, s.fd, &p));
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, p.msg.type);
	EXPECT_EQ(h1, p.meta.id);
	EXPECT_EQ(-EAGAIN, au_recv(&s, s.fd, &p));

	STOP(&s);
	close(r);
	FINISH();
}

/* SEND through @dst with @n transfers from @tr and no payload. */
static int send_transfers(int fd, uint64_t dst, uint64_t n,
			  struct bus1_transfer *tr)
{
	return t_send(fd, 1, &dst, NULL, 0, n, tr);
}

/*
 * 137: message.n_transfers above max_objects is EDQUOT before any
 * transfer is read or allocated (§5.3 step 9, §10). With an invalid first
 * element, max_objects transfers give EINVAL (the element is read) while
 * max_objects + 1 and 2^62 give EDQUOT; with valid CREATE elements,
 * max_objects + 1 burns no node ID.
 */
TEST_F(acct, n_transfers_above_max_objects_is_edquot)
{
	struct bus1_transfer tr[65];
	struct au_rep p;
	int fd, i;

	LOAD("max_objects=64");
	OPEN(fd);
	ASSERT_EQ(0, au_create(NULL, fd, -1, 1, &p));
	ASSERT_EQ(3, p.dst[0]);

	for (i = 0; i < 65; i++)
		tr[i] = (struct bus1_transfer){ 2, BUS1_INVALID };
	EXPECT_EQ(-EINVAL, send_transfers(fd, 3, 64, tr));
	EXPECT_EQ(-EDQUOT, send_transfers(fd, 3, 65, tr));
	EXPECT_EQ(-EDQUOT, send_transfers(fd, 3, 1ULL << 62, tr));

	for (i = 0; i < 65; i++)
		tr[i] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
						BUS1_INVALID };
	EXPECT_EQ(-EDQUOT, send_transfers(fd, 3, 65, tr));
	EXPECT_EQ(BUS1_INVALID, tr[0].id);
	EXPECT_EQ(-EAGAIN, au_recv(NULL, fd, &p));
	ASSERT_EQ(0, au_create(NULL, fd, -1, 1, &p));
	EXPECT_EQ(5, p.src[0]);
	EXPECT_EQ(7, p.dst[0]);

	close(fd);
	FINISH();
}

/*
 * 138: 1.5 GiB to one destination with the default limits (max_bytes =
 * 1 GiB): EDQUOT at the destination's charge, before the payload buffer is
 * allocated. The iovec is a 1.5 GiB PROT_NONE, MAP_NORESERVE mapping: it
 * is a valid user range (so the iovec import accepts it, as the SEND with
 * no destination shows), but copying from it would fault, and nothing
 * backs it. Also §12.11 item 137 at the default max_objects.
 */
TEST_F(acct, huge_payload_is_edquot_before_any_allocation)
{
	const size_t huge = 3UL << 29;
	struct au_objects o1, o2;
	struct bus1_message msg;
	struct bus1_cmd_send cmd;
	struct bus1_transfer tr;
	struct iovec vec;
	struct au_rep p;
	uint64_t dst = 3;
	int32_t errors[1] = { AU_CANARY32 };
	long long max_objects;
	void *map;
	int fd;

	LOAD("");
	max_objects = au_param("max_objects");
	ASSERT_EQ(1048576, max_objects);
	ASSERT_EQ(1073741824, au_param("max_bytes"));
	OPEN(fd);
	ASSERT_EQ(0, au_create(NULL, fd, -1, 1, &p));
	ASSERT_EQ(dst, p.dst[0]);

	map = mmap(NULL, huge, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	vec = (struct iovec){ map, huge };
	msg = (struct bus1_message){
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_data = huge,
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&vec),
	};
	cmd = (struct bus1_cmd_send){
		.n_destinations = 0,
		.ptr_destinations = BUS1_FROM_PTR(&dst),
		.ptr_errors = BUS1_FROM_PTR(errors),
		.ptr_message = BUS1_FROM_PTR(&msg),
	};
	EXPECT_EQ(0, t_ioctl(fd, BUS1_CMD_SEND, &cmd));

	ASSERT_EQ(0, au_objects(&o1));
	cmd.n_destinations = 1;
	EXPECT_EQ(-EDQUOT, t_ioctl(fd, BUS1_CMD_SEND, &cmd));
	EXPECT_EQ(AU_CANARY32, errors[0]);
	ASSERT_EQ(0, au_objects(&o2));
	EXPECT_STREQ(o1.text, o2.text);
	EXPECT_EQ(-EAGAIN, au_recv(NULL, fd, &p));
	munmap(map, huge);

	tr = (struct bus1_transfer){ 2, BUS1_INVALID };
	EXPECT_EQ(-EDQUOT, send_transfers(fd, dst, max_objects + 1, &tr));
	EXPECT_EQ(-EDQUOT, send_transfers(fd, dst, 1ULL << 62, &tr));
	EXPECT_EQ(-EINVAL, send_transfers(fd, dst, 1, &tr));

	/* still fully usable */
	EXPECT_EQ(0, au_send(NULL, fd, dst, 100));
	ASSERT_EQ(0, au_recv(NULL, fd, &p));
	EXPECT_EQ(100, p.msg.n_data);

	close(fd);
	FINISH();
}

/*
 * 139: the parameters are visible read-only (0444) with the loaded values,
 * and they are the limits in force: a lone peer gets half of max_objects
 * (2048 objects: 1024 CREATE-to-self elements) and a self message of at
 * most half of max_bytes (m1 = 2 * n_data).
 */
TEST_F(acct, module_parameters_are_read_only_and_in_force)
{
	const char *names[] = { "max_objects", "max_bytes" };
	static char big[32769];
	char path[128];
	struct stat st;
	struct au_rep p;
	unsigned int i;
	int fd, r;
	long n;

	LOAD("max_objects=4096 max_bytes=65536");
	EXPECT_EQ(4096, au_param("max_objects"));
	EXPECT_EQ(65536, au_param("max_bytes"));
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), AU_PARAMS "%s", names[i]);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0444, st.st_mode & 07777);
		EXPECT_EQ(-1, open(path, O_WRONLY | O_CLOEXEC));
		EXPECT_EQ(EACCES, errno);
	}
	EXPECT_EQ(4096, au_param("max_objects"));

	OPEN(fd);
	n = au_create_until(NULL, fd, MANY, &r);
	EXPECT_EQ(1024, n);
	EXPECT_EQ(-EDQUOT, r);
	close(fd);

	OPEN(fd);
	ASSERT_EQ(0, au_create(NULL, fd, -1, 1, &p));
	EXPECT_EQ(-EDQUOT, t_send1(fd, 3, big, 32769));
	EXPECT_EQ(0, t_send1(fd, 3, big, 32768));
	close(fd);
	FINISH();

	LOAD("");
	EXPECT_EQ(1048576, au_param("max_objects"));
	EXPECT_EQ(1073741824, au_param("max_bytes"));
	FINISH();
}

/*
 * Issue #3, fair share under a flood. max_objects=4096 = L; all messages
 * are empty, so only objects count.
 *
 * R (UID 0) creates one node for F1 (UID_A) and one for F2 (UID_B): user 0
 * holds 2 for R's trace (quota 0: claimed 4, available 2), 4092 left.
 *
 * 1. F1 floods R until EDQUOT: nq = 2, A = 9, floor(4092 / 18) = 227.
 *    User 0 has 4092 - 454 = 3638 left.
 * 2. R2, another peer of UID 0, creates nodes until EDQUOT. Quota 0 keeps
 *    a reserve of 2 and the user has 3638: 3640 units, R2's node j+1 needs
 *    j + 2 of them with j used: 1820 nodes, 44.4 % of L (§9.5: about
 *    (L - L/9) / 2). The receiver's own UID keeps well over 40 %.
 * 3. R2 closes: one trace gives back its 1820 (equal amounts, so the order
 *    does not matter). The last discharge leaves quota 0 a reserve of
 *    floor(2 / 2) = 1 for R's trace: claimed 3, and user 0 has
 *    4096 - 3 - 454 = 3639.
 * 4. F2 floods R: nq = 3, A = 12, floor(3639 / 24) = 151.
 * 5. R3 (UID 0) creates nodes: 3639 - 302 + 1 = 3338 units, node j+1
 *    needs j + 2: 1669 nodes, still 40.7 % of L with two foreign floods.
 *
 * Then R receives all 378 messages and every peer closes.
 */
TEST_F_TIMEOUT(acct, fair_share_under_a_flood, 120)
{
	uint64_t node1, node2, h1, h2;
	struct au_agent f1, f2;
	char dump[4096];
	struct au_rep p;
	int r, r2, r3, rr;
	long n;

	LOAD("max_objects=4096");
	OPEN(r);
	SPAWN(&f1, UID_A, &r, 1, false);
	SPAWN(&f2, UID_B, &r, 1, false);
	ASSERT_EQ(0, au_grant(&f1, r, &node1, &h1));
	ASSERT_EQ(0, au_grant(&f2, r, &node2, &h2));

	n = au_send_until(&f1, f1.fd, h1, 0, MANY, &rr);
	TH_LOG("L=4096: foreign UID %u flooded the receiver with %ld messages",
	       UID_A, n);
	EXPECT_EQ(227, n);
	EXPECT_EQ(-EDQUOT, rr);

	OPEN(r2);
	n = au_nodes_until(NULL, r2, MANY, &rr);
	TH_LOG("the receiver's own UID still created %ld nodes (%ld.%ld %% of L)",
	       n, n * 100 / 4096, n * 1000 / 4096 % 10);
	EXPECT_LE(4096 * 40 / 100, n);
	EXPECT_EQ(1820, n);
	EXPECT_EQ(-EDQUOT, rr);
	close(r2);

	ASSERT_EQ(0, au_acct(dump, sizeof(dump)));
	EXPECT_EQ(3639, au_acct_available(dump, 0, 0)) TH_LOG("%s", dump);

	n = au_send_until(&f2, f2.fd, h2, 0, MANY, &rr);
	TH_LOG("a second foreign UID %u then sent %ld messages", UID_B, n);
	EXPECT_EQ(151, n);
	EXPECT_EQ(-EDQUOT, rr);

	OPEN(r3);
	n = au_nodes_until(NULL, r3, MANY, &rr);
	TH_LOG("with both floods queued, the own UID created %ld nodes (%ld.%ld %% of L)",
	       n, n * 100 / 4096, n * 1000 / 4096 % 10);
	EXPECT_LE(4096 * 40 / 100, n);
	EXPECT_EQ(1669, n);
	EXPECT_EQ(-EDQUOT, rr);
	close(r3);

	EXPECT_EQ(227, au_drain_user(NULL, r, 0, UID_A, 227));
	EXPECT_EQ(151, au_drain_user(NULL, r, 0, UID_B, MANY));
	EXPECT_EQ(-EAGAIN, au_recv(NULL, r, &p));

	STOP(&f1);
	STOP(&f2);
	close(r);
	FINISH();
}

/*
 * Issue #3 / §9.5: one peer cannot take all of its UID's resources. A lone
 * peer holding k has used 2k of the user (k held, k reserve), so it ends
 * at floor(L / 2): 2047 of L = 4095, 2048 of L = 4096. A second peer of
 * the same UID, while the first holds 2048 of 4096, draws on the reserve
 * of 2048: node j+1 needs j + 2 of it, 1024 nodes = L / 4.
 */
TEST_F_TIMEOUT(acct, lone_peer_gets_at_most_half_of_its_uid, 120)
{
	int fd, fd2, rr;
	long n;

	LOAD("max_objects=4095");
	OPEN(fd);
	n = au_nodes_until(NULL, fd, MANY, &rr);
	TH_LOG("L=4095: a lone peer created %ld nodes", n);
	EXPECT_EQ(2047, n);
	EXPECT_EQ(-EDQUOT, rr);
	close(fd);
	FINISH();

	LOAD("max_objects=4096");
	OPEN(fd);
	n = au_nodes_until(NULL, fd, MANY, &rr);
	TH_LOG("L=4096: a lone peer created %ld nodes", n);
	EXPECT_EQ(2048, n);
	EXPECT_EQ(-EDQUOT, rr);
	OPEN(fd2);
	n = au_nodes_until(NULL, fd2, MANY, &rr);
	TH_LOG("a second peer of the same UID created %ld nodes", n);
	EXPECT_EQ(1024, n);
	EXPECT_EQ(-EDQUOT, rr);
	close(fd);
	close(fd2);
	FINISH();
}

TEST_HARNESS_MAIN
