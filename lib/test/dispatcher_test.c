// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * struct bus1_dispatcher through the real module: ownership of the peer,
 * registration, routing of messages and notifications, fallback, errors,
 * bus1_dispatcher_run() and bus1_dispatcher_exit().
 */

#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include "lib-test.h"

struct record {
	int calls;
	uint64_t last_type;
	uint64_t last_id;
	char last_data[64];
	int ret;		/* what the callback returns */
	uint64_t take;		/* BUS1_INVALID, or: take handle 0 into here */
	bool take_handle;
	bool remove_self;
	int exit_code;		/* >= 0: call bus1_dispatcher_exit() */
	int nested;		/* result of a nested dispatch */
};

static void record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->take = BUS1_INVALID;
	r->exit_code = -1;
	r->nested = 1;
}

static int on_entry(struct bus1_dispatcher *d, struct bus1_msg *m,
		    void *userdata)
{
	struct record *r = userdata;
	const char *data;
	size_t size;

	++r->calls;
	r->last_type = bus1_msg_get_type(m);
	r->last_id = bus1_msg_get_id(m);
	data = bus1_msg_get_data(m, &size);
	snprintf(r->last_data, sizeof(r->last_data), "%.*s", (int)size, data);
	if (r->take_handle)
		r->take = bus1_msg_take_handle(m, 0);
	if (r->remove_self)
		bus1_dispatcher_remove(d, r->last_id);
	if (r->exit_code >= 0)
		bus1_dispatcher_exit(d, r->exit_code);
	if (r->nested == 0)
		r->nested = bus1_dispatcher_dispatch(d);
	return r->ret;
}

FIXTURE(disp) {
	struct bus1_dispatcher *d;
	int fd;		/* the dispatcher's peer */
	int other;	/* another peer */
};

FIXTURE_SETUP(disp)
{
	ASSERT_EQ(0, bus1_dispatcher_new(&self->d, -1));
	self->fd = bus1_dispatcher_get_fd(self->d);
	ASSERT_LE(0, self->fd);
	self->other = bus1_peer_new();
	ASSERT_LE(0, self->other);
}

FIXTURE_TEARDOWN(disp)
{
	bus1_dispatcher_free(self->d);
	bus1_peer_closep(&self->other);
}

TEST(new_owns_the_peer)
{
	struct bus1_dispatcher *d = NULL;
	int fd = bus1_peer_new(), got;

	EXPECT_EQ(-EINVAL, bus1_dispatcher_new(NULL, -1));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bus1_dispatcher_new(&d, fd));
	EXPECT_EQ(fd, bus1_dispatcher_get_fd(d));
	EXPECT_NULL(bus1_dispatcher_free(d));
	/* freeing closed the adopted descriptor */
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
	EXPECT_EQ(EBADF, errno);

	/* -1: a new peer of its own */
	ASSERT_EQ(0, bus1_dispatcher_new(&d, -1));
	got = bus1_dispatcher_get_fd(d);
	ASSERT_LE(0, got);
	EXPECT_EQ(0, bus1_node_create(got, -1, NULL, NULL));
	bus1_dispatcher_free(d);
	EXPECT_EQ(-1, fcntl(got, F_GETFD));

	EXPECT_EQ(-EINVAL, bus1_dispatcher_get_fd(NULL));
	EXPECT_NULL(bus1_dispatcher_free(NULL));
}

TEST(new_reports_open_failure)
{
	struct bus1_dispatcher *d = (struct bus1_dispatcher *)&d;

	ASSERT_EQ(0, setenv("BUS1_DEVICE", "/nonexistent/bus1", 1));
	EXPECT_EQ(-ENOENT, bus1_dispatcher_new(&d, -1));
	EXPECT_EQ((struct bus1_dispatcher *)&d, d);
}

TEST(cleanup_attribute_frees)
{
	int fd;

	{
		_cleanup_bus1_dispatcher_ struct bus1_dispatcher *d = NULL;

		ASSERT_EQ(0, bus1_dispatcher_new(&d, -1));
		fd = bus1_dispatcher_get_fd(d);
	}
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
}

