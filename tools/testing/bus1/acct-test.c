// SPDX-License-Identifier: GPL-2.0
/*
 * User-space unit tests of the bus1 resource accounting engine. The real
 * ipc/bus1/acct.c is compiled into this file, so the tests can look at its
 * internal state (user available, quota claimed/available, trace claimed,
 * which quotas and traces exist) after every step.
 *
 * Output is TAP 13; the exit status is non-zero if any test point fails.
 * Run with --threads-only to run only the concurrency test.
 */
#include "../../../ipc/bus1/acct.c"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ TAP */

static unsigned int tap_points;
static unsigned int tap_failures;
static unsigned long checks_total;
static bool tap_failed;
static char tap_name[256];
static unsigned long tap_warnings;

static void tap_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tap_begin(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tap_name, sizeof(tap_name), fmt, ap);
	va_end(ap);
	tap_failed = false;
	tap_warnings = shim_warnings();
}

static void tap_end(void)
{
	if (shim_warnings() != tap_warnings) {
		printf("# %lu kernel WARN(s) fired\n",
		       shim_warnings() - tap_warnings);
		tap_failed = true;
	}
	++tap_points;
	if (tap_failed)
		++tap_failures;
	printf("%sok %u - %s\n", tap_failed ? "not " : "", tap_points,
	       tap_name);
	fflush(stdout);
}

static bool check(bool ok, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool check(bool ok, int line, const char *fmt, ...)
{
	va_list ap;

	++checks_total;
	if (ok)
		return true;
	tap_failed = true;
	printf("# line %d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return false;
}

#define CHECK(cond) check(!!(cond), __LINE__, "%s", #cond)
#define CHECK_EQ(a, b) ({						\
	unsigned long long __a = (a), __b = (b);			\
	check(__a == __b, __LINE__, "%s == %s: %llu != %llu",		\
	      #a, #b, __a, __b);					\
})

/* --------------------------------------------------------------- helpers */

static const char *errname(int r)
{
	static char buf[32];

	switch (r) {
	case 0:
		return "0";
	case -EDQUOT:
		return "-EDQUOT";
	case -ENOMEM:
		return "-ENOMEM";
	default:
		snprintf(buf, sizeof(buf), "%d", r);
		return buf;
	}
}

#define CHECK_R(r, want) ({						\
	int __r = (r), __w = (want);					\
	check(__r == __w, __LINE__, "%s: got %s, want %s", #r,		\
	      errname(__r), errname(__w));				\
})

static char *dump_str(struct bus1_acct *acct)
{
	struct seq_file m = {};

	bus1_acct_dump(&m, acct);
	if (!m.buf)
		m.buf = strdup("");
	return m.buf;
}

static struct bus1_acct_user *find_user(struct bus1_acct *acct, uid_t uid)
{
	struct rb_node *n;

	for (n = rb_first(&acct->users); n; n = rb_next(n)) {
		struct bus1_acct_user *u = rb_entry(n, struct bus1_acct_user,
						    rb);

		if (__kuid_val(u->uid) == uid)
			return u;
	}
	return NULL;
}

static struct bus1_acct_quota *find_quota(struct bus1_acct_user *user,
					  uid_t uid)
{
	struct rb_node *n;

	for (n = rb_first(&user->quotas); n; n = rb_next(n)) {
		struct bus1_acct_quota *q = rb_entry(n, struct bus1_acct_quota,
						     rb);

		if (__kuid_val(q->uid) == uid)
			return q;
	}
	return NULL;
}

static struct bus1_acct_trace *find_trace(struct bus1_acct_quota *quota,
					  u64 actor_id)
{
	struct rb_node *n;

	for (n = rb_first(&quota->traces); n; n = rb_next(n)) {
		struct bus1_acct_trace *t = rb_entry(n, struct bus1_acct_trace,
						     rb);

		if (t->actor_id == actor_id)
			return t;
	}
	return NULL;
}

static unsigned long count_nodes(struct rb_root *root)
{
	unsigned long n = 0;
	struct rb_node *node;

	for (node = rb_first(root); node; node = rb_next(node))
		++n;
	return n;
}

/*
 * Structural invariants of the whole engine, true after every operation:
 * trees ordered and counted, back pointers right, and per slot
 *   user.available + sum(quota.claimed) == limit
 *   quota.available + sum(trace.claimed) == quota.claimed
 * Every quota has a trace, every trace a charge, every user a reference.
 */
static bool check_invariants(struct bus1_acct *acct, int line)
{
	struct rb_node *un, *qn, *tn;
	bool ok = true;
	bool first_u = true;
	uid_t prev_u = 0;

	for (un = rb_first(&acct->users); un; un = rb_next(un)) {
		struct bus1_acct_user *u = rb_entry(un, struct bus1_acct_user,
						    rb);
		u64 qsum[BUS1_ACCT_N] = {};
		bool first_q = true;
		uid_t prev_q = 0;
		unsigned int s;

		ok &= check(first_u || __kuid_val(u->uid) > prev_u, line,
			    "users out of order");
		first_u = false;
		prev_u = __kuid_val(u->uid);
		ok &= check(u->acct == acct, line, "user root pointer");
		ok &= check(refcount_read(&u->ref) > 0, line, "user ref 0");
		ok &= check(refcount_read(&u->ref) >= u->n_quotas, line,
			    "user %u: ref %u < quotas %llu", prev_u,
			    refcount_read(&u->ref), u->n_quotas);
		ok &= check(count_nodes(&u->quotas) == u->n_quotas, line,
			    "user %u: n_quotas %llu wrong", prev_u,
			    u->n_quotas);

		for (qn = rb_first(&u->quotas); qn; qn = rb_next(qn)) {
			struct bus1_acct_quota *q =
				rb_entry(qn, struct bus1_acct_quota, rb);
			u64 tsum[BUS1_ACCT_N] = {};
			bool first_t = true;
			u64 prev_t = 0;

			ok &= check(first_q || __kuid_val(q->uid) > prev_q,
				    line, "quotas out of order");
			first_q = false;
			prev_q = __kuid_val(q->uid);
			ok &= check(q->user == u, line, "quota user pointer");
			ok &= check(q->n_traces > 0, line,
				    "quota %u of user %u without traces",
				    prev_q, prev_u);
			ok &= check(count_nodes(&q->traces) == q->n_traces,
				    line, "n_traces wrong");

			for (tn = rb_first(&q->traces); tn; tn = rb_next(tn)) {
				struct bus1_acct_trace *t =
					rb_entry(tn, struct bus1_acct_trace,
						 rb);

				ok &= check(first_t || t->actor_id > prev_t,
					    line, "traces out of order");
				first_t = false;
				prev_t = t->actor_id;
				ok &= check(t->quota == q, line,
					    "trace quota pointer");
				ok &= check(t->n_charges > 0, line,
					    "trace %llu without charges",
					    t->actor_id);
				for (s = 0; s < BUS1_ACCT_N; ++s)
					tsum[s] += t->claimed[s];
			}
			for (s = 0; s < BUS1_ACCT_N; ++s) {
				ok &= check(q->available[s] + tsum[s] ==
					    q->claimed[s], line,
					    "user %u quota %u slot %u: %llu + %llu != %llu",
					    prev_u, prev_q, s, q->available[s],
					    tsum[s], q->claimed[s]);
				qsum[s] += q->claimed[s];
			}
		}
		for (s = 0; s < BUS1_ACCT_N; ++s)
			ok &= check(u->available[s] + qsum[s] ==
				    acct->limits[s], line,
				    "user %u slot %u: %llu + %llu != limit %llu",
				    prev_u, s, u->available[s], qsum[s],
				    acct->limits[s]);
	}
	return ok;
}

#define CHECK_INVARIANTS(acct) check_invariants((acct), __LINE__)

/*
 * Everything observable about the engine as one string: the dump, the
 * reference count of every user and the number of live allocations.
 */
static char *snapshot(struct bus1_acct *acct)
{
	struct seq_file m = {};
	struct rb_node *n;
	char *d = dump_str(acct);

	seq_puts(&m, d);
	free(d);
	for (n = rb_first(&acct->users); n; n = rb_next(n)) {
		struct bus1_acct_user *u = rb_entry(n, struct bus1_acct_user,
						    rb);

		seq_printf(&m, "ref %u %u\n", __kuid_val(u->uid),
			   refcount_read(&u->ref));
	}
	seq_printf(&m, "live %ld\n", shim_live_objects());
	return m.buf;
}

#define CHECK_SNAPSHOT(acct, before) ({					\
	char *__now = snapshot(acct);					\
	bool __ok = check(!strcmp(__now, (before)), __LINE__,		\
			  "state changed:\n# before:\n%s# after:\n%s",	\
			  (before), __now);				\
	free(__now);							\
	__ok;								\
})

/* --------------------------------------------------- table fixture (9.6) */

#define NUIDS 4
#define NACTS 2

struct fx {
	struct bus1_acct *acct;
	struct bus1_acct_actor a[NUIDS][NACTS];	/* a[X][Y] = uXaY */
	struct bus1_acct_user *u0;		/* the charged user */
};

struct chg {
	struct bus1_acct_trace *t;
	u64 o, b;
	bool live;
};

static bool fx_init(struct fx *f, u64 lo, u64 lb)
{
	int x, y;

	memset(f, 0, sizeof(*f));
	f->acct = bus1_acct_new(lo, lb);
	if (IS_ERR(f->acct))
		return false;
	for (x = 0; x < NUIDS; ++x)
		for (y = 0; y < NACTS; ++y)
			if (bus1_acct_actor_init(&f->a[x][y], f->acct,
						 KUIDT_INIT(x)))
				return false;
	f->u0 = f->a[0][0].user;
	return true;
}

static void fx_deinit(struct fx *f)
{
	int x, y;

	for (x = 0; x < NUIDS; ++x)
		for (y = 0; y < NACTS; ++y)
			bus1_acct_actor_deinit(&f->a[x][y]);
	CHECK(RB_EMPTY_ROOT(&f->acct->users));
	bus1_acct_free(f->acct);
	f->acct = NULL;
	CHECK_EQ(shim_live_objects(), 0);
}

/* charge {o, b} to user 0 on behalf of uXaY */
static int fx_charge2(struct fx *f, int x, int y, u64 o, u64 b,
		      struct chg *c)
{
	struct bus1_acct_trace *t = (void *)0x1;
	int r;

	r = bus1_acct_charge(f->u0, &f->a[x][y], o, b, &t);
	if (!r) {
		c->t = t;
		c->o = o;
		c->b = b;
		c->live = true;
	} else {
		CHECK(t == (void *)0x1);	/* not written on failure */
	}
	return r;
}

