// SPDX-License-Identifier: GPL-2.0
/*
 * A peer stalled inside a command must delay nobody else (spec §11.2: SEND,
 * RELEASE, RECV and close never wait for another peer's lock; pushes to
 * other peers are lock-free).
 *
 * The stall is made with userfaultfd: a thread issues RECV (or SEND) with
 * its payload buffer on a registered page that is not populated, so the
 * kernel blocks in the user copy while holding that peer's lock until the
 * test resolves the fault with UFFDIO_COPY. Meanwhile other processes
 * operate on the peers around it and time every call; each must return
 * within 1 s (generous for an emulated VM, where they take microseconds to
 * milliseconds). Afterwards the stalled call completes with the right data
 * and everything sent meanwhile is received, in order.
 */
#include "kselftest_harness.h"
#include <linux/userfaultfd.h>
#include <stdatomic.h>
#include "util2.h"

#define PROMPT_US 1000000	/* upper bound for one call during a stall */

/* One page registered with userfaultfd for missing-page faults. */
struct uffd_page {
	int fd;
	char *addr;
};

static int uffd_page_new(struct uffd_page *u)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	u->fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->fd < 0)
		return -errno;
	if (ioctl(u->fd, UFFDIO_API, &api))
		return -errno;
	u->addr = t_map(1, PROT_READ | PROT_WRITE);
	if (!u->addr)
		return -ENOMEM;
	reg.range.start = (uintptr_t)u->addr;
	reg.range.len = t_page();
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

/* Wait up to @ms for the fault on the page; 0 once a task is stuck in it. */
static int uffd_wait_fault(struct uffd_page *u, int ms)
{
	struct pollfd p = { .fd = u->fd, .events = POLLIN };
	struct uffd_msg msg;
	int r;

	r = poll(&p, 1, ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	if (read(u->fd, &msg, sizeof(msg)) != sizeof(msg))
		return -EIO;
	if (msg.event != UFFD_EVENT_PAGEFAULT)
		return -EPROTO;
	if ((msg.arg.pagefault.address & ~(uint64_t)(t_page() - 1)) !=
	    (uintptr_t)u->addr)
		return -EPROTO;
	return 0;
}

/* Resolve the fault: the page appears filled with @fill. */
static int uffd_resolve(struct uffd_page *u, int fill)
{
	char *src = t_map(1, PROT_READ | PROT_WRITE);
	struct uffdio_copy c;

	if (!src)
		return -ENOMEM;
	memset(src, fill, t_page());
	c = (struct uffdio_copy){
		.dst = (uintptr_t)u->addr,
		.src = (uintptr_t)src,
		.len = t_page(),
	};
	return ioctl(u->fd, UFFDIO_COPY, &c) ? -errno : 0;
}

/* A RECV or SEND issued from its own thread, with its outcome. */
struct stalled {
	int fd;
	char *buf;
	size_t len;
	uint64_t dst;		/* SEND only */
	struct bus1_metadata meta;
	struct bus1_message msg;
	struct iovec vec;
	int ret;
	atomic_bool returned;
};

static void *stalled_recv(void *arg)
{
	struct stalled *s = arg;
	struct bus1_cmd_recv cmd = {
		.ptr_metadata = BUS1_FROM_PTR(&s->meta),
		.ptr_message = BUS1_FROM_PTR(&s->msg),
	};

	s->vec = (struct iovec){ s->buf, s->len };
	s->msg = (struct bus1_message){
		.type = BUS1_INVALID,
		.n_data = s->len,
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&s->vec),
	};
	s->ret = t_ioctl(s->fd, BUS1_CMD_RECV, &cmd);
	atomic_store(&s->returned, true);
	return NULL;
}

/*
 * A second RECV on the stalled peer, from another thread. Commands on one
 * peer are serialised (§3.4), so it must wait for the stalled one: proof
 * that the stall happens with the peer's lock held.
 */
static char second_buf[4096];

static void *second_recv(void *arg)
{
	struct stalled *s = arg;

	s->buf = second_buf;
	s->len = sizeof(second_buf);
	return stalled_recv(s);
}

static void *stalled_send(void *arg)
{
	struct stalled *s = arg;

	s->ret = t_send1(s->fd, s->dst, s->buf, s->len);
	atomic_store(&s->returned, true);
	return NULL;
}

/*
 * Worker processes: each runs its operations when the parent says "go",
 * reports (status, slowest call in us), then keeps its peers open until the
 * parent has checked everything (EOF on the hold pipe).
 */
struct worker {
	pid_t pid;
	int go[2], rep[2];
};

typedef int (*work_fn)(void *ctx, uint64_t *max_us);

