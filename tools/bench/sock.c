// SPDX-License-Identifier: GPL-2.0
/*
 * The baselines: AF_UNIX SOCK_SEQPACKET socket pairs and pipes.
 *
 * A pipe cannot carry an empty message, so the 0-byte pipe case moves one
 * byte (reported as "wire_bytes").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench.h"

/* One direction-pair end: where to write, where to read, and an epoll. */
struct sock_end {
	int wfd;
	int rfd;
	int ep;
	int is_pipe;
};

static void sock_send(struct sock_end *e, const void *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	if (!e->is_pipe) {
		r = send(e->wfd, buf, n, 0);
		if (r != (ssize_t)n)
			bench_die_errno("send");
		return;
	}
	/* the pipe is empty in a ping-pong, so this is one write */
	while (done < n) {
		r = write(e->wfd, (const char *)buf + done, n - done);
		if (r < 0)
			bench_die_errno("write");
		done += r;
	}
}

/* Block in epoll until the whole message is there, then take it. */
static void sock_recv(struct sock_end *e, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	for (;;) {
		bench_epoll_wait(e->ep);
		if (!e->is_pipe) {
			r = recv(e->rfd, buf, BENCH_MAX_PAYLOAD, 0);
			if (r >= 0) {
				if ((size_t)r != n)
					bench_die("recv: %zd bytes, expected %zu",
						  r, n);
				return;
			}
		} else {
			r = read(e->rfd, (char *)buf + got, n - got);
			if (r > 0) {
				got += r;
				if (got == n)
					return;
				continue;
			}
			if (!r)
				bench_die("read: end of file");
		}
		if (errno != EAGAIN)
			bench_die_errno("recv/read");
	}
}

static void sock_open(const struct bench_opts *o, struct sock_end *client,
		      struct sock_end *server)
{
	int sv[2], a[2], b[2];

	memset(client, 0, sizeof(*client));
	memset(server, 0, sizeof(*server));
	if (!strcmp(o->transport, "unix")) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
			bench_die_errno("socketpair");
		client->wfd = client->rfd = sv[0];
		server->wfd = server->rfd = sv[1];
	} else {
		if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC))
			bench_die_errno("pipe2");
		client->is_pipe = server->is_pipe = 1;
		client->wfd = a[1];
		server->rfd = a[0];
		server->wfd = b[1];
		client->rfd = b[0];
	}
	bench_set_nonblock(client->rfd);
	bench_set_nonblock(server->rfd);
}

static void sock_close(struct sock_end *e)
{
	close(e->rfd);
	if (e->wfd != e->rfd)
		close(e->wfd);
}

static size_t sock_wire_bytes(const struct bench_opts *o)
{
	return (!strcmp(o->transport, "pipe") && !o->size) ? 1 : o->size;
}

int bench_sock_rtt(const struct bench_opts *o)
{
	unsigned long total = o->warmup + o->iters, i;
	size_t n = sock_wire_bytes(o);
	struct sock_end client, server;
	struct bench_samples s;
	char *buf, *rbuf, extra[64];
	uint64_t t0;
	pid_t pid;

	buf = bench_alloc(BENCH_MAX_PAYLOAD);
	rbuf = bench_alloc(BENCH_MAX_PAYLOAD);
	sock_open(o, &client, &server);

	pid = bench_fork();
	if (!pid) {
		sock_close(&client);
		server.ep = bench_epoll_new();
		bench_epoll_add(server.ep, server.rfd, 0);
		for (i = 0; i < total; ++i) {
			sock_recv(&server, rbuf, n);
			bench_check_stamp(rbuf, n, i, "server");
			sock_send(&server, rbuf, n);
		}
		_exit(0);
	}

	sock_close(&server);
	client.ep = bench_epoll_new();
	bench_epoll_add(client.ep, client.rfd, 0);
	bench_samples_init(&s, o->iters);
	for (i = 0; i < total; ++i) {
		if (i == o->warmup)
			bench_mark_loop();
		bench_stamp(buf, n, i);
		t0 = bench_now();
		sock_send(&client, buf, n);
		sock_recv(&client, rbuf, n);
		if (i >= o->warmup)
			bench_samples_add(&s, bench_now() - t0);
		bench_check_stamp(rbuf, n, i, "client");
	}
	bench_mark_loop();
	bench_wait_child(pid, "server");
	snprintf(extra, sizeof(extra), "\"wire_bytes\":%zu", n);
	bench_report("rtt", o->transport, o->size, o, &s, extra);
	bench_samples_free(&s);
	sock_close(&client);
	free(buf);
	free(rbuf);
	return 0;
}

/* Same-thread: write to one end and read from the other, no waiting. */
int bench_sock_self(const struct bench_opts *o)
{
	unsigned long total = o->warmup + o->iters, i;
	size_t n = sock_wire_bytes(o), got;
	struct sock_end client, server;
	struct bench_samples s;
	char *buf, *rbuf, extra[64];
	uint64_t t0;
	ssize_t r;

	buf = bench_alloc(BENCH_MAX_PAYLOAD);
	rbuf = bench_alloc(BENCH_MAX_PAYLOAD);
	sock_open(o, &client, &server);
	bench_samples_init(&s, o->iters);
	for (i = 0; i < total; ++i) {
		if (i == o->warmup)
			bench_mark_loop();
		bench_stamp(buf, n, i);
		t0 = bench_now();
		sock_send(&client, buf, n);
		if (!client.is_pipe) {
			r = recv(server.rfd, rbuf, BENCH_MAX_PAYLOAD, 0);
			if (r != (ssize_t)n)
				bench_die_errno("recv");
		} else {
			for (got = 0; got < n; got += r) {
				r = read(server.rfd, rbuf + got, n - got);
				if (r <= 0)
					bench_die_errno("read");
			}
		}
		if (i >= o->warmup)
			bench_samples_add(&s, bench_now() - t0);
		bench_check_stamp(rbuf, n, i, "self");
	}
	bench_mark_loop();
	snprintf(extra, sizeof(extra), "\"wire_bytes\":%zu", n);
	bench_report("self", o->transport, o->size, o, &s, extra);
	bench_samples_free(&s);
	sock_close(&client);
	sock_close(&server);
	free(buf);
	free(rbuf);
	return 0;
}