static int fx_charge(struct fx *f, int x, int y, u64 n, struct chg *c)
{
	return fx_charge2(f, x, y, n, n, c);
}

/* charge that must fail, leaving no trace of the attempt */
static int fx_try(struct fx *f, int x, int y, u64 o, u64 b)
{
	struct chg c = {};
	char *before = snapshot(f->acct);
	int r = fx_charge2(f, x, y, o, b, &c);

	if (r) {
		CHECK_SNAPSHOT(f->acct, before);
	} else {
		bus1_acct_discharge(c.t, c.o, c.b);
		check(false, __LINE__, "charge %d/%d {%llu, %llu} succeeded",
		      x, y, o, b);
	}
	free(before);
	return r;
}

static void drop(struct chg *c)
{
	if (c->live) {
		bus1_acct_discharge(c->t, c->o, c->b);
		c->live = false;
	}
}

static void drop_all(struct chg *c, size_t n)
{
	while (n--)
		drop(&c[n]);
}

struct xq {
	uid_t uid;
	u64 claimed, avail;
};

struct xt {
	int x, y;
	u64 claimed;
};

#define XQ(...) ((const struct xq[]){ __VA_ARGS__ }),			\
	ARRAY_SIZE(((const struct xq[]){ __VA_ARGS__ }))
#define XT(...) ((const struct xt[]){ __VA_ARGS__ }),			\
	ARRAY_SIZE(((const struct xt[]){ __VA_ARGS__ }))
#define XNONE NULL, 0

/*
 * Exact state of user 0 in both slots (the table applies every amount to
 * both): U.available, the set of quotas with claimed/available, the set of
 * traces with claimed. Other users must be untouched.
 */
static bool expect_state(struct fx *f, int line, u64 uav,
			 const struct xq *xq, size_t nxq,
			 const struct xt *xt, size_t nxt)
{
	struct bus1_acct_user *u = f->u0;
	unsigned long ntraces = 0;
	struct rb_node *qn;
	bool ok = true;
	unsigned int s;
	size_t i;
	int x;

	ok &= check_invariants(f->acct, line);
	for (s = 0; s < BUS1_ACCT_N; ++s)
		ok &= check(u->available[s] == uav, line,
			    "U.available[%u] = %llu, want %llu", s,
			    u->available[s], uav);
	ok &= check(u->n_quotas == nxq, line, "%llu quotas, want %zu",
		    u->n_quotas, nxq);
	for (i = 0; i < nxq; ++i) {
		struct bus1_acct_quota *q = find_quota(u, xq[i].uid);

		if (!check(q != NULL, line, "Q%u missing", xq[i].uid)) {
			ok = false;
			continue;
		}
		for (s = 0; s < BUS1_ACCT_N; ++s)
			ok &= check(q->claimed[s] == xq[i].claimed &&
				    q->available[s] == xq[i].avail, line,
				    "Q%u[%u] = %llu/%llu, want %llu/%llu",
				    xq[i].uid, s, q->claimed[s],
				    q->available[s], xq[i].claimed,
				    xq[i].avail);
	}
	for (qn = rb_first(&u->quotas); qn; qn = rb_next(qn))
		ntraces += rb_entry(qn, struct bus1_acct_quota, rb)->n_traces;
	ok &= check(ntraces == nxt, line, "%lu traces, want %zu", ntraces,
		    nxt);
	for (i = 0; i < nxt; ++i) {
		struct bus1_acct_quota *q = find_quota(u, xt[i].x);
		struct bus1_acct_trace *t;

		t = q ? find_trace(q, f->a[xt[i].x][xt[i].y].id) : NULL;
		if (!check(t != NULL, line, "trace u%da%d missing", xt[i].x,
			   xt[i].y)) {
			ok = false;
			continue;
		}
		for (s = 0; s < BUS1_ACCT_N; ++s)
			ok &= check(t->claimed[s] == xt[i].claimed, line,
				    "u%da%d[%u] = %llu, want %llu", xt[i].x,
				    xt[i].y, s, t->claimed[s],
				    xt[i].claimed);
	}
	for (x = 1; x < NUIDS; ++x) {
		struct bus1_acct_user *o = f->a[x][0].user;

		ok &= check(RB_EMPTY_ROOT(&o->quotas) &&
			    o->available[0] == f->acct->limits[0] &&
			    o->available[1] == f->acct->limits[1], line,
			    "user %d was charged", x);
	}
	if (!ok) {
		char *d = dump_str(f->acct);

		printf("# state:\n%s", d);
		free(d);
	}
	return ok;
}

#define EXPECT(f, uav, q, t) expect_state((f), __LINE__, (uav), q, t)

/* ------------------------------------------------------------ the tests */

static void test_arith(void)
{
	static const u64 ql[] = { 4, 9, 12, 20, 24, 28, 32, 45 };
	u64 v, n;

	tap_begin("A_ql(1..8) = 4, 9, 12, 20, 24, 28, 32, 45");
	for (n = 1; n <= 8; ++n) {
		CHECK(!bus1_acct_ql(n, &v));
		CHECK_EQ(v, ql[n - 1]);
	}
	tap_end();

	tap_begin("ceil_log2 at the edges");
	CHECK_EQ(bus1_acct_ceil_log2(0), 0);
	CHECK_EQ(bus1_acct_ceil_log2(1), 0);
	CHECK_EQ(bus1_acct_ceil_log2(2), 1);
	CHECK_EQ(bus1_acct_ceil_log2(3), 2);
	CHECK_EQ(bus1_acct_ceil_log2(4), 2);
	CHECK_EQ(bus1_acct_ceil_log2(5), 3);
	CHECK_EQ(bus1_acct_ceil_log2(1ULL << 63), 63);
	CHECK_EQ(bus1_acct_ceil_log2((1ULL << 63) + 1), 64);
	CHECK_EQ(bus1_acct_ceil_log2(U64_MAX), 64);
	tap_end();

	tap_begin("reserve() values of the 9.6 table");
	CHECK(!bus1_acct_reserve(2, 0, 256, &v) && v == 512);
	CHECK(!bus1_acct_reserve(2, 256, 256, &v) && v == 768);
	CHECK(!bus1_acct_reserve(9, 0, 2, &v) && v == 18);
	CHECK(!bus1_acct_reserve(4, 0, 256, &v) && v == 1024);
	CHECK(!bus1_acct_reserve(4, 256, 2, &v) && v == 776);
	CHECK(!bus1_acct_reserve(9, 0, 84, &v) && v == 756);
	CHECK(!bus1_acct_reserve(9, 84, 2, &v) && v == 690);
	CHECK(!bus1_acct_reserve(2, 0, 0, &v) && v == 0);
	tap_end();

	tap_begin("overflow in reserve() and A_ql() denies");
	v = 7;
	CHECK(bus1_acct_reserve(2, 1, U64_MAX, &v));		/* add */
	CHECK(bus1_acct_reserve(2, U64_MAX, 1, &v));		/* add */
	CHECK(bus1_acct_reserve(2, 0, 1ULL << 63, &v));		/* mul */
	CHECK(bus1_acct_reserve(4, 0, 1ULL << 62, &v));		/* mul */
	CHECK(bus1_acct_reserve(45, 1ULL << 58, 1ULL << 58, &v));	/* mul */
	CHECK(bus1_acct_reserve(0, 5, 1, &v));			/* sub */
	CHECK_EQ(v, 7);				/* not written on overflow */
	CHECK(!bus1_acct_reserve(2, 0, (1ULL << 63) - 1, &v) &&
	      v == U64_MAX - 1);
	CHECK(!bus1_acct_reserve(2, 1, (1ULL << 63) - 2, &v) &&
	      v == U64_MAX - 2);
	CHECK(bus1_acct_ql(U64_MAX, &v));
	CHECK(bus1_acct_ql(1ULL << 62, &v));
	CHECK(!bus1_acct_ql((1ULL << 57) - 1, &v) &&
	      v == (1ULL << 57) * 57 + (1ULL << 57));
	tap_end();
}