TEST_F(disp, registration_rules)
{
	struct record r;

	record_init(&r);
	EXPECT_EQ(-EINVAL, bus1_dispatcher_add_node(NULL, 1, on_entry, &r));
	EXPECT_EQ(-EINVAL, bus1_dispatcher_add_node(self->d, 1, NULL, &r));
	EXPECT_EQ(-EINVAL, bus1_dispatcher_add_node(self->d, 2, on_entry, &r));
	EXPECT_EQ(-EINVAL, bus1_dispatcher_add_handle(self->d, BUS1_INVALID,
						      on_entry, &r));
	EXPECT_EQ(0, bus1_dispatcher_add_node(self->d, 1, on_entry, &r));
	EXPECT_EQ(-EEXIST, bus1_dispatcher_add_node(self->d, 1, on_entry, &r));
	EXPECT_EQ(-EEXIST, bus1_dispatcher_add_handle(self->d, 1, on_entry, &r));
	EXPECT_EQ(0, bus1_dispatcher_remove(self->d, 1));
	EXPECT_EQ(-ENOENT, bus1_dispatcher_remove(self->d, 1));
	EXPECT_EQ(-EINVAL, bus1_dispatcher_remove(NULL, 1));
	EXPECT_EQ(0, bus1_dispatcher_add_handle(self->d, 1, on_entry, &r));
	EXPECT_EQ(0, bus1_dispatcher_remove(self->d, 1));
	EXPECT_EQ(-EINVAL, bus1_dispatcher_dispatch(NULL));
	EXPECT_EQ(-EINVAL, bus1_dispatcher_run(NULL));
	bus1_dispatcher_exit(NULL, 0);
	bus1_dispatcher_set_fallback(NULL, on_entry, &r);
	EXPECT_EQ(0, r.calls);
}

TEST_F(disp, routes_messages_to_their_node)
{
	struct record r1, r2;
	uint64_t n1, h1, n2, h2;

	record_init(&r1);
	record_init(&r2);
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n1, &h1));
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n2, &h2));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n1, on_entry, &r1));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n2, on_entry, &r2));

	EXPECT_EQ(0, bus1_dispatcher_dispatch(self->d));

	ASSERT_EQ(0, t_send_str(self->other, h1, "one"));
	ASSERT_EQ(0, t_send_str(self->other, h2, "two"));
	ASSERT_EQ(0, t_send_str(self->other, h1, "three"));
	EXPECT_EQ(3, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(2, r1.calls);
	EXPECT_EQ(1, r2.calls);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_USER, r1.last_type);
	EXPECT_EQ(n1, r1.last_id);
	EXPECT_STREQ("three", r1.last_data);
	EXPECT_STREQ("two", r2.last_data);
	/* dispatched until EAGAIN */
	EXPECT_FALSE(t_readable(self->fd));
}

TEST_F(disp, routes_notifications_and_forgets_retired_ids)
{
	struct record node_rec, handle_rec;
	uint64_t n, h_other, n_other, h;

	record_init(&node_rec);
	record_init(&handle_rec);
	/* our node n with a handle in other; other's node with a handle h here */
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n, &h_other));
	ASSERT_EQ(0, bus1_node_create(self->other, self->fd, &n_other, &h));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n, on_entry, &node_rec));
	ASSERT_EQ(0, bus1_dispatcher_add_handle(self->d, h, on_entry, &handle_rec));

	/* other drops its handle (HANDLE_RELEASE) and its node (NODE_RELEASE) */
	ASSERT_EQ(0, bus1_cmd_release(self->other, 1, &h_other));
	ASSERT_EQ(0, bus1_cmd_release(self->other, 1, &n_other));
	EXPECT_EQ(2, bus1_dispatcher_dispatch(self->d));

	EXPECT_EQ(1, node_rec.calls);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, node_rec.last_type);
	EXPECT_EQ(n, node_rec.last_id);
	EXPECT_EQ(1, handle_rec.calls);
	EXPECT_EQ(BUS1_MESSAGE_TYPE_NODE_RELEASE, handle_rec.last_type);
	EXPECT_EQ(h, handle_rec.last_id);

	/* both IDs are retired, and so are their registrations */
	EXPECT_EQ(-ENOENT, bus1_dispatcher_remove(self->d, n));
	EXPECT_EQ(-ENOENT, bus1_dispatcher_remove(self->d, h));
}