/* Time one call: remember the slowest. */
#define TIMED(max_us, call) ({						\
	uint64_t __t0 = t_now_us();					\
	int __r = (call);						\
	uint64_t __d = t_now_us() - __t0;				\
	if (__d > *(max_us))						\
		*(max_us) = __d;					\
	__r;								\
})

static int worker_start(struct worker *w, int hold[2], work_fn fn, void *ctx)
{
	uint64_t v, max_us = 0;
	int r;

	if (pipe(w->go) || pipe(w->rep))
		return -errno;
	w->pid = t_fork();
	if (w->pid < 0)
		return -errno;
	if (w->pid)
		return 0;
	close(hold[1]);
	if (t_read_u64(w->go[0], &v, 30000))
		_exit(2);
	r = fn(ctx, &max_us);
	t_write_u64(w->rep[1], (uint64_t)r);
	t_write_u64(w->rep[1], max_us);
	while (t_read_u64(hold[0], &v, 60000) == 0)
		;
	_exit(0);
}

/* Collect a worker's report: its status and slowest call. */
static int worker_report(struct worker *w, uint64_t *status, uint64_t *max_us)
{
	if (t_read_u64(w->rep[0], status, 20000))
		return -ETIMEDOUT;
	return t_read_u64(w->rep[0], max_us, 20000);
}

/* ---- a receiver stalled in RECV; other peers keep sending ---------------- */

#define STALL_MSGS 20

struct send_ctx {
	int s, a, b;		/* sender to R; a pair A -> B */
	uint64_t to_r, to_b;
	uint64_t tag;
};

struct tag {
	uint64_t from, seq;
};

static int work_send_to_stalled(void *arg, uint64_t *max_us)
{
	struct send_ctx *c = arg;
	struct tag t = { c->tag, 0 };
	struct t_msg m;
	int i;

	for (i = 0; i < STALL_MSGS; i++) {
		t.seq = i;
		if (TIMED(max_us, t_send1(c->s, c->to_r, &t, sizeof(t))))
			return 1;
		if (c->a < 0)
			continue;
		/* Unrelated peers keep talking. */
		if (TIMED(max_us, t_send1(c->a, c->to_b, &t, sizeof(t))))
			return 2;
		if (TIMED(max_us, t_recv(c->b, &m)))
			return 3;
		if (memcmp(m.data, &t, sizeof(t)))
			return 4;
	}
	return 0;
}

TEST(stalled_receiver_delays_no_sender_and_no_other_peer)
{
	struct send_ctx c1 = { .tag = 1 }, c2 = { .tag = 2, .a = -1 };
	static struct stalled st, st2;
	struct worker w1, w2;
	uint64_t n, status, max_us, next[3] = { 0 };
	int r, hold[2], i;
	struct uffd_page u;
	struct t_msg m;
	struct tag t;
	pthread_t th, th2;

	ASSERT_OPEN(r);
	ASSERT_OPEN(c1.s);
	ASSERT_OPEN(c2.s);
	ASSERT_OPEN(c1.a);
	ASSERT_OPEN(c1.b);
	/* R: node 1 (handle in S1), node 3 (handle in S2). */
	ASSERT_EQ(0, t_node(r, c1.s, &n, &c1.to_r));
	ASSERT_EQ(1, n);
	ASSERT_EQ(0, t_node(r, c2.s, &n, &c2.to_r));
	ASSERT_EQ(3, n);
	ASSERT_EQ(0, t_node(c1.b, c1.a, &n, &c1.to_b));
	/* The message the stalled RECV will be copying. */
	ASSERT_EQ(0, t_send1(c1.s, c1.to_r, "first", 5));

	ASSERT_EQ(0, pipe(hold));
	ASSERT_EQ(0, worker_start(&w1, hold, work_send_to_stalled, &c1));
	ASSERT_EQ(0, worker_start(&w2, hold, work_send_to_stalled, &c2));
	close(c1.s);
	close(c2.s);
	close(c1.a);
	close(c1.b);
	close(hold[0]);

	ASSERT_EQ(0, uffd_page_new(&u));
	st = (struct stalled){ .fd = r, .buf = u.addr, .len = t_page() };
	ASSERT_EQ(0, pthread_create(&th, NULL, stalled_recv, &st));
	ASSERT_EQ(0, uffd_wait_fault(&u, 10000));
	ASSERT_FALSE(atomic_load(&st.returned));
	st2 = (struct stalled){ .fd = r };
	ASSERT_EQ(0, pthread_create(&th2, NULL, second_recv, &st2));

	/* While R is stuck: the workers send to it and use other peers. */
	ASSERT_EQ(0, t_write_u64(w1.go[1], 1));
	ASSERT_EQ(0, t_write_u64(w2.go[1], 1));
	EXPECT_EQ(0, worker_report(&w1, &status, &max_us));
	EXPECT_EQ(0, status);
	EXPECT_GT(PROMPT_US, max_us);
	TH_LOG("slowest call while R stalled (worker 1): %llu us",
	       (unsigned long long)max_us);
	EXPECT_EQ(0, worker_report(&w2, &status, &max_us));
	EXPECT_EQ(0, status);
	EXPECT_GT(PROMPT_US, max_us);
	/* Still stalled: nothing above waited for it. */
	usleep(200000);
	EXPECT_FALSE(atomic_load(&st.returned));
	EXPECT_FALSE(atomic_load(&st2.returned));

	ASSERT_EQ(0, uffd_resolve(&u, 0xee));
	pthread_join(th, NULL);
	pthread_join(th2, NULL);
	ASSERT_EQ(0, st.ret);
	ASSERT_EQ(BUS1_MESSAGE_TYPE_USER, st.msg.type);
	ASSERT_EQ(1, st.meta.id);
	ASSERT_EQ(5, st.msg.n_data);
	ASSERT_EQ(0, memcmp(u.addr, "first", 5));
	/* Bytes beyond the payload keep the page's content. */
	ASSERT_EQ((char)0xee, u.addr[5]);

	/*
	 * Everything sent meanwhile arrives, in per-sender order; the second
	 * RECV got the first of it.
	 */
	ASSERT_EQ(0, st2.ret);
	ASSERT_EQ(sizeof(t), st2.msg.n_data);
	memcpy(&t, second_buf, sizeof(t));
	ASSERT_TRUE(t.from == 1 || t.from == 2);
	ASSERT_EQ(t.from == 1 ? 1 : 3, st2.meta.id);
	ASSERT_EQ(0, t.seq);
	next[t.from]++;
	for (i = 1; i < 2 * STALL_MSGS; i++) {
		ASSERT_EQ(0, t_recv(r, &m));
		ASSERT_EQ(BUS1_MESSAGE_TYPE_USER, m.msg.type);
		memcpy(&t, m.data, sizeof(t));
		ASSERT_TRUE(t.from == 1 || t.from == 2);
		ASSERT_EQ(t.from == 1 ? 1 : 3, m.meta.id);
		ASSERT_EQ(next[t.from], t.seq);
		next[t.from]++;
	}
	ASSERT_EMPTY(r);
	close(hold[1]);
	ASSERT_EQ(0, t_wait(w1.pid));
	ASSERT_EQ(0, t_wait(w2.pid));
}