static void test_table(void)
{
	struct chg c[32] = {};
	struct fx f;

	tap_begin("9.6 setup: root and actors u0..u3 a0..a1");
	CHECK(fx_init(&f, 1024, 1024));
	EXPECT(&f, 1024, XNONE, XNONE);
	tap_end();

	tap_begin("9.6 step 1: u0a0 +256 ok");
	CHECK_R(fx_charge(&f, 0, 0, 256, &c[1]), 0);
	EXPECT(&f, 512, XQ({ 0, 512, 256 }), XT({ 0, 0, 256 }));
	tap_end();

	tap_begin("9.6 step 2: u0a0 +256 ok");
	CHECK_R(fx_charge(&f, 0, 0, 256, &c[2]), 0);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	tap_end();

	tap_begin("9.6 step 3: u0a0 +1 EDQUOT");
	CHECK_R(fx_try(&f, 0, 0, 1, 1), -EDQUOT);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	tap_end();

	tap_begin("9.6 step 4: u1a0 +1 EDQUOT (m2 = 18), no Q1 left");
	CHECK_R(fx_try(&f, 1, 0, 1, 1), -EDQUOT);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	CHECK(!find_quota(f.u0, 1));
	tap_end();

	tap_begin("9.6 step 5: drop step 2");
	drop(&c[2]);
	EXPECT(&f, 512, XQ({ 0, 512, 256 }), XT({ 0, 0, 256 }));
	tap_end();

	tap_begin("9.6 step 6: u0a0 +256 ok");
	CHECK_R(fx_charge(&f, 0, 0, 256, &c[6]), 0);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	tap_end();

	tap_begin("9.6 step 7: drop all");
	drop_all(c, ARRAY_SIZE(c));
	EXPECT(&f, 1024, XNONE, XNONE);
	tap_end();

	tap_begin("9.6 step 8: u0a0 +512 ok");
	CHECK_R(fx_charge(&f, 0, 0, 512, &c[8]), 0);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	tap_end();

	tap_begin("9.6 step 9: u0a0 +1 and u1a0 +1 both EDQUOT");
	CHECK_R(fx_try(&f, 0, 0, 1, 1), -EDQUOT);
	CHECK_R(fx_try(&f, 1, 0, 1, 1), -EDQUOT);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	tap_end();

	tap_begin("9.6 step 10: u0a1 +256 ok from Q0's reserve");
	CHECK_R(fx_charge(&f, 0, 1, 256, &c[10]), 0);
	EXPECT(&f, 0, XQ({ 0, 1024, 256 }),
	       XT({ 0, 0, 512 }, { 0, 1, 256 }));
	tap_end();

	tap_begin("9.6 step 11: u0a0 +1 and u0a1 +1 both EDQUOT");
	CHECK_R(fx_try(&f, 0, 0, 1, 1), -EDQUOT);
	CHECK_R(fx_try(&f, 0, 1, 1, 1), -EDQUOT);
	EXPECT(&f, 0, XQ({ 0, 1024, 256 }),
	       XT({ 0, 0, 512 }, { 0, 1, 256 }));
	tap_end();

	tap_begin("9.6 step 12: drop step 10");
	drop(&c[10]);
	EXPECT(&f, 256, XQ({ 0, 768, 256 }), XT({ 0, 0, 512 }));
	tap_end();

	tap_begin("9.6 step 13: drop all");
	drop_all(c, ARRAY_SIZE(c));
	EXPECT(&f, 1024, XNONE, XNONE);
	tap_end();

	tap_begin("9.6 step 14: u1a0 +128 ok (n=1, A=4, m1=256, m2=1024)");
	CHECK_R(fx_charge(&f, 1, 0, 128, &c[14]), 0);
	EXPECT(&f, 768, XQ({ 1, 256, 128 }), XT({ 1, 0, 128 }));
	tap_end();

	tap_begin("9.6 step 15: u1a0 +1 EDQUOT (m2 = 776 > 768)");
	CHECK_R(fx_try(&f, 1, 0, 1, 1), -EDQUOT);
	EXPECT(&f, 768, XQ({ 1, 256, 128 }), XT({ 1, 0, 128 }));
	tap_end();

	tap_begin("9.6 step 16: u1a1 +64 ok from Q1's reserve");
	CHECK_R(fx_charge(&f, 1, 1, 64, &c[16]), 0);
	EXPECT(&f, 768, XQ({ 1, 256, 64 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }));
	tap_end();

	tap_begin("9.6 step 17: u1a0 +1 and u1a1 +1 both EDQUOT");
	CHECK_R(fx_try(&f, 1, 0, 1, 1), -EDQUOT);
	CHECK_R(fx_try(&f, 1, 1, 1, 1), -EDQUOT);
	EXPECT(&f, 768, XQ({ 1, 256, 64 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }));
	tap_end();

	tap_begin("9.6 step 18: u2a0 +42 ok (n=2, A=9, m2=756)");
	CHECK_R(fx_charge(&f, 2, 0, 42, &c[18]), 0);
	EXPECT(&f, 684, XQ({ 1, 256, 64 }, { 2, 84, 42 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }, { 2, 0, 42 }));
	tap_end();

	tap_begin("9.6 step 19: u2a0 +1 EDQUOT (m2 = 690 > 684)");
	CHECK_R(fx_try(&f, 2, 0, 1, 1), -EDQUOT);
	EXPECT(&f, 684, XQ({ 1, 256, 64 }, { 2, 84, 42 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }, { 2, 0, 42 }));
	tap_end();

	tap_begin("9.6 step 20: u2a1 +21 ok");
	CHECK_R(fx_charge(&f, 2, 1, 21, &c[20]), 0);
	EXPECT(&f, 684, XQ({ 1, 256, 64 }, { 2, 84, 21 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }, { 2, 0, 42 }, { 2, 1, 21 }));
	tap_end();

	tap_begin("9.6 step 21: u2a1 +1 EDQUOT");
	CHECK_R(fx_try(&f, 2, 1, 1, 1), -EDQUOT);
	EXPECT(&f, 684, XQ({ 1, 256, 64 }, { 2, 84, 21 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }, { 2, 0, 42 }, { 2, 1, 21 }));
	tap_end();

	tap_begin("9.6 step 22: drop all");
	drop_all(c, ARRAY_SIZE(c));
	EXPECT(&f, 1024, XNONE, XNONE);
	fx_deinit(&f);
	tap_end();
}

/* 9.6 maxima: the largest amount that passes at each point, and +1 fails */
static void test_table_maxima(void)
{
	struct chg c[8] = {};
	struct fx f;

	tap_begin("9.6 maxima: step 1 alone up to 512, 513 fails");
	CHECK(fx_init(&f, 1024, 1024));
	CHECK_R(fx_try(&f, 0, 0, 513, 513), -EDQUOT);
	CHECK_R(fx_try(&f, 0, 0, 513, 0), -EDQUOT);
	CHECK_R(fx_try(&f, 0, 0, 0, 513), -EDQUOT);
	CHECK_R(fx_try(&f, 0, 0, 512, 513), -EDQUOT);
	EXPECT(&f, 1024, XNONE, XNONE);
	CHECK_R(fx_charge(&f, 0, 0, 512, &c[0]), 0);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	drop(&c[0]);
	EXPECT(&f, 1024, XNONE, XNONE);
	tap_end();

	tap_begin("9.6 maxima: step 14 up to 128, 129 fails");
	CHECK_R(fx_try(&f, 1, 0, 129, 129), -EDQUOT);
	CHECK_R(fx_try(&f, 1, 0, 128, 129), -EDQUOT);
	CHECK_R(fx_try(&f, 1, 0, 129, 128), -EDQUOT);
	EXPECT(&f, 1024, XNONE, XNONE);
	CHECK_R(fx_charge(&f, 1, 0, 128, &c[0]), 0);
	EXPECT(&f, 768, XQ({ 1, 256, 128 }), XT({ 1, 0, 128 }));
	tap_end();

	tap_begin("9.6 maxima: step 16 up to 64, 65 fails");
	CHECK_R(fx_try(&f, 1, 1, 65, 65), -EDQUOT);
	CHECK_R(fx_charge(&f, 1, 1, 64, &c[1]), 0);
	EXPECT(&f, 768, XQ({ 1, 256, 64 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }));
	tap_end();

	tap_begin("9.6 maxima: step 18 up to 42, 43 fails");
	CHECK_R(fx_try(&f, 2, 0, 43, 43), -EDQUOT);
	CHECK(!find_quota(f.u0, 2));
	CHECK_R(fx_charge(&f, 2, 0, 42, &c[2]), 0);
	EXPECT(&f, 684, XQ({ 1, 256, 64 }, { 2, 84, 42 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }, { 2, 0, 42 }));
	tap_end();

	tap_begin("9.6 maxima: step 20 up to 21, 22 fails");
	CHECK_R(fx_try(&f, 2, 1, 22, 22), -EDQUOT);
	CHECK_R(fx_charge(&f, 2, 1, 21, &c[3]), 0);
	EXPECT(&f, 684, XQ({ 1, 256, 64 }, { 2, 84, 21 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }, { 2, 0, 42 }, { 2, 1, 21 }));
	tap_end();

	tap_begin("9.6 maxima: after step 20 UID 3 gets up to 28 (n=3, A=12)");
	CHECK_R(fx_try(&f, 3, 0, 29, 29), -EDQUOT);
	CHECK(!find_quota(f.u0, 3));
	CHECK_R(fx_charge(&f, 3, 0, 28, &c[4]), 0);
	EXPECT(&f, 628, XQ({ 1, 256, 64 }, { 2, 84, 21 }, { 3, 56, 28 }),
	       XT({ 1, 0, 128 }, { 1, 1, 64 }, { 2, 0, 42 }, { 2, 1, 21 },
		  { 3, 0, 28 }));
	drop_all(c, ARRAY_SIZE(c));
	EXPECT(&f, 1024, XNONE, XNONE);
	fx_deinit(&f);
	tap_end();
}

/* charge @n in slot @s only */
static int slot_charge(struct bus1_acct_user *user,
		       struct bus1_acct_actor *claimant, unsigned int s,
		       u64 n, struct chg *c)
{
	u64 o = s == BUS1_ACCT_OBJECTS ? n : 0;
	u64 b = s == BUS1_ACCT_BYTES ? n : 0;
	int r;

	r = bus1_acct_charge(user, claimant, o, b, &c->t);
	if (!r) {
		c->o = o;
		c->b = b;
		c->live = true;
	}
	return r;
}

/* how many charges of 1 succeed in a row (and then undo them) */
static u64 count_unit_charges(struct bus1_acct_user *user,
			      struct bus1_acct_actor *claimant,
			      unsigned int s, u64 cap)
{
	struct chg *c = calloc(cap + 1, sizeof(*c));
	u64 n = 0;

	while (n <= cap && !slot_charge(user, claimant, s, 1, &c[n]))
		++n;
	drop_all(c, n);
	free(c);
	return n;
}