TEST_F(disp, unrouted_entries_go_to_the_fallback_or_are_dropped)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	struct record fb, late;
	uint64_t n, h, n_other, h_carried;
	struct bus1_msg *m;

	record_init(&fb);
	record_init(&late);
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n, &h));
	ASSERT_EQ(0, bus1_node_create(self->other, self->other, &n_other,
				      &h_carried));

	/* nothing registered, no fallback: dropped, carried handles released */
	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_data(b, "lost", 4));
	ASSERT_EQ(0, bus1_msg_builder_add_handle(b, h_carried));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->other, 1, &h));
	ASSERT_EQ(0, bus1_cmd_release(self->other, 1, &h_carried));
	EXPECT_EQ(1, bus1_dispatcher_dispatch(self->d));
	ASSERT_EQ(0, bus1_msg_recv(self->other, &m));
	EXPECT_TRUE(bus1_msg_is_handle_release(m, NULL));
	EXPECT_EQ(n_other, bus1_msg_get_id(m));
	bus1_msg_free(m);

	/* with a fallback */
	bus1_dispatcher_set_fallback(self->d, on_entry, &fb);
	ASSERT_EQ(0, t_send_str(self->other, h, "fallback"));
	EXPECT_EQ(1, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(1, fb.calls);
	EXPECT_STREQ("fallback", fb.last_data);
	EXPECT_EQ(n, fb.last_id);

	/* a registration wins over the fallback */
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n, on_entry, &late));
	ASSERT_EQ(0, t_send_str(self->other, h, "routed"));
	EXPECT_EQ(1, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(1, fb.calls);
	EXPECT_EQ(1, late.calls);

	/* the fallback can be cleared again */
	ASSERT_EQ(0, bus1_dispatcher_remove(self->d, n));
	bus1_dispatcher_set_fallback(self->d, NULL, NULL);
	ASSERT_EQ(0, t_send_str(self->other, h, "dropped"));
	EXPECT_EQ(1, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(1, fb.calls);
}

TEST_F(disp, callback_errors_stop_dispatching)
{
	struct record r;
	uint64_t n, h;

	record_init(&r);
	r.ret = -ECANCELED;
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n, &h));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n, on_entry, &r));
	ASSERT_EQ(0, t_send_str(self->other, h, "a"));
	ASSERT_EQ(0, t_send_str(self->other, h, "b"));

	EXPECT_EQ(-ECANCELED, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(1, r.calls);
	EXPECT_STREQ("a", r.last_data);
	EXPECT_TRUE(t_readable(self->fd));	/* "b" is still queued */

	r.ret = 0;
	EXPECT_EQ(1, bus1_dispatcher_dispatch(self->d));
	EXPECT_STREQ("b", r.last_data);
}

TEST_F(disp, callbacks_may_take_handles_and_remove_themselves)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	struct record r;
	uint64_t n, h, n_other, h_other;

	record_init(&r);
	r.take_handle = true;
	r.remove_self = true;
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n, &h));
	ASSERT_EQ(0, bus1_node_create(self->other, self->other, &n_other,
				      &h_other));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n, on_entry, &r));

	ASSERT_EQ(0, bus1_msg_builder_new(&b));
	ASSERT_EQ(0, bus1_msg_builder_add_handle(b, h_other));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->other, 1, &h));
	ASSERT_EQ(0, bus1_msg_builder_send(b, self->other, 1, &h));
	ASSERT_EQ(0, bus1_cmd_release(self->other, 1, &h_other));

	EXPECT_EQ(2, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(1, r.calls);		/* removed itself after the first */
	ASSERT_NE(BUS1_INVALID, r.take);
	/* the taken handle outlived its message; the other one did not */
	EXPECT_TRUE(t_is_handle(self->fd, r.take));
	EXPECT_FALSE(t_readable(self->other));
	ASSERT_EQ(0, bus1_cmd_release(self->fd, 1, &r.take));
	EXPECT_TRUE(t_readable(self->other));	/* now the last one is gone */
}

TEST_F(disp, nested_dispatch_is_refused)
{
	struct record r;
	uint64_t n, h;

	record_init(&r);
	r.nested = 0;
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n, &h));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n, on_entry, &r));
	ASSERT_EQ(0, t_send_str(self->other, h, "x"));
	EXPECT_EQ(1, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(-EBUSY, r.nested);
}

TEST_F(disp, many_registrations)
{
	enum { N = 3000 };
	struct bus1_transfer *src = calloc(N, sizeof(*src));
	struct bus1_transfer *dst = calloc(N, sizeof(*dst));
	struct record *recs = calloc(N, sizeof(*recs));
	int i;

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, dst);
	ASSERT_NE(NULL, recs);
	for (i = 0; i < N; ++i)
		src[i] = (struct bus1_transfer){ BUS1_TRANSFER_FLAG_CREATE,
						 BUS1_INVALID };
	ASSERT_EQ(0, bus1_cmd_transfer(0, self->fd, self->other, N, src, dst));
	for (i = 0; i < N; ++i) {
		record_init(&recs[i]);
		ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, src[i].id,
						      on_entry, &recs[i]));
	}
	/* drop every third registration */
	for (i = 0; i < N; i += 3)
		ASSERT_EQ(0, bus1_dispatcher_remove(self->d, src[i].id));

	for (i = 0; i < N; ++i)
		ASSERT_EQ(0, t_send(self->other, dst[i].id, NULL, 0, 0, NULL));
	EXPECT_EQ(N, bus1_dispatcher_dispatch(self->d));
	for (i = 0; i < N; ++i) {
		ASSERT_EQ(i % 3 ? 1 : 0, recs[i].calls) TH_LOG("node %d", i);
		if (i % 3)
			ASSERT_EQ(src[i].id, recs[i].last_id);
	}
	free(src);
	free(dst);
	free(recs);
}