/* ---- a receiver stalled in RECV; others release and close ---------------- */

struct notify_ctx {
	int o1, o2, hd, k;
	uint64_t o1_node, hd_handle;
};

static int work_notify_stalled(void *arg, uint64_t *max_us)
{
	struct notify_ctx *c = arg;

	/* Each of these queues a notification to the stalled peer. */
	if (TIMED(max_us, t_release1(c->o1, c->o1_node)))
		return 1;
	if (TIMED(max_us, close(c->o2)))
		return 2;
	if (TIMED(max_us, t_release1(c->hd, c->hd_handle)))
		return 3;
	if (TIMED(max_us, close(c->k)))
		return 4;
	return 0;
}

TEST(stalled_receiver_delays_no_release_or_close_that_notifies_it)
{
	struct notify_ctx c;
	static struct stalled st;
	uint64_t n, h1, h2, hk, status, max_us;
	struct uffd_page u;
	struct worker w;
	int r, hold[2];
	pthread_t th;

	ASSERT_OPEN(r);
	ASSERT_OPEN(c.o1);
	ASSERT_OPEN(c.o2);
	ASSERT_OPEN(c.hd);
	ASSERT_OPEN(c.k);
	/* R holds handles 1 and 3 to nodes of O1 and O2. */
	ASSERT_EQ(0, t_node(c.o1, r, &c.o1_node, &h1));
	ASSERT_EQ(1, h1);
	ASSERT_EQ(0, t_node(c.o2, r, &n, &h2));
	ASSERT_EQ(3, h2);
	/* R's node 5 has its only handle in HD, node 7 in K. */
	ASSERT_EQ(0, t_node(r, c.hd, &n, &c.hd_handle));
	ASSERT_EQ(5, n);
	ASSERT_EQ(0, t_node(r, c.k, &n, &hk));
	ASSERT_EQ(7, n);
	ASSERT_EQ(0, t_send1(c.hd, c.hd_handle, "first", 5));

	ASSERT_EQ(0, pipe(hold));
	ASSERT_EQ(0, worker_start(&w, hold, work_notify_stalled, &c));
	close(c.o1);
	close(c.o2);
	close(c.hd);
	close(c.k);
	close(hold[0]);

	ASSERT_EQ(0, uffd_page_new(&u));
	st = (struct stalled){ .fd = r, .buf = u.addr, .len = t_page() };
	ASSERT_EQ(0, pthread_create(&th, NULL, stalled_recv, &st));
	ASSERT_EQ(0, uffd_wait_fault(&u, 10000));

	ASSERT_EQ(0, t_write_u64(w.go[1], 1));
	EXPECT_EQ(0, worker_report(&w, &status, &max_us));
	EXPECT_EQ(0, status);
	EXPECT_GT(PROMPT_US, max_us);
	TH_LOG("slowest release/close while R stalled: %llu us",
	       (unsigned long long)max_us);
	EXPECT_FALSE(atomic_load(&st.returned));

	ASSERT_EQ(0, uffd_resolve(&u, 0));
	pthread_join(th, NULL);
	ASSERT_EQ(0, st.ret);
	ASSERT_EQ(5, st.meta.id);
	ASSERT_EQ(0, memcmp(u.addr, "first", 5));

	/* The worker's four transactions, in the order it issued them. */
	ASSERT_NODE_RELEASE(r, 1);
	ASSERT_NODE_RELEASE(r, 3);
	ASSERT_HANDLE_RELEASE(r, 5);
	ASSERT_HANDLE_RELEASE(r, 7);
	ASSERT_EMPTY(r);
	close(hold[1]);
	ASSERT_EQ(0, t_wait(w.pid));
}