/* the lone-peer / second-peer / foreign-peer limits of 9.5 */
static void test_consequences(void)
{
	static const u64 limits[] = { 1024, 1000, 1001, 18432, 7, 4096 };
	struct bus1_acct_actor p0, p1, q[8];
	struct bus1_acct *acct;
	struct chg c[10] = {}, big = {}, other[8] = {};
	unsigned int s, i, k;
	u64 l, a_ql;

	for (i = 0; i < ARRAY_SIZE(limits); ++i) {
		l = limits[i];
		tap_begin("9.5 lone self peer holds at most floor(L/2), L = %llu",
			  l);
		acct = bus1_acct_new(l, l);
		CHECK(!IS_ERR(acct));
		CHECK(!bus1_acct_actor_init(&p0, acct, KUIDT_INIT(5)));
		for (s = 0; s < BUS1_ACCT_N; ++s) {
			CHECK_R(slot_charge(p0.user, &p0, s, l / 2 + 1, &c[0]),
				-EDQUOT);
			CHECK_R(slot_charge(p0.user, &p0, s, l / 2, &c[0]), 0);
			CHECK_R(slot_charge(p0.user, &p0, s, 1, &c[1]),
				-EDQUOT);
			drop(&c[0]);
			CHECK_EQ(count_unit_charges(p0.user, &p0, s, l), l / 2);
			CHECK_EQ(p0.user->available[s], l);
			CHECK(RB_EMPTY_ROOT(&p0.user->quotas));
		}
		CHECK_INVARIANTS(acct);
		bus1_acct_actor_deinit(&p0);
		bus1_acct_free(acct);
		CHECK_EQ(shim_live_objects(), 0);
		tap_end();
	}

	for (i = 0; i < ARRAY_SIZE(limits); ++i) {
		l = limits[i];
		if (l % 4)
			continue;
		tap_begin("9.5 second self peer gets L/4 while the first holds L/2, L = %llu",
			  l);
		acct = bus1_acct_new(l, l);
		CHECK(!IS_ERR(acct));
		CHECK(!bus1_acct_actor_init(&p0, acct, KUIDT_INIT(5)));
		CHECK(!bus1_acct_actor_init(&p1, acct, KUIDT_INIT(5)));
		for (s = 0; s < BUS1_ACCT_N; ++s) {
			CHECK_R(slot_charge(p0.user, &p0, s, l / 2, &big), 0);
			CHECK_R(slot_charge(p0.user, &p1, s, l / 4 + 1, &c[0]),
				-EDQUOT);
			CHECK_R(slot_charge(p0.user, &p1, s, l / 4, &c[0]), 0);
			CHECK_R(slot_charge(p0.user, &p1, s, 1, &c[1]),
				-EDQUOT);
			drop(&c[0]);
			CHECK_EQ(count_unit_charges(p0.user, &p1, s, l), l / 4);
			drop(&big);
			CHECK_EQ(p0.user->available[s], l);
		}
		bus1_acct_actor_deinit(&p1);
		bus1_acct_actor_deinit(&p0);
		bus1_acct_free(acct);
		CHECK_EQ(shim_live_objects(), 0);
		tap_end();
	}

	for (i = 0; i < ARRAY_SIZE(limits); ++i) {
		l = limits[i];
		for (k = 1; k <= 8; ++k) {
			struct bus1_acct_user *u;
			unsigned int j;
			u64 max;

			CHECK(!bus1_acct_ql(k, &a_ql));
			max = l / (2 * a_ql);
			tap_begin("9.5 lone foreign peer, k = %u quotas: floor(L / (2 * %llu)) = %llu, L = %llu",
				  k, a_ql, max, l);
			for (s = 0; s < BUS1_ACCT_N; ++s) {
				/* the other slot has room for the other quotas */
				acct = bus1_acct_new(s ? 1ULL << 20 : l,
						     s ? l : 1ULL << 20);
				CHECK(!IS_ERR(acct));
				/* p0 owns the charged user, p1 is foreign */
				CHECK(!bus1_acct_actor_init(&p0, acct,
							    KUIDT_INIT(100)));
				CHECK(!bus1_acct_actor_init(&p1, acct,
							    KUIDT_INIT(200)));
				u = p0.user;
				/*
				 * k - 1 other quotas (the user's own UID
				 * first) hold charges in the other slot only.
				 */
				for (j = 0; j + 1 < k; ++j) {
					CHECK(!bus1_acct_actor_init(&q[j], acct,
								    KUIDT_INIT(100 + j)));
					CHECK_R(slot_charge(u, &q[j], !s, 1,
							    &other[j]), 0);
				}
				CHECK_R(slot_charge(u, &p1, s, max + 1, &c[0]),
					-EDQUOT);
				CHECK_EQ(u->n_quotas, k - 1);
				if (max) {
					CHECK_R(slot_charge(u, &p1, s, max,
							    &c[0]), 0);
					CHECK_EQ(u->n_quotas, k);
					CHECK_R(slot_charge(u, &p1, s, 1,
							    &c[1]), -EDQUOT);
					CHECK_INVARIANTS(acct);
					drop(&c[0]);
				}
				CHECK_EQ(count_unit_charges(u, &p1, s, l), max);
				CHECK_EQ(u->n_quotas, k - 1);
				drop_all(other, k - 1);
				CHECK_EQ(u->available[s], l);
				CHECK(RB_EMPTY_ROOT(&u->quotas));
				for (j = 0; j + 1 < k; ++j)
					bus1_acct_actor_deinit(&q[j]);
				bus1_acct_actor_deinit(&p1);
				bus1_acct_actor_deinit(&p0);
				CHECK(RB_EMPTY_ROOT(&acct->users));
				bus1_acct_free(acct);
			}
			CHECK_EQ(shim_live_objects(), 0);
			tap_end();
		}
	}
}

/* 9.7 at engine level, with the charges the commands make */
static void test_bus_patterns(void)
{
	struct bus1_acct_actor p, p2, r, snd;
	struct bus1_acct *acct;
	struct chg c[80] = {}, c2[40] = {}, node = {}, msg[4] = {};
	unsigned int n, m;

	tap_begin("9.7 self objects (max_objects=64): 16 elements of 2 objects, the 17th fails");
	acct = bus1_acct_new(64, 1ULL << 30);
	CHECK(!IS_ERR(acct));
	CHECK(!bus1_acct_actor_init(&p, acct, KUIDT_INIT(1000)));
	CHECK(!bus1_acct_actor_init(&p2, acct, KUIDT_INIT(1000)));
	/* one call with 17 elements: 33rd object fails, all rolled back */
	for (n = 0; n < 34 && !slot_charge(p.user, &p, 0, 1, &c[n]); ++n)
		;
	CHECK_EQ(n, 32);
	drop_all(c, n);
	CHECK(RB_EMPTY_ROOT(&p.user->quotas));
	CHECK_EQ(p.user->available[0], 64);
	/* then 16 elements succeed */
	for (n = 0; n < 34 && !slot_charge(p.user, &p, 0, 1, &c[n]); ++n)
		;
	CHECK_EQ(n, 32);
	/* release one node and one handle: exactly one more element */
	drop(&c[31]);
	drop(&c[30]);
	CHECK_R(slot_charge(p.user, &p, 0, 1, &c[30]), 0);
	CHECK_R(slot_charge(p.user, &p, 0, 1, &c[31]), 0);
	CHECK_R(slot_charge(p.user, &p, 0, 1, &c[32]), -EDQUOT);
	tap_end();

	tap_begin("9.7 self objects: a second peer of the same UID gets 8 elements");
	for (m = 0; m < 40 && !slot_charge(p.user, &p2, 0, 1, &c2[m]); ++m)
		;
	CHECK_EQ(m, 16);
	CHECK_INVARIANTS(acct);
	drop_all(c2, m);
	drop_all(c, 32);
	CHECK(RB_EMPTY_ROOT(&p.user->quotas));
	CHECK_EQ(p.user->available[0], 64);
	bus1_acct_actor_deinit(&p2);
	bus1_acct_actor_deinit(&p);
	bus1_acct_free(acct);
	CHECK_EQ(shim_live_objects(), 0);
	tap_end();

	tap_begin("9.7 cross-UID bytes (max_bytes=18432): 1024 ok, 1 byte fails, 0 bytes ok");
	acct = bus1_acct_new(1ULL << 20, 18432);
	CHECK(!IS_ERR(acct));
	CHECK(!bus1_acct_actor_init(&r, acct, KUIDT_INIT(1)));
	CHECK(!bus1_acct_actor_init(&snd, acct, KUIDT_INIT(2)));
	/* R's node, self */
	CHECK_R(bus1_acct_charge(r.user, &r, 1, 0, &node.t), 0);
	node.o = 1;
	node.live = true;
	/* the first message of 1025 bytes fails */
	CHECK_R(bus1_acct_charge(r.user, &snd, 1, 1025, &msg[0].t), -EDQUOT);
	CHECK_R(bus1_acct_charge(r.user, &snd, 1, 1024, &msg[0].t), 0);
	msg[0].o = 1;
	msg[0].b = 1024;
	msg[0].live = true;
	CHECK_R(bus1_acct_charge(r.user, &snd, 1, 1, &msg[1].t), -EDQUOT);
	CHECK_R(bus1_acct_charge(r.user, &snd, 1, 0, &msg[1].t), 0);
	msg[1].o = 1;
	msg[1].live = true;
	tap_end();

	tap_begin("9.7 cross-UID bytes: capacity restored after the message is received");
	drop(&msg[0]);
	CHECK_R(bus1_acct_charge(r.user, &snd, 1, 1024, &msg[0].t), 0);
	msg[0].o = 1;
	msg[0].b = 1024;
	msg[0].live = true;
	CHECK_R(bus1_acct_charge(r.user, &snd, 1, 1, &msg[2].t), -EDQUOT);
	drop_all(msg, ARRAY_SIZE(msg));
	drop(&node);
	tap_end();

	tap_begin("9.7 cross-UID bytes: without R's node (k = 1) the limit is L/8");
	CHECK_R(bus1_acct_charge(r.user, &snd, 1, 18432 / 8 + 1, &msg[0].t),
		-EDQUOT);
	CHECK_R(bus1_acct_charge(r.user, &snd, 1, 18432 / 8, &msg[0].t), 0);
	msg[0].o = 1;
	msg[0].b = 18432 / 8;
	msg[0].live = true;
	drop(&msg[0]);
	CHECK(RB_EMPTY_ROOT(&r.user->quotas));
	bus1_acct_actor_deinit(&snd);
	bus1_acct_actor_deinit(&r);
	bus1_acct_free(acct);
	CHECK_EQ(shim_live_objects(), 0);
	tap_end();
}

/* overflow anywhere in the check denies, where wrapping would have passed */
static void test_overflow(void)
{
	struct fx f;
	struct chg c[4] = {};

	tap_begin("overflow: self charge of 2^63 with limit 2^64-1 denies (m1 wraps to 0)");
	CHECK(fx_init(&f, U64_MAX, U64_MAX));
	CHECK_R(fx_try(&f, 0, 0, 1ULL << 63, 0), -EDQUOT);
	CHECK_R(fx_try(&f, 0, 0, 0, 1ULL << 63), -EDQUOT);
	CHECK_R(fx_try(&f, 0, 0, U64_MAX, U64_MAX), -EDQUOT);
	CHECK(RB_EMPTY_ROOT(&f.u0->quotas));
	tap_end();

	tap_begin("overflow: self 2^63-1 passes, then +1 overflows amount + share");
	CHECK_R(fx_charge(&f, 0, 0, (1ULL << 63) - 1, &c[0]), 0);
	EXPECT(&f, 1, XQ({ 0, U64_MAX - 1, (1ULL << 63) - 1 }),
	       XT({ 0, 0, (1ULL << 63) - 1 }));
	CHECK_R(fx_try(&f, 0, 0, 1, 1), -EDQUOT);
	CHECK_R(fx_try(&f, 0, 0, U64_MAX, 0), -EDQUOT);
	/* a second self peer: 2 * a <= Q.available + U.available */
	CHECK_R(fx_try(&f, 0, 1, (1ULL << 62) + 1, 1), -EDQUOT);
	CHECK_R(fx_charge2(&f, 0, 1, 1ULL << 62, 1ULL << 62, &c[1]), 0);
	drop_all(c, ARRAY_SIZE(c));
	EXPECT(&f, U64_MAX, XNONE, XNONE);
	tap_end();

	tap_begin("overflow: foreign charge whose m2 wraps denies");
	/* A_ql(1) = 4: m2 = 2^63 * 4 wraps to 0 */
	CHECK_R(fx_try(&f, 1, 0, 1ULL << 62, 1ULL << 62), -EDQUOT);
	/* m2 = 2^62 * 4 = 2^64 */
	CHECK_R(fx_try(&f, 1, 0, 1ULL << 61, 1ULL << 61), -EDQUOT);
	CHECK(!find_quota(f.u0, 1));
	CHECK_R(fx_charge(&f, 1, 0, (1ULL << 61) - 1, &c[0]), 0);
	EXPECT(&f, U64_MAX - ((1ULL << 62) - 2),
	       XQ({ 1, (1ULL << 62) - 2, (1ULL << 61) - 1 }),
	       XT({ 1, 0, (1ULL << 61) - 1 }));
	/* A_ql(2) = 9 with a second foreign quota */
	CHECK_R(fx_try(&f, 2, 0, 1ULL << 60, 1ULL << 60), -EDQUOT);
	drop_all(c, ARRAY_SIZE(c));
	EXPECT(&f, U64_MAX, XNONE, XNONE);
	fx_deinit(&f);
	tap_end();
}