TEST_F(disp, run_waits_until_exit)
{
	struct record r;
	uint64_t n, h;
	pid_t pid;
	int status;

	record_init(&r);
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n, &h));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n, on_entry, &r));

	/* a child sends two messages, later; the second one ends the loop */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(100 * 1000);
		if (t_send_str(self->other, h, "first"))
			_exit(1);
		usleep(100 * 1000);
		_exit(t_send_str(self->other, h, "second") ? 1 : 0);
	}

	/* wait for the first message on the pollable descriptor */
	{
		struct pollfd p = { .fd = bus1_dispatcher_get_fd(self->d),
				    .events = POLLIN };

		ASSERT_EQ(1, poll(&p, 1, 5000));
	}
	ASSERT_EQ(1, bus1_dispatcher_dispatch(self->d));
	EXPECT_STREQ("first", r.last_data);

	/* run() sleeps until the second one, whose callback asks to exit */
	r.exit_code = 42;
	EXPECT_EQ(42, bus1_dispatcher_run(self->d));
	EXPECT_EQ(2, r.calls);
	EXPECT_STREQ("second", r.last_data);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(disp, exit_ends_run_right_after_the_callback)
{
	struct record r;
	uint64_t n, h;

	record_init(&r);
	r.exit_code = 7;
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n, &h));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n, on_entry, &r));
	ASSERT_EQ(0, t_send_str(self->other, h, "1"));
	ASSERT_EQ(0, t_send_str(self->other, h, "2"));

	/* run returns after the first callback asked for it */
	EXPECT_EQ(7, bus1_dispatcher_run(self->d));
	EXPECT_EQ(1, r.calls);
	EXPECT_TRUE(t_readable(self->fd));

	/* the request was consumed; the next run returns at its next exit */
	r.exit_code = 8;
	EXPECT_EQ(8, bus1_dispatcher_run(self->d));
	EXPECT_EQ(2, r.calls);

	/* dispatch drains the queue regardless ... */
	r.exit_code = 9;
	ASSERT_EQ(0, t_send_str(self->other, h, "3"));
	ASSERT_EQ(0, t_send_str(self->other, h, "4"));
	EXPECT_EQ(2, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(4, r.calls);

	/* ... and the request waits for the next run */
	r.exit_code = -1;
	EXPECT_EQ(9, bus1_dispatcher_run(self->d));
	EXPECT_EQ(4, r.calls);
}

TEST_F(disp, works_with_edge_triggered_epoll)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct record r;
	uint64_t n, h;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	record_init(&r);
	ASSERT_EQ(0, bus1_node_create(self->fd, self->other, &n, &h));
	ASSERT_EQ(0, bus1_dispatcher_add_node(self->d, n, on_entry, &r));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, bus1_dispatcher_get_fd(self->d),
			       &ev));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	ASSERT_EQ(0, t_send_str(self->other, h, "a"));
	ASSERT_EQ(0, t_send_str(self->other, h, "b"));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 1000));
	EXPECT_TRUE(ev.events & EPOLLIN);
	/* one edge, one dispatch: it drains everything */
	EXPECT_EQ(2, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	/* the next message is a new edge */
	ASSERT_EQ(0, t_send_str(self->other, h, "c"));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 1000));
	EXPECT_EQ(1, bus1_dispatcher_dispatch(self->d));
	EXPECT_EQ(3, r.calls);
	EXPECT_STREQ("c", r.last_data);
	close(ep);
}

TEST_F(disp, run_reports_a_closed_descriptor)
{
	/* A dispatcher whose descriptor was closed behind its back. */
	struct bus1_dispatcher *d;
	int fd = bus1_peer_new();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bus1_dispatcher_new(&d, fd));
	close(fd);
	EXPECT_EQ(-EBADF, bus1_dispatcher_run(d));
	EXPECT_EQ(-EBADF, bus1_dispatcher_dispatch(d));
	bus1_dispatcher_free(d);
}

TEST_HARNESS_MAIN