/* ---- a sender stalled in SEND -------------------------------------------- */

struct sender_ctx {
	int r, x, y;
	uint64_t x_to_r, y_to_s;
};

static int work_around_stalled_sender(void *arg, uint64_t *max_us)
{
	struct sender_ctx *c = arg;
	struct t_msg m;

	/* The stalled SEND has committed nothing: R's queue is empty. */
	if (TIMED(max_us, t_recv(c->r, &m)) != -EAGAIN)
		return 1;
	/* Another sender reaches R, and R receives it. */
	if (TIMED(max_us, t_send1(c->x, c->x_to_r, "x", 1)))
		return 2;
	if (TIMED(max_us, t_recv(c->r, &m)) || m.msg.n_data != 1 ||
	    m.data[0] != 'x')
		return 3;
	/* Sending to the stalled sender itself works too. */
	if (TIMED(max_us, t_send1(c->y, c->y_to_s, "y", 1)))
		return 4;
	return 0;
}

TEST(stalled_sender_delays_neither_its_receiver_nor_senders_to_it)
{
	struct sender_ctx c;
	static struct stalled st;
	uint64_t n, s_to_r, status, max_us;
	struct uffd_page u;
	struct worker w;
	int s, hold[2], i;
	struct t_msg m;
	pthread_t th;

	ASSERT_OPEN(s);
	ASSERT_OPEN(c.r);
	ASSERT_OPEN(c.x);
	ASSERT_OPEN(c.y);
	ASSERT_EQ(0, t_node(c.r, s, &n, &s_to_r));
	ASSERT_EQ(1, n);
	ASSERT_EQ(0, t_node(c.r, c.x, &n, &c.x_to_r));
	ASSERT_EQ(3, n);
	ASSERT_EQ(0, t_node(s, c.y, &n, &c.y_to_s));

	ASSERT_EQ(0, pipe(hold));
	ASSERT_EQ(0, worker_start(&w, hold, work_around_stalled_sender, &c));
	close(c.x);
	close(c.y);
	close(hold[0]);

	ASSERT_EQ(0, uffd_page_new(&u));
	st = (struct stalled){ .fd = s, .buf = u.addr, .len = 64,
			       .dst = s_to_r };
	ASSERT_EQ(0, pthread_create(&th, NULL, stalled_send, &st));
	ASSERT_EQ(0, uffd_wait_fault(&u, 10000));

	ASSERT_EQ(0, t_write_u64(w.go[1], 1));
	EXPECT_EQ(0, worker_report(&w, &status, &max_us));
	EXPECT_EQ(0, status);
	EXPECT_GT(PROMPT_US, max_us);
	TH_LOG("slowest call while S stalled: %llu us",
	       (unsigned long long)max_us);
	EXPECT_FALSE(atomic_load(&st.returned));

	ASSERT_EQ(0, uffd_resolve(&u, 0x5a));
	pthread_join(th, NULL);
	ASSERT_EQ(0, st.ret);
	/* The payload is what the page held once the fault was resolved. */
	ASSERT_EQ(0, t_recv(c.r, &m));
	ASSERT_EQ(1, m.meta.id);
	ASSERT_EQ(64, m.msg.n_data);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0x5a, (uint8_t)m.data[i]);
	ASSERT_EMPTY(c.r);
	ASSERT_EQ(0, t_recv(s, &m));
	ASSERT_EQ(1, m.msg.n_data);
	ASSERT_EQ('y', m.data[0]);
	ASSERT_EMPTY(s);
	close(hold[1]);
	ASSERT_EQ(0, t_wait(w.pid));
}

TEST_HARNESS_MAIN