static void test_zero(void)
{
	struct chg c[8] = {};
	struct fx f;

	tap_begin("zero amounts: {0, 0} on an exhausted user returns a valid token");
	CHECK(fx_init(&f, 1024, 1024));
	CHECK_R(fx_charge(&f, 0, 0, 512, &c[0]), 0);
	CHECK_R(fx_charge(&f, 0, 0, 0, &c[1]), 0);
	CHECK(c[1].t != NULL);
	CHECK(c[1].t == c[0].t);
	CHECK_EQ(c[0].t->n_charges, 2);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	/* a new claimant: quota and trace exist while the charge does */
	CHECK_R(fx_charge(&f, 1, 0, 0, &c[2]), 0);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }, { 1, 0, 0 }),
	       XT({ 0, 0, 512 }, { 1, 0, 0 }));
	drop(&c[2]);
	EXPECT(&f, 0, XQ({ 0, 1024, 512 }), XT({ 0, 0, 512 }));
	/* the trace holds nothing now: its quota keeps no reserve */
	drop(&c[0]);
	EXPECT(&f, 1024, XQ({ 0, 0, 0 }), XT({ 0, 0, 0 }));
	drop(&c[1]);
	EXPECT(&f, 1024, XNONE, XNONE);
	tap_end();

	tap_begin("zero amounts: a slot with amount 0 is skipped entirely");
	CHECK_R(fx_charge2(&f, 0, 0, 512, 0, &c[0]), 0);
	CHECK_EQ(f.u0->available[0], 0);
	CHECK_EQ(f.u0->available[1], 1024);
	/* OBJECTS is exhausted, a BYTES-only charge still passes */
	CHECK_R(fx_try(&f, 0, 0, 1, 1), -EDQUOT);
	CHECK_R(fx_charge2(&f, 0, 0, 0, 512, &c[1]), 0);
	CHECK_EQ(f.u0->available[1], 0);
	/* foreign with an exhausted slot: m2 in OBJECTS is never computed */
	CHECK_R(fx_try(&f, 1, 0, 0, 1), -EDQUOT);
	drop_all(c, ARRAY_SIZE(c));
	EXPECT(&f, 1024, XNONE, XNONE);
	tap_end();

	tap_begin("zero amounts: a zero charge of a new claimant counts in nq");
	/* Q1 empty but present: a claimant of UID 2 sees A_ql(2) = 9 */
	CHECK_R(fx_charge(&f, 1, 0, 0, &c[0]), 0);
	CHECK_R(fx_try(&f, 2, 0, 1024 / 18 + 1, 0), -EDQUOT);
	CHECK_R(fx_charge2(&f, 2, 0, 1024 / 18, 0, &c[1]), 0);
	drop_all(c, ARRAY_SIZE(c));
	EXPECT(&f, 1024, XNONE, XNONE);
	tap_end();

	tap_begin("discharge(NULL) does nothing");
	{
		char *before = snapshot(f.acct);
		unsigned long calls = shim_alloc_calls();

		bus1_acct_discharge(NULL, 1, 1);
		bus1_acct_discharge(NULL, 0, 0);
		CHECK_SNAPSHOT(f.acct, before);
		CHECK_EQ(shim_alloc_calls(), calls);
		free(before);
	}
	fx_deinit(&f);
	tap_end();
}

static void test_lifetime(void)
{
	struct bus1_acct_actor a, b, a2, b2;
	struct bus1_acct_user *ua, *ub;
	struct bus1_acct *acct;
	struct chg c[4] = {};
	char *d;

	tap_begin("lifetime: actors of one UID share a user, IDs are unique and never reused");
	acct = bus1_acct_new(100, 100);
	CHECK(!IS_ERR(acct));
	CHECK_EQ(shim_live_objects(), 1);
	CHECK(!bus1_acct_actor_init(&a, acct, KUIDT_INIT(7)));
	CHECK(!bus1_acct_actor_init(&a2, acct, KUIDT_INIT(7)));
	CHECK(!bus1_acct_actor_init(&b, acct, KUIDT_INIT(8)));
	CHECK(a.user == a2.user);
	CHECK(a.user != b.user);
	CHECK_EQ(a.id, 1);
	CHECK_EQ(a2.id, 2);
	CHECK_EQ(b.id, 3);
	CHECK_EQ(refcount_read(&a.user->ref), 2);
	CHECK_EQ(shim_live_objects(), 3);
	bus1_acct_actor_deinit(&a2);
	CHECK(a2.user == NULL);
	bus1_acct_actor_deinit(&a2);	/* twice is harmless */
	CHECK(!bus1_acct_actor_init(&a2, acct, KUIDT_INIT(7)));
	CHECK_EQ(a2.id, 4);
	CHECK(a2.user == a.user);
	tap_end();

	tap_begin("lifetime: a charge outlives its claimant and the claimant's user");
	ua = a.user;
	CHECK_R(bus1_acct_charge(ua, &b, 2, 10, &c[0].t), 0);
	c[0].o = 2;
	c[0].b = 10;
	c[0].live = true;
	bus1_acct_actor_deinit(&b);
	/* user 8 had only b: gone; the charge on user 7 stays */
	CHECK(find_user(acct, 8) == NULL);
	CHECK(find_quota(ua, 8) != NULL);
	CHECK(find_trace(find_quota(ua, 8), 3) == c[0].t);
	/* a new actor of UID 8 is a new trace in the same quota */
	CHECK(!bus1_acct_actor_init(&b2, acct, KUIDT_INIT(8)));
	CHECK_EQ(b2.id, 5);
	CHECK_R(bus1_acct_charge(ua, &b2, 1, 1, &c[1].t), 0);
	c[1].o = 1;
	c[1].b = 1;
	c[1].live = true;
	CHECK_EQ(find_quota(ua, 8)->n_traces, 2);
	CHECK(c[1].t != c[0].t);
	CHECK_INVARIANTS(acct);
	tap_end();

	tap_begin("lifetime: the charged user outlives all its peers while charged");
	ub = b2.user;
	CHECK_R(bus1_acct_charge(ub, &a, 1, 0, &c[2].t), 0);
	c[2].o = 1;
	c[2].live = true;
	bus1_acct_actor_deinit(&a);
	bus1_acct_actor_deinit(&a2);
	bus1_acct_actor_deinit(&b2);
	/* user 7 is held by the quota of UID 8 on it, user 8 likewise */
	CHECK(find_user(acct, 7) == ua);
	CHECK(find_user(acct, 8) == ub);
	CHECK_EQ(refcount_read(&ua->ref), 1);
	CHECK_EQ(refcount_read(&ub->ref), 1);
	d = dump_str(acct);
	CHECK(strstr(d, "user 7 available ") != NULL);
	CHECK(strstr(d, "user 8 available ") != NULL);
	free(d);
	/* a new peer of UID 7 finds the same user, with its charges */
	CHECK(!bus1_acct_actor_init(&a, acct, KUIDT_INIT(7)));
	CHECK(a.user == ua);
	CHECK_EQ(a.id, 6);
	bus1_acct_actor_deinit(&a);
	drop(&c[0]);
	CHECK(find_user(acct, 7) == ua);
	drop(&c[1]);
	CHECK(find_user(acct, 7) == NULL);
	drop(&c[2]);
	CHECK(RB_EMPTY_ROOT(&acct->users));
	CHECK_EQ(shim_live_objects(), 1);
	d = dump_str(acct);
	CHECK_EQ(strlen(d), 0);
	free(d);
	bus1_acct_free(acct);
	bus1_acct_free(NULL);
	CHECK_EQ(shim_live_objects(), 0);
	tap_end();
}

static void test_dump(void)
{
	static const char want[] =
		"user 0 available 1016 824\n"
		"  quota 0 claimed 6 200 available 3 100\n"
		"    trace 1 claimed 3 100\n"
		"  quota 1 claimed 2 0 available 1 0\n"
		"    trace 3 claimed 1 0\n"
		"user 1 available 1024 1024\n"
		"user 4294967294 available 1024 1024\n";
	struct bus1_acct_actor a[4];
	struct bus1_acct *acct;
	struct chg c[2] = {};
	char *d;

	tap_begin("dump lists users, quotas and traces in order with both slots");
	acct = bus1_acct_new(1024, 1024);
	CHECK(!IS_ERR(acct));
	CHECK(!bus1_acct_actor_init(&a[0], acct, KUIDT_INIT(0)));
	CHECK(!bus1_acct_actor_init(&a[1], acct, KUIDT_INIT(0)));
	CHECK(!bus1_acct_actor_init(&a[2], acct, KUIDT_INIT(1)));
	CHECK(!bus1_acct_actor_init(&a[3], acct, KUIDT_INIT(4294967294u)));
	CHECK_R(bus1_acct_charge(a[0].user, &a[0], 3, 100, &c[0].t), 0);
	c[0].o = 3;
	c[0].b = 100;
	c[0].live = true;
	CHECK_R(bus1_acct_charge(a[0].user, &a[2], 1, 0, &c[1].t), 0);
	c[1].o = 1;
	c[1].live = true;
	d = dump_str(acct);
	check(!strcmp(d, want), __LINE__, "dump:\n%s# want:\n%s", d, want);
	free(d);
	drop_all(c, 2);
	bus1_acct_actor_deinit(&a[0]);
	bus1_acct_actor_deinit(&a[1]);
	bus1_acct_actor_deinit(&a[2]);
	bus1_acct_actor_deinit(&a[3]);
	d = dump_str(acct);
	CHECK_EQ(strlen(d), 0);
	free(d);
	bus1_acct_free(acct);
	CHECK_EQ(shim_live_objects(), 0);
	tap_end();
}

/* run @op with the n-th allocation failing, for every n that is reached */
static void test_alloc_failures(void)
{
	struct bus1_acct_actor a, a2, b, b2;
	struct bus1_acct *acct;
	struct chg c[8] = {};
	unsigned long calls;
	char *before;
	int r;

	tap_begin("ENOMEM: bus1_acct_new() leaves nothing");
	shim_fail_nth(1);
	acct = bus1_acct_new(1024, 1024);
	CHECK(IS_ERR(acct) && PTR_ERR(acct) == -ENOMEM);
	CHECK(!shim_fail_pending());
	CHECK_EQ(shim_live_objects(), 0);
	acct = bus1_acct_new(1024, 1024);
	CHECK(!IS_ERR(acct));
	tap_end();

	tap_begin("ENOMEM: actor_init of a new UID leaves no user, deinit is harmless");
	before = snapshot(acct);
	shim_fail_nth(1);
	a.user = (void *)0x1;
	CHECK_R(bus1_acct_actor_init(&a, acct, KUIDT_INIT(10)), -ENOMEM);
	CHECK(a.user == NULL);
	CHECK(!shim_fail_pending());
	bus1_acct_actor_deinit(&a);
	CHECK_SNAPSHOT(acct, before);
	free(before);
	CHECK_R(bus1_acct_actor_init(&a, acct, KUIDT_INIT(10)), 0);
	/* a failed init burns no actor ID either way; IDs stay unique */
	CHECK_EQ(a.id, 1);
	tap_end();

	tap_begin("ENOMEM: actor_init of a known UID does not allocate");
	shim_fail_nth(1);
	calls = shim_alloc_calls();
	CHECK_R(bus1_acct_actor_init(&a2, acct, KUIDT_INIT(10)), 0);
	CHECK_EQ(shim_alloc_calls(), calls);
	CHECK(shim_fail_pending());
	shim_fail_nth(0);
	CHECK(a2.user == a.user);
	CHECK(!bus1_acct_actor_init(&b, acct, KUIDT_INIT(11)));
	CHECK(!bus1_acct_actor_init(&b2, acct, KUIDT_INIT(11)));
	tap_end();

	tap_begin("ENOMEM: charge failing the new quota leaves no state");
	before = snapshot(acct);
	shim_fail_nth(1);
	r = bus1_acct_charge(a.user, &b, 1, 1, &c[0].t);
	CHECK_R(r, -ENOMEM);
	CHECK(!shim_fail_pending());
	CHECK_SNAPSHOT(acct, before);
	free(before);
	tap_end();

	tap_begin("ENOMEM: charge failing the trace of a new quota removes the quota");
	before = snapshot(acct);
	shim_fail_nth(2);
	calls = shim_alloc_calls();
	CHECK_R(bus1_acct_charge(a.user, &b, 1, 1, &c[0].t), -ENOMEM);
	CHECK_EQ(shim_alloc_calls() - calls, 2);
	CHECK(!shim_fail_pending());
	CHECK_SNAPSHOT(acct, before);
	CHECK(RB_EMPTY_ROOT(&a.user->quotas));
	free(before);
	tap_end();

	tap_begin("ENOMEM: charge failing a new trace in an existing quota keeps the quota as it was");
	CHECK_R(bus1_acct_charge(a.user, &b, 1, 1, &c[0].t), 0);
	c[0].o = c[0].b = 1;
	c[0].live = true;
	before = snapshot(acct);
	shim_fail_nth(1);
	CHECK_R(bus1_acct_charge(a.user, &b2, 1, 1, &c[1].t), -ENOMEM);
	CHECK(!shim_fail_pending());
	CHECK_SNAPSHOT(acct, before);
	CHECK_EQ(find_quota(a.user, 11)->n_traces, 1);
	free(before);
	tap_end();

	tap_begin("no allocation on the fast path: existing quota and trace");
	shim_fail_nth(1);
	calls = shim_alloc_calls();
	CHECK_R(bus1_acct_charge(a.user, &b, 1, 1, &c[1].t), 0);
	c[1].o = c[1].b = 1;
	c[1].live = true;
	CHECK_EQ(shim_alloc_calls(), calls);
	CHECK(shim_fail_pending());
	CHECK(c[1].t == c[0].t);
	/* a failing allocation does not stop an EDQUOT decision either */
	CHECK_R(bus1_acct_charge(a.user, &b, 1000, 1, &c[2].t), -EDQUOT);
	CHECK(shim_fail_pending());
	shim_fail_nth(0);
	tap_end();

	tap_begin("discharge never allocates");
	calls = shim_alloc_calls();
	shim_fail_nth(1);
	drop_all(c, ARRAY_SIZE(c));
	CHECK_EQ(shim_alloc_calls(), calls);
	shim_fail_nth(0);
	CHECK(RB_EMPTY_ROOT(&a.user->quotas));
	CHECK_INVARIANTS(acct);
	bus1_acct_actor_deinit(&a);
	bus1_acct_actor_deinit(&a2);
	bus1_acct_actor_deinit(&b);
	bus1_acct_actor_deinit(&b2);
	bus1_acct_free(acct);
	CHECK_EQ(shim_live_objects(), 0);
	tap_end();
}

/*
 * A scripted sequence run with the n-th allocation of every step failing,
 * for every n that the step reaches: each failure is -ENOMEM (or an error
 * pointer) and leaves the observable state exactly as it was.
 */
enum { SW_INIT, SW_CHARGE, SW_DROP };

struct sweep_step {
	int op;
	int actor;	/* SW_INIT: actor to init; SW_CHARGE: claimant */
	uid_t uid;	/* SW_INIT */
	int user;	/* SW_CHARGE: actor whose user is charged */
	u64 o, b;
	int chg;
};

static void test_fail_sweep(void)
{
	static const struct sweep_step steps[] = {
		{ SW_INIT, 0, 20, 0, 0, 0, 0 },
		{ SW_INIT, 1, 20, 0, 0, 0, 0 },
		{ SW_INIT, 2, 21, 0, 0, 0, 0 },
		{ SW_CHARGE, 0, 0, 0, 1, 0, 0 },	/* new Q, new T */
		{ SW_CHARGE, 1, 0, 0, 1, 64, 1 },	/* new T */
		{ SW_CHARGE, 0, 0, 0, 1, 1, 2 },	/* fast path */
		{ SW_CHARGE, 2, 0, 0, 2, 8, 3 },	/* foreign */
		{ SW_CHARGE, 0, 0, 2, 1, 0, 4 },	/* other user */
		{ SW_DROP, 0, 0, 0, 0, 0, 1 },
		{ SW_CHARGE, 2, 0, 0, 0, 0, 5 },	/* zero */
		{ SW_INIT, 3, 22, 0, 0, 0, 0 },
		{ SW_CHARGE, 3, 0, 2, 1, 1, 6 },
	};
	struct bus1_acct_actor act[4] = {};
	struct chg c[8] = {};
	struct bus1_acct *acct = NULL;
	unsigned int i, n, failures = 0;

	tap_begin("ENOMEM sweep: every allocation of a scripted sequence fails once, without effect");
	shim_fail_nth(1);
	acct = bus1_acct_new(4096, 4096);
	CHECK(IS_ERR(acct) && PTR_ERR(acct) == -ENOMEM);
	CHECK(!shim_fail_pending());
	++failures;
	acct = bus1_acct_new(4096, 4096);

	for (i = 0; i < ARRAY_SIZE(steps); ++i) {
		const struct sweep_step *st = &steps[i];

		for (n = 1;; ++n) {
			char *before = snapshot(acct);
			int r = 0;

			shim_fail_nth(n);
			switch (st->op) {
			case SW_INIT:
				r = bus1_acct_actor_init(&act[st->actor], acct,
							 KUIDT_INIT(st->uid));
				break;
			case SW_CHARGE:
				r = bus1_acct_charge(act[st->user].user,
						     &act[st->actor], st->o,
						     st->b, &c[st->chg].t);
				break;
			case SW_DROP:
				drop(&c[st->chg]);
				break;
			}
			if (shim_fail_pending()) {
				/* not reached: the step ran normally */
				shim_fail_nth(0);
				check(r == 0, __LINE__, "step %u: %s", i,
				      errname(r));
				if (st->op == SW_CHARGE) {
					c[st->chg].o = st->o;
					c[st->chg].b = st->b;
					c[st->chg].live = true;
				}
				free(before);
				break;
			}
			++failures;
			check(r == -ENOMEM, __LINE__,
			      "step %u, allocation %u: %s", i, n, errname(r));
			CHECK_SNAPSHOT(acct, before);
			free(before);
			CHECK_INVARIANTS(acct);
		}
		CHECK_INVARIANTS(acct);
	}
	/* the root, 3 users, 4 new quotas with their traces, 1 new trace */
	CHECK_EQ(failures, 1 + 3 + 4 * 2 + 1);
	drop_all(c, ARRAY_SIZE(c));
	for (i = 0; i < ARRAY_SIZE(act); ++i)
		bus1_acct_actor_deinit(&act[i]);
	CHECK(RB_EMPTY_ROOT(&acct->users));
	bus1_acct_free(acct);
	CHECK_EQ(shim_live_objects(), 0);
	tap_end();
}

/* ------------------------------------------------ randomized, with model */

/*
 * A reference model of the accounting rules, written directly from the
 * spec with flat arrays and 128-bit arithmetic, run side by side with the
 * engine. After every operation the engine's whole state must equal the
 * model's and satisfy the invariants.
 */
#define RU 4		/* UIDs 0..RU-1 */
#define RA 256		/* actors created over one run, at most */

typedef unsigned __int128 u128;

struct m_quota {
	u64 claimed[BUS1_ACCT_N];
	u64 avail[BUS1_ACCT_N];
};

struct m_trace {
	u64 claimed[BUS1_ACCT_N];
	unsigned long n;
};

struct rnd_actor {
	struct bus1_acct_actor a;
	uid_t uid;
	bool live;
};

struct rnd_charge {
	unsigned int u, a;
	u64 amt[BUS1_ACCT_N];
	struct bus1_acct_trace *t;
};

struct rnd {
	struct bus1_acct *acct;
	u64 limit[BUS1_ACCT_N];
	u64 uav[RU][BUS1_ACCT_N];
	struct m_quota q[RU][RU];	/* [charged uid][claimant uid] */
	struct m_trace t[RU][RA];	/* [charged uid][actor] */
	struct rnd_actor act[RA];
	unsigned int n_act;
	struct rnd_charge *chg;
	size_t n_chg;
	u64 seed;
	bool huge;
	unsigned long n_ok, n_edquot, n_enomem, n_dis;
};

static u64 rnd_next(struct rnd *r)
{
	/* splitmix64 */
	u64 z = (r->seed += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u64 rnd_below(struct rnd *r, u64 n)
{
	return n ? rnd_next(r) % n : 0;
}

static unsigned int m_nt(struct rnd *r, unsigned int u, uid_t c)
{
	unsigned int a, n = 0;

	for (a = 0; a < r->n_act; ++a)
		n += r->act[a].uid == c && r->t[u][a].n > 0;
	return n;
}

static unsigned int m_nq(struct rnd *r, unsigned int u)
{
	unsigned int c, n = 0;

	for (c = 0; c < RU; ++c)
		n += m_nt(r, u, c) > 0;
	return n;
}

static unsigned int m_live(struct rnd *r, uid_t uid)
{
	unsigned int a, n = 0;

	for (a = 0; a < r->n_act; ++a)
		n += r->act[a].live && r->act[a].uid == uid;
	return n;
}

/* A_ql(n) = (n + 1) * ceil(log2(n + 1)) + (n + 1), by counting bits */
static u128 m_ql(unsigned int n)
{
	u128 v = (u128)n + 1, k = 0;

	while (((u128)1 << k) < v)
		++k;
	return v * k + v;
}

/*
 * Expected result of a charge; applied to the model on success. @fail_nth
 * is the armed allocation failure (0: none): a charge allocates the quota
 * first, then the trace, each only if missing.
 */
static int m_charge(struct rnd *r, unsigned int u, unsigned int a,
		    const u64 *amt, unsigned int fail_nth)
{
	uid_t c = r->act[a].uid;
	struct m_quota *q = &r->q[u][c];
	struct m_trace *t = &r->t[u][a];
	bool qnew = m_nt(r, u, c) == 0, tnew = t->n == 0;
	unsigned int nq, s;
	u64 take[BUS1_ACCT_N] = {};

	if (fail_nth && fail_nth <= (unsigned int)qnew + tnew)
		return -ENOMEM;
	nq = m_nq(r, u) + qnew;

	for (s = 0; s < BUS1_ACCT_N; ++s) {
		u128 x, m1, m2;

		if (!amt[s])
			continue;
		x = (u128)amt[s] + t->claimed[s];
		if (x > U64_MAX || x * 2 > U64_MAX)
			return -EDQUOT;
		m1 = x * 2 - t->claimed[s];
		if (q->avail[s] >= m1)
			continue;
		take[s] = m1 - q->avail[s];
		if (c == u) {
			m2 = take[s];
		} else {
			u128 y = (u128)take[s] + q->claimed[s];
			u128 aq = m_ql(nq);

			if (aq > U64_MAX || y > U64_MAX || y * aq > U64_MAX)
				return -EDQUOT;
			m2 = y * aq - q->claimed[s];
		}
		if (r->uav[u][s] < m2)
			return -EDQUOT;
	}

	for (s = 0; s < BUS1_ACCT_N; ++s) {
		if (!amt[s])
			continue;
		r->uav[u][s] -= take[s];
		q->claimed[s] += take[s];
		q->avail[s] = q->avail[s] + take[s] - amt[s];
		t->claimed[s] += amt[s];
	}
	++t->n;
	return 0;
}

static void m_discharge(struct rnd *r, unsigned int u, unsigned int a,
			const u64 *amt)
{
	uid_t c = r->act[a].uid;
	struct m_quota *q = &r->q[u][c];
	struct m_trace *t = &r->t[u][a];
	unsigned int nt = m_nt(r, u, c), s;

	for (s = 0; s < BUS1_ACCT_N; ++s) {
		u64 avg;

		if (!amt[s])
			continue;
		t->claimed[s] -= amt[s];
		q->avail[s] += amt[s];
		avg = (q->claimed[s] - q->avail[s]) / nt;
		if (q->avail[s] > avg) {
			r->uav[u][s] += q->avail[s] - avg;
			q->claimed[s] -= q->avail[s] - avg;
			q->avail[s] = avg;
		}
	}
	--t->n;
}

/* engine state == model state, for every user, quota and trace */
static bool rnd_compare(struct rnd *r, int line)
{
	bool ok = check_invariants(r->acct, line);
	unsigned int u, c, a, s;

	for (u = 0; u < RU; ++u) {
		struct bus1_acct_user *user = find_user(r->acct, u);
		unsigned int nq = m_nq(r, u), live = m_live(r, u);

		ok &= check(!!user == (live || nq), line,
			    "user %u exists: %d, model: %u peers, %u quotas",
			    u, !!user, live, nq);
		if (!user)
			continue;
		ok &= check(refcount_read(&user->ref) == live + nq, line,
			    "user %u ref %u, want %u", u,
			    refcount_read(&user->ref), live + nq);
		ok &= check(user->n_quotas == nq, line, "user %u quotas", u);
		for (s = 0; s < BUS1_ACCT_N; ++s)
			ok &= check(user->available[s] == r->uav[u][s], line,
				    "user %u available[%u] %llu, want %llu",
				    u, s, user->available[s], r->uav[u][s]);

		for (c = 0; c < RU; ++c) {
			struct bus1_acct_quota *q = find_quota(user, c);
			unsigned int nt = m_nt(r, u, c);

			ok &= check(!!q == !!nt, line,
				    "Q(%u, %u) exists: %d, want %d", u, c, !!q,
				    !!nt);
			if (!q) {
				for (s = 0; s < BUS1_ACCT_N; ++s)
					ok &= check(!r->q[u][c].claimed[s] &&
						    !r->q[u][c].avail[s], line,
						    "model quota not empty");
				continue;
			}
			ok &= check(q->n_traces == nt, line,
				    "Q(%u, %u) traces", u, c);
			for (s = 0; s < BUS1_ACCT_N; ++s)
				ok &= check(q->claimed[s] == r->q[u][c].claimed[s] &&
					    q->available[s] == r->q[u][c].avail[s],
					    line,
					    "Q(%u, %u)[%u] = %llu/%llu, want %llu/%llu",
					    u, c, s, q->claimed[s],
					    q->available[s],
					    r->q[u][c].claimed[s],
					    r->q[u][c].avail[s]);

			for (a = 0; a < r->n_act; ++a) {
				struct bus1_acct_trace *t;
				struct m_trace *mt = &r->t[u][a];

				if (r->act[a].uid != c)
					continue;
				t = find_trace(q, r->act[a].a.id);
				ok &= check(!!t == !!mt->n, line,
					    "T(%u, actor %u) exists: %d", u, a,
					    !!t);
				if (!t)
					continue;
				ok &= check(t->n_charges == mt->n, line,
					    "T(%u, actor %u) charges", u, a);
				for (s = 0; s < BUS1_ACCT_N; ++s)
					ok &= check(t->claimed[s] == mt->claimed[s],
						    line,
						    "T(%u, actor %u)[%u] = %llu, want %llu",
						    u, a, s, t->claimed[s],
						    mt->claimed[s]);
			}
		}
	}
	return ok;
}

static unsigned int rnd_live_actor(struct rnd *r)
{
	unsigned int a;

	do {
		a = rnd_below(r, r->n_act);
	} while (!r->act[a].live);
	return a;
}

static bool rnd_new_actor(struct rnd *r, int line)
{
	struct rnd_actor *ra = &r->act[r->n_act];
	uid_t uid = rnd_below(r, RU);
	bool exists = find_user(r->acct, uid) != NULL;
	bool ok = true;
	int e;

	if (!rnd_below(r, 8)) {
		/* failure injection: only a new user allocates */
		shim_fail_nth(1);
		e = bus1_acct_actor_init(&ra->a, r->acct, KUIDT_INIT(uid));
		ok &= check(e == (exists ? 0 : -ENOMEM), line,
			    "actor init: %s", errname(e));
		ok &= check(shim_fail_pending() == exists, line,
			    "actor init allocation");
		shim_fail_nth(0);
		if (e)
			++r->n_enomem;
		else
			bus1_acct_actor_deinit(&ra->a);
	}
	e = bus1_acct_actor_init(&ra->a, r->acct, KUIDT_INIT(uid));
	ok &= check(!e, line, "actor init: %s", errname(e));
	ra->uid = uid;
	ra->live = true;
	++r->n_act;
	return ok;
}

static u64 rnd_amount(struct rnd *r, unsigned int s)
{
	u64 v = rnd_below(r, 100);

	if (v < 20)
		return 0;
	if (r->huge)
		return rnd_next(r) >> rnd_below(r, 64);
	if (v < 22) {
		static const u64 big[] = {
			U64_MAX, U64_MAX - 1, 1ULL << 63, (1ULL << 63) - 1,
			1ULL << 62, 1ULL << 32,
		};
		return big[rnd_below(r, ARRAY_SIZE(big))];
	}
	return 1 + rnd_below(r, r->limit[s] / 6 + 1);
}

static bool rnd_op(struct rnd *r, int line)
{
	u64 p = rnd_below(r, 100);
	struct rnd_charge *ch;
	bool ok = true;
	size_t i;

	if (p < 55) {
		unsigned int x = rnd_live_actor(r), a = rnd_live_actor(r);
		unsigned int fail = 0, s;
		struct bus1_acct_trace *t = NULL;
		u64 amt[BUS1_ACCT_N];
		int want, got;

		for (s = 0; s < BUS1_ACCT_N; ++s)
			amt[s] = rnd_amount(r, s);
		if (!rnd_below(r, 16))
			fail = 1 + rnd_below(r, 2);
		want = m_charge(r, r->act[x].uid, a, amt, fail);
		shim_fail_nth(fail);
		got = bus1_acct_charge(r->act[x].a.user, &r->act[a].a,
				       amt[0], amt[1], &t);
		shim_fail_nth(0);
		ok &= check(got == want, line,
			    "charge user %u by actor %u {%llu, %llu} (fail %u): %s, want %s",
			    r->act[x].uid, a, amt[0], amt[1], fail,
			    errname(got), errname(want));
		if (!got) {
			ch = &r->chg[r->n_chg++];
			ch->u = r->act[x].uid;
			ch->a = a;
			ch->amt[0] = amt[0];
			ch->amt[1] = amt[1];
			ch->t = t;
			++r->n_ok;
		} else if (got == -EDQUOT) {
			++r->n_edquot;
		} else {
			++r->n_enomem;
		}
	} else if (p < 92) {
		if (!r->n_chg)
			return true;
		i = rnd_below(r, r->n_chg);
		ch = &r->chg[i];
		m_discharge(r, ch->u, ch->a, ch->amt);
		bus1_acct_discharge(ch->t, ch->amt[0], ch->amt[1]);
		r->chg[i] = r->chg[--r->n_chg];
		++r->n_dis;
	} else if (r->n_act < RA) {
		/* a peer closes (its charges stay), another one opens */
		unsigned int a = rnd_live_actor(r);

		bus1_acct_actor_deinit(&r->act[a].a);
		r->act[a].live = false;
		ok &= rnd_new_actor(r, line);
	}
	return ok;
}

static void test_random(const char *name, u64 lo, u64 lb, bool huge,
			u64 seed, unsigned int ops)
{
	struct rnd *r = calloc(1, sizeof(*r));
	unsigned int i, u, s;
	bool ok = true;

	tap_begin("random %s, seed %llu: %u operations match the model", name,
		  seed, ops);
	r->seed = seed;
	r->huge = huge;
	r->limit[0] = lo;
	r->limit[1] = lb;
	r->chg = calloc(ops, sizeof(*r->chg));
	for (u = 0; u < RU; ++u)
		for (s = 0; s < BUS1_ACCT_N; ++s)
			r->uav[u][s] = r->limit[s];
	r->acct = bus1_acct_new(lo, lb);
	CHECK(!IS_ERR(r->acct));
	for (i = 0; i < 2 * RU; ++i)
		ok &= rnd_new_actor(r, __LINE__);

	for (i = 0; ok && i < ops; ++i) {
		ok &= rnd_op(r, __LINE__);
		ok &= rnd_compare(r, __LINE__);
		if (!ok)
			printf("# at operation %u\n", i);
	}

	/* release everything in random order */
	while (ok && r->n_chg) {
		size_t j = rnd_below(r, r->n_chg);
		struct rnd_charge *ch = &r->chg[j];

		m_discharge(r, ch->u, ch->a, ch->amt);
		bus1_acct_discharge(ch->t, ch->amt[0], ch->amt[1]);
		r->chg[j] = r->chg[--r->n_chg];
		ok &= rnd_compare(r, __LINE__);
	}
	for (u = 0; ok && u < RU; ++u) {
		struct bus1_acct_user *user = find_user(r->acct, u);

		if (!user)
			continue;
		CHECK(RB_EMPTY_ROOT(&user->quotas));
		for (s = 0; s < BUS1_ACCT_N; ++s)
			CHECK_EQ(user->available[s], r->limit[s]);
	}
	printf("# %lu charged, %lu EDQUOT, %lu ENOMEM, %lu discharged, %u actors\n",
	       r->n_ok, r->n_edquot, r->n_enomem, r->n_dis, r->n_act);
	CHECK(r->n_ok > ops / 10);
	CHECK(huge || r->n_edquot > ops / 50);
	CHECK(r->n_enomem > 0);

	for (i = 0; i < r->n_act; ++i)
		bus1_acct_actor_deinit(&r->act[i].a);
	if (ok)
		CHECK(RB_EMPTY_ROOT(&r->acct->users));
	bus1_acct_free(r->acct);
	if (ok)
		CHECK_EQ(shim_live_objects(), 0);
	free(r->chg);
	free(r);
	tap_end();
}

/* ------------------------------------------------------------ threads */

#define TH_N 4
#define TH_ACTORS 4
#define TH_CHARGES 64

struct th {
	pthread_t thread;
	struct bus1_acct *acct;
	unsigned int idx, ops;
	struct rnd r;	/* only the generator is used */
	struct bus1_acct_actor act[TH_ACTORS];
	struct chg chg[TH_CHARGES];
	unsigned int n_chg;
	unsigned long n_ok, n_edquot, n_bad, n_dumps;
};

static atomic_ulong th_violations;

/* the invariants of every user, each checked under its lock */
static void th_check_locked(struct bus1_acct *acct)
{
	struct bus1_acct_user *user, *next;
	struct rb_node *n, *qn, *tn;
	unsigned int s;

	mutex_lock(&acct->lock);
	n = rb_first(&acct->users);
	user = n ? rb_entry(n, struct bus1_acct_user, rb) : NULL;
	if (user)
		bus1_acct_user_ref(user);
	mutex_unlock(&acct->lock);

	while (user) {
		u64 qsum[BUS1_ACCT_N] = {};

		mutex_lock(&user->lock);
		for (qn = rb_first(&user->quotas); qn; qn = rb_next(qn)) {
			struct bus1_acct_quota *q =
				rb_entry(qn, struct bus1_acct_quota, rb);
			u64 tsum[BUS1_ACCT_N] = {};

			for (tn = rb_first(&q->traces); tn; tn = rb_next(tn)) {
				struct bus1_acct_trace *t =
					rb_entry(tn, struct bus1_acct_trace,
						 rb);

				for (s = 0; s < BUS1_ACCT_N; ++s)
					tsum[s] += t->claimed[s];
			}
			for (s = 0; s < BUS1_ACCT_N; ++s) {
				if (q->available[s] + tsum[s] != q->claimed[s])
					atomic_fetch_add(&th_violations, 1);
				qsum[s] += q->claimed[s];
			}
		}
		for (s = 0; s < BUS1_ACCT_N; ++s)
			if (user->available[s] + qsum[s] != acct->limits[s])
				atomic_fetch_add(&th_violations, 1);
		mutex_unlock(&user->lock);

		mutex_lock(&acct->lock);
		n = rb_next(&user->rb);
		next = n ? rb_entry(n, struct bus1_acct_user, rb) : NULL;
		if (next)
			bus1_acct_user_ref(next);
		mutex_unlock(&acct->lock);
		bus1_acct_user_unref(user);
		user = next;
	}
}

static void *th_main(void *arg)
{
	struct th *t = arg;
	unsigned int i, k;

	for (k = 0; k < TH_ACTORS; ++k)
		if (bus1_acct_actor_init(&t->act[k], t->acct,
					 KUIDT_INIT(rnd_below(&t->r, RU))))
			++t->n_bad;

	for (i = 0; i < t->ops; ++i) {
		u64 p = rnd_below(&t->r, 100);

		if (p < 50 && t->n_chg < TH_CHARGES) {
			struct chg *c = &t->chg[t->n_chg];
			unsigned int x = rnd_below(&t->r, TH_ACTORS);
			unsigned int y = rnd_below(&t->r, TH_ACTORS);
			int e;

			c->o = rnd_below(&t->r, 3);
			c->b = rnd_below(&t->r, 300);
			e = bus1_acct_charge(t->act[x].user, &t->act[y],
					     c->o, c->b, &c->t);
			if (!e) {
				c->live = true;
				++t->n_chg;
				++t->n_ok;
			} else if (e == -EDQUOT) {
				++t->n_edquot;
			} else {
				++t->n_bad;
			}
		} else if (p < 92) {
			if (t->n_chg) {
				k = rnd_below(&t->r, t->n_chg);
				drop(&t->chg[k]);
				t->chg[k] = t->chg[--t->n_chg];
			}
		} else if (p < 98) {
			k = rnd_below(&t->r, TH_ACTORS);
			bus1_acct_actor_deinit(&t->act[k]);
			if (bus1_acct_actor_init(&t->act[k], t->acct,
						 KUIDT_INIT(rnd_below(&t->r,
								      RU))))
				++t->n_bad;
		} else {
			struct seq_file m = {};

			bus1_acct_dump(&m, t->acct);
			free(m.buf);
			th_check_locked(t->acct);
			++t->n_dumps;
		}
	}

	drop_all(t->chg, t->n_chg);
	for (k = 0; k < TH_ACTORS; ++k)
		bus1_acct_actor_deinit(&t->act[k]);
	return NULL;
}

static void test_threads(unsigned int ops)
{
	static struct th th[TH_N];
	unsigned long n_ok = 0, n_edquot = 0, n_bad = 0, n_dumps = 0;
	struct bus1_acct *acct;
	unsigned int i;

	tap_begin("threads: %d threads x %u operations on shared users", TH_N,
		  ops);
	acct = bus1_acct_new(64, 4096);
	CHECK(!IS_ERR(acct));
	for (i = 0; i < TH_N; ++i) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].acct = acct;
		th[i].idx = i;
		th[i].ops = ops;
		th[i].r.seed = 1000 + i;
		CHECK(!pthread_create(&th[i].thread, NULL, th_main, &th[i]));
	}
	for (i = 0; i < TH_N; ++i) {
		CHECK(!pthread_join(th[i].thread, NULL));
		n_ok += th[i].n_ok;
		n_edquot += th[i].n_edquot;
		n_bad += th[i].n_bad;
		n_dumps += th[i].n_dumps;
	}
	printf("# %lu charged, %lu EDQUOT, %lu dumps\n", n_ok, n_edquot,
	       n_dumps);
	CHECK_EQ(n_bad, 0);
	CHECK_EQ(atomic_load(&th_violations), 0);
	CHECK(n_ok > 0 && n_edquot > 0 && n_dumps > 0);
	CHECK(RB_EMPTY_ROOT(&acct->users));
	bus1_acct_free(acct);
	CHECK_EQ(shim_live_objects(), 0);
	tap_end();
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	bool threads_only = argc > 1 && !strcmp(argv[1], "--threads-only");
	u64 seed;

	printf("TAP version 13\n");

	if (threads_only) {
		test_threads(20000);
	} else {
		test_arith();
		test_table();
		test_table_maxima();
		test_consequences();
		test_bus_patterns();
		test_overflow();
		test_zero();
		test_lifetime();
		test_dump();
		test_alloc_failures();
		test_fail_sweep();
		for (seed = 1; seed <= 3; ++seed) {
			test_random("limits 64/4096", 64, 4096, false, seed,
				    4000);
			test_random("limits 1024/1024", 1024, 1024, false,
				    seed, 4000);
			test_random("limits 7/100000", 7, 100000, false, seed,
				    4000);
			test_random("limits 2^64-1, huge amounts", U64_MAX,
				    U64_MAX, true, seed, 4000);
		}
		test_threads(20000);
	}

	printf("1..%u\n", tap_points);
	printf("# %u test points, %u failed, %lu checks\n", tap_points,
	       tap_failures, checks_total);
	return tap_failures || shim_warnings() ? 1 : 0;
}
