// SPDX-License-Identifier: GPL-2.0
/*
 * The bus1 side of the benchmarks: round trip, same-thread send+recv,
 * multicast, scaling with the number of handles, and kernel memory per
 * object.
 *
 * Peers are opened and wired together with TRANSFER in the parent, before
 * it forks: TRANSFER needs both file descriptors in one process. Each
 * process then closes the peers it does not use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/bus1.h>
#include "bench.h"

#define B1_STOP UINT64_MAX	/* multicast: stamp that ends a receiver */
#define B1_CHUNK 4096		/* objects per TRANSFER / SEND in setups */

static int b1_open(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		bench_die_errno(dev);
	return fd;
}

/*
 * n CREATE elements from @from to @to_fd (-1: @from itself): nodes[i] in
 * @from, handles[i] in the destination. Either array may be NULL.
 */
static void b1_create(int from, int to_fd, size_t n, uint64_t *nodes,
		      uint64_t *handles)
{
	struct bus1_transfer *src, *dst;
	struct bus1_cmd_transfer cmd;
	size_t i;

	src = bench_alloc(n * sizeof(*src));
	dst = bench_alloc(n * sizeof(*dst));
	for (i = 0; i < n; ++i) {
		src[i].flags = BUS1_TRANSFER_FLAG_CREATE;
		src[i].id = BUS1_INVALID;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.to = to_fd < 0 ? BUS1_INVALID : (uint64_t)to_fd;
	cmd.n_transfers = n;
	cmd.ptr_src = BUS1_FROM_PTR(src);
	cmd.ptr_dst = BUS1_FROM_PTR(dst);
	if (ioctl(from, BUS1_CMD_TRANSFER, &cmd))
		bench_die_errno("BUS1_CMD_TRANSFER");
	for (i = 0; i < n; ++i) {
		if (nodes)
			nodes[i] = src[i].id;
		if (handles)
			handles[i] = dst[i].id;
	}
	free(src);
	free(dst);
}

static void b1_send(int fd, const uint64_t *dests, size_t n_dests,
		    int32_t *errors, const void *buf, size_t n)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	struct bus1_message msg = {
		.type = BUS1_MESSAGE_TYPE_USER,
		.n_data = n,
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&iov),
	};
	struct bus1_cmd_send cmd = {
		.n_destinations = n_dests,
		.ptr_destinations = BUS1_FROM_PTR(dests),
		.ptr_errors = BUS1_FROM_PTR(errors),
		.ptr_message = BUS1_FROM_PTR(&msg),
	};

	if (ioctl(fd, BUS1_CMD_SEND, &cmd))
		bench_die_errno("BUS1_CMD_SEND");
}

/* One RECV; returns the payload size, or -1 with errno (EAGAIN). */
static ssize_t b1_recv(int fd, void *buf, size_t cap,
		       struct bus1_metadata *meta)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct bus1_message msg = {
		.type = BUS1_INVALID,
		.n_data = cap,
		.n_data_vecs = 1,
		.ptr_data_vecs = BUS1_FROM_PTR(&iov),
	};
	struct bus1_cmd_recv cmd = {
		.ptr_metadata = BUS1_FROM_PTR(meta),
		.ptr_message = BUS1_FROM_PTR(&msg),
	};

	if (ioctl(fd, BUS1_CMD_RECV, &cmd))
		return -1;
	if (msg.type != BUS1_MESSAGE_TYPE_USER)
		bench_die("RECV: unexpected message type %llu",
			  (unsigned long long)msg.type);
	return (ssize_t)msg.n_data;
}

/* Block in epoll until a message is there, then receive it. */
static size_t b1_wait_recv(int ep, int fd, void *buf, size_t cap,
			   struct bus1_metadata *meta)
{
	ssize_t r;

	for (;;) {
		bench_epoll_wait(ep);
		r = b1_recv(fd, buf, cap, meta);
		if (r >= 0)
			return (size_t)r;
		if (errno != EAGAIN)
			bench_die_errno("BUS1_CMD_RECV");
	}
}

int bench_bus1_rtt(const struct bench_opts *o)
{
	unsigned long total = o->warmup + o->iters, i;
	uint64_t s_node, c_node, c2s, s2c, t0;
	struct bus1_metadata meta;
	struct bench_samples s;
	char *buf, *rbuf;
	int c, srv, ep;
	int32_t err;
	size_t n;
	pid_t pid;

	buf = bench_alloc(BENCH_MAX_PAYLOAD);
	rbuf = bench_alloc(BENCH_MAX_PAYLOAD);
	c = b1_open(o->device);
	srv = b1_open(o->device);
	b1_create(srv, c, 1, &s_node, &c2s);
	b1_create(c, srv, 1, &c_node, &s2c);

	pid = bench_fork();
	if (!pid) {
		close(c);
		ep = bench_epoll_new();
		bench_epoll_add(ep, srv, 0);
		for (i = 0; i < total; ++i) {
			n = b1_wait_recv(ep, srv, rbuf, BENCH_MAX_PAYLOAD,
					 &meta);
			if (n != o->size || meta.id != s_node)
				bench_die("server: %zu bytes on %llu", n,
					  (unsigned long long)meta.id);
			bench_check_stamp(rbuf, n, i, "server");
			b1_send(srv, &s2c, 1, &err, rbuf, n);
		}
		_exit(0);
	}

	close(srv);
	ep = bench_epoll_new();
	bench_epoll_add(ep, c, 0);
	bench_samples_init(&s, o->iters);
	for (i = 0; i < total; ++i) {
		if (i == o->warmup)
			bench_mark_loop();
		bench_stamp(buf, o->size, i);
		t0 = bench_now();
		b1_send(c, &c2s, 1, &err, buf, o->size);
		n = b1_wait_recv(ep, c, rbuf, BENCH_MAX_PAYLOAD, &meta);
		if (i >= o->warmup)
			bench_samples_add(&s, bench_now() - t0);
		if (n != o->size || meta.id != c_node)
			bench_die("client: %zu bytes on %llu", n,
				  (unsigned long long)meta.id);
		bench_check_stamp(rbuf, n, i, "client");
	}
	bench_mark_loop();
	bench_wait_child(pid, "bus1 server");
	bench_report("rtt", "bus1", o->size, o, &s, NULL);
	bench_samples_free(&s);
	close(c);
	close(ep);
	free(buf);
	free(rbuf);
	return 0;
}

int bench_bus1_self(const struct bench_opts *o)
{
	unsigned long total = o->warmup + o->iters, i;
	struct bus1_metadata meta;
	struct bench_samples s;
	uint64_t node, handle, t0;
	char *buf, *rbuf;
	int32_t err;
	ssize_t n;
	int p;

	buf = bench_alloc(BENCH_MAX_PAYLOAD);
	rbuf = bench_alloc(BENCH_MAX_PAYLOAD);
	p = b1_open(o->device);
	b1_create(p, -1, 1, &node, &handle);

	bench_samples_init(&s, o->iters);
	for (i = 0; i < total; ++i) {
		if (i == o->warmup)
			bench_mark_loop();
		bench_stamp(buf, o->size, i);
		t0 = bench_now();
		b1_send(p, &handle, 1, &err, buf, o->size);
		n = b1_recv(p, rbuf, BENCH_MAX_PAYLOAD, &meta);
		if (i >= o->warmup)
			bench_samples_add(&s, bench_now() - t0);
		if (n < 0)
			bench_die_errno("BUS1_CMD_RECV");
		if ((size_t)n != o->size || meta.id != node)
			bench_die("self: %zd bytes on %llu", n,
				  (unsigned long long)meta.id);
		bench_check_stamp(rbuf, n, i, "self");
	}
	bench_mark_loop();
	bench_report("self", "bus1", o->size, o, &s, NULL);
	bench_samples_free(&s);
	close(p);
	free(buf);
	free(rbuf);
	return 0;
}

/*
 * Multicast receivers. Each receiver peer acknowledges every message with
 * an empty message to the sender; a message stamped B1_STOP ends it.
 */
static void b1_mc_receive(int ep, const int *fds, const uint64_t *nodes,
			  const uint64_t *acks, unsigned int n, size_t size)
{
	struct bus1_metadata meta;
	unsigned int left = n;
	uint64_t stamp, idx;
	char buf[256];
	int32_t err;
	ssize_t r;

	while (left) {
		idx = bench_epoll_wait(ep);
		r = b1_recv(fds[idx], buf, sizeof(buf), &meta);
		if (r < 0) {
			if (errno == EAGAIN)
				continue;
			bench_die_errno("receiver: BUS1_CMD_RECV");
		}
		if ((size_t)r != size || meta.id != nodes[idx])
			bench_die("receiver: %zd bytes on %llu", r,
				  (unsigned long long)meta.id);
		memcpy(&stamp, buf, sizeof(stamp));
		if (stamp == B1_STOP) {
			--left;
			continue;
		}
		b1_send(fds[idx], &acks[idx], 1, &err, NULL, 0);
	}
}

int bench_bus1_multicast(const struct bench_opts *o)
{
	unsigned int d = o->max_dests, n, k, got;
	uint64_t *r_nodes, *s_handles, *s_nodes, *r_acks, t0, t1;
	unsigned long total = o->warmup + o->iters, i;
	int procs = !strcmp(o->mode, "procs");
	struct bus1_metadata meta;
	struct bench_samples s;
	pid_t *pids, pid;
	char buf[256], extra[96];
	size_t size = 64;
	int32_t *errs;
	int sender, ep, *fds;
	unsigned int j;

	if (!d || d > 4096)
		bench_die("--max-dests must be 1..4096");
	if (!procs && strcmp(o->mode, "epoll"))
		bench_die("--mode must be procs or epoll");

	fds = bench_alloc(d * sizeof(*fds));
	r_nodes = bench_alloc(d * sizeof(*r_nodes));
	s_handles = bench_alloc(d * sizeof(*s_handles));
	s_nodes = bench_alloc(d * sizeof(*s_nodes));
	r_acks = bench_alloc(d * sizeof(*r_acks));
	errs = bench_alloc(d * sizeof(*errs));
	pids = bench_alloc(d * sizeof(*pids));

	sender = b1_open(o->device);
	for (j = 0; j < d; ++j) {
		fds[j] = b1_open(o->device);
		b1_create(fds[j], sender, 1, &r_nodes[j], &s_handles[j]);
		b1_create(sender, fds[j], 1, &s_nodes[j], &r_acks[j]);
	}

	for (j = 0; j < (procs ? d : 1); ++j) {
		pid = bench_fork();
		if (pid) {
			pids[j] = pid;
			continue;
		}
		close(sender);
		ep = bench_epoll_new();
		if (procs) {
			for (k = 0; k < d; ++k)
				if (k != j)
					close(fds[k]);
			bench_epoll_add(ep, fds[j], j);
			/* b1_mc_receive indexes the arrays by j */
			b1_mc_receive(ep, fds, r_nodes, r_acks, 1, size);
		} else {
			for (k = 0; k < d; ++k)
				bench_epoll_add(ep, fds[k], k);
			b1_mc_receive(ep, fds, r_nodes, r_acks, d, size);
		}
		_exit(0);
	}
	for (j = 0; j < d; ++j)
		close(fds[j]);

	ep = bench_epoll_new();
	bench_epoll_add(ep, sender, 0);
	memset(buf, 0x5a, sizeof(buf));
	/* a woken receiver must not run between SEND and the timestamp */
	bench_set_fifo();
	for (n = o->only_dests ? d : 1;; n = n * 2 > d ? d : n * 2) {
		bench_samples_init(&s, o->iters);
		for (i = 0; i < total; ++i) {
			if (i == o->warmup)
				bench_mark_loop();
			bench_stamp(buf, size, i);
			if (i >= o->warmup)
				bench_mark_op();
			t0 = bench_now();
			b1_send(sender, s_handles, n, errs, buf, size);
			t1 = bench_now();
			if (i >= o->warmup) {
				bench_mark_op();
				bench_samples_add(&s, t1 - t0);
			}
			/* one ack per destination before the next send */
			for (got = 0; got < n;) {
				bench_epoll_wait(ep);
				while (got < n &&
				       b1_recv(sender, buf, sizeof(buf),
					       &meta) >= 0)
					++got;
				if (got < n && errno != EAGAIN)
					bench_die_errno("sender: RECV");
			}
			bench_settle();
		}
		bench_mark_loop();
		snprintf(extra, sizeof(extra), "\"dests\":%u", n);
		bench_report("multicast", procs ? "bus1-procs" : "bus1-epoll",
			     size, o, &s, extra);
		bench_samples_free(&s);
		if (n == d)
			break;
	}

	bench_stamp(buf, size, B1_STOP);
	b1_send(sender, s_handles, d, errs, buf, size);
	for (j = 0; j < (procs ? d : 1); ++j)
		bench_wait_child(pids[j], "multicast receiver");
	close(sender);
	close(ep);
	free(fds);
	free(r_nodes);
	free(s_handles);
	free(s_nodes);
	free(r_acks);
	free(errs);
	free(pids);
	return 0;
}

static uint64_t b1_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

int bench_bus1_scale(const struct bench_opts *o)
{
	unsigned long total = o->warmup + o->iters, i;
	struct bench_samples s_send, s_rtt, s_recv;
	uint64_t *nodes, *handles, *pick, seed = 0x9e3779b97f4a7c15ull;
	uint64_t reply_node, r2s, t0, t1, stamp[2];
	size_t h = o->handles, done, k, n, size = o->size;
	struct bus1_metadata meta;
	char *buf, *rbuf, extra[96];
	int snd, rcv, ep;
	int32_t err;
	pid_t pid;

	if (!h)
		bench_die("--handles must be at least 1");
	if (size < sizeof(stamp))
		bench_die("scale needs a payload of at least %zu bytes",
			  sizeof(stamp));
	buf = bench_alloc(BENCH_MAX_PAYLOAD);
	rbuf = bench_alloc(BENCH_MAX_PAYLOAD);
	nodes = bench_alloc(h * sizeof(*nodes));
	handles = bench_alloc(h * sizeof(*handles));
	pick = bench_alloc(total * sizeof(*pick));

	snd = b1_open(o->device);
	rcv = b1_open(o->device);
	t0 = bench_now();
	for (done = 0; done < h; done += k) {
		k = h - done < B1_CHUNK ? h - done : B1_CHUNK;
		b1_create(rcv, snd, k, nodes + done, handles + done);
	}
	t1 = bench_now();
	fprintf(stderr, "scale: %zu nodes and handles created in %.1f s\n", h,
		(double)(t1 - t0) / 1e9);
	b1_create(snd, rcv, 1, &reply_node, &r2s);
	for (i = 0; i < total; ++i)
		pick[i] = b1_rand(&seed) % h;

	pid = bench_fork();
	if (!pid) {
		close(snd);
		ep = bench_epoll_new();
		bench_epoll_add(ep, rcv, 0);
		bench_samples_init(&s_recv, o->iters);
		for (i = 0; i < total; ++i) {
			bench_epoll_wait(ep);
			if (i >= o->warmup)
				bench_mark_op();
			t0 = bench_now();
			n = b1_recv(rcv, rbuf, BENCH_MAX_PAYLOAD, &meta);
			t1 = bench_now();
			if (i >= o->warmup)
				bench_mark_op();
			if ((ssize_t)n < 0)
				bench_die_errno("scale receiver: RECV");
			if (i >= o->warmup)
				bench_samples_add(&s_recv, t1 - t0);
			memcpy(stamp, rbuf, sizeof(stamp));
			if (n != size || stamp[0] != i || stamp[1] != pick[i] ||
			    meta.id != nodes[pick[i]])
				bench_die("scale receiver: wrong message %lu",
					  i);
			b1_send(rcv, &r2s, 1, &err, rbuf, n);
		}
		snprintf(extra, sizeof(extra), "\"handles\":%zu", h);
		bench_report("scale-recv", "bus1", size, o, &s_recv, extra);
		_exit(0);
	}

	close(rcv);
	free(nodes);
	bench_set_fifo();
	ep = bench_epoll_new();
	bench_epoll_add(ep, snd, 0);
	bench_samples_init(&s_send, o->iters);
	bench_samples_init(&s_rtt, o->iters);
	for (i = 0; i < total; ++i) {
		if (i == o->warmup)
			bench_mark_loop();
		stamp[0] = i;
		stamp[1] = pick[i];
		memcpy(buf, stamp, sizeof(stamp));
		if (i >= o->warmup)
			bench_mark_op();
		t0 = bench_now();
		b1_send(snd, &handles[pick[i]], 1, &err, buf, size);
		t1 = bench_now();
		if (i >= o->warmup)
			bench_mark_op();
		n = b1_wait_recv(ep, snd, rbuf, BENCH_MAX_PAYLOAD, &meta);
		if (i >= o->warmup) {
			bench_samples_add(&s_send, t1 - t0);
			bench_samples_add(&s_rtt, bench_now() - t0);
		}
		if (n != size || meta.id != reply_node)
			bench_die("scale sender: wrong reply %lu", i);
		bench_settle();
	}
	bench_mark_loop();
	bench_wait_child(pid, "scale receiver");
	snprintf(extra, sizeof(extra), "\"handles\":%zu", h);
	bench_report("scale-send", "bus1", size, o, &s_send, extra);
	bench_report("scale-rtt", "bus1", size, o, &s_rtt, extra);
	bench_samples_free(&s_send);
	bench_samples_free(&s_rtt);
	t0 = bench_now();
	close(snd);
	fprintf(stderr, "scale: sender closed in %.1f s\n",
		(double)(bench_now() - t0) / 1e9);
	close(ep);
	free(handles);
	free(pick);
	free(buf);
	free(rbuf);
	return 0;
}

/* Slab caches: name, objects and object size, from /proc/slabinfo. */
struct b1_slab {
	char name[64];
	unsigned long objs;	/* active objects */
	unsigned long size;
};

struct b1_snapshot {
	unsigned long slab_kb;
	unsigned long vmalloc_kb;
	struct b1_slab *caches;
	size_t n;
};

static void b1_snapshot(struct b1_snapshot *snap)
{
	char line[512], key[64];
	unsigned long v, active, objs, size;
	FILE *f;

	memset(snap, 0, sizeof(*snap));
	f = fopen("/proc/meminfo", "r");
	if (!f)
		bench_die_errno("/proc/meminfo");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %lu", key, &v) != 2)
			continue;
		if (!strcmp(key, "Slab"))
			snap->slab_kb = v;
		else if (!strcmp(key, "VmallocUsed"))
			snap->vmalloc_kb = v;
	}
	fclose(f);

	f = fopen("/proc/slabinfo", "r");
	if (!f)
		bench_die_errno("/proc/slabinfo");
	snap->caches = bench_alloc(1024 * sizeof(*snap->caches));
	while (fgets(line, sizeof(line), f) && snap->n < 1024) {
		if (sscanf(line, "%63s %lu %lu %lu", key, &active, &objs,
			   &size) != 4)
			continue;
		snprintf(snap->caches[snap->n].name,
			 sizeof(snap->caches[snap->n].name), "%s", key);
		snap->caches[snap->n].objs = active;
		snap->caches[snap->n].size = size;
		++snap->n;
	}
	fclose(f);
}

/* Print the memory result: the Slab delta and the caches that grew. */
static void b1_mem_report(const struct bench_opts *o, const char *object,
			  size_t payload, unsigned long count,
			  const struct b1_snapshot *a,
			  const struct b1_snapshot *b)
{
	long slab = ((long)b->slab_kb - (long)a->slab_kb) * 1024;
	long vm = ((long)b->vmalloc_kb - (long)a->vmalloc_kb) * 1024;
	const char *sep = "";
	size_t i, j;
	long grew;

	printf("bench-result {\"test\":\"mem\",\"transport\":\"bus1\","
	       "\"object\":\"%s\",\"size\":%zu,\"round\":%u,\"count\":%lu,"
	       "\"slab_bytes\":%ld,\"vmalloc_bytes\":%ld,"
	       "\"bytes_per_object\":%.1f,\"caches\":{",
	       object, payload, o->round, count, slab, vm,
	       (double)(slab + vm) / (double)count);
	for (i = 0; i < b->n; ++i) {
		grew = (long)(b->caches[i].objs * b->caches[i].size);
		for (j = 0; j < a->n; ++j) {
			if (!strcmp(a->caches[j].name, b->caches[i].name)) {
				grew -= (long)(a->caches[j].objs *
					       a->caches[j].size);
				break;
			}
		}
		/* caches that grew by at least 1 byte per object */
		if (grew >= (long)count) {
			printf("%s\"%s\":%ld", sep, b->caches[i].name, grew);
			sep = ",";
		}
	}
	printf("}}\n");
	fflush(stdout);
}

static void b1_snapshot_free(struct b1_snapshot *snap)
{
	free(snap->caches);
	snap->caches = NULL;
}

int bench_bus1_mem(const struct bench_opts *o)
{
	struct bus1_transfer *src, *dst;
	struct bus1_cmd_transfer tcmd;
	struct bus1_cmd_send scmd;
	struct bus1_message msg;
	struct b1_snapshot a, b;
	uint64_t node, handle;
	unsigned long done, k, n;
	size_t sizes[] = { 0, 64, 65536 }, z;
	char *payload;
	int p, q;
	int32_t err;

	src = bench_alloc(B1_CHUNK * sizeof(*src));
	dst = bench_alloc(B1_CHUNK * sizeof(*dst));

	/* nodes alone: SEND with CREATE transfers and no destination */
	p = b1_open(o->device);
	b1_snapshot(&a);
	for (done = 0; done < o->count; done += k) {
		k = o->count - done < B1_CHUNK ? o->count - done : B1_CHUNK;
		for (z = 0; z < k; ++z) {
			src[z].flags = BUS1_TRANSFER_FLAG_CREATE;
			src[z].id = BUS1_INVALID;
		}
		memset(&msg, 0, sizeof(msg));
		msg.type = BUS1_MESSAGE_TYPE_USER;
		msg.n_transfers = k;
		msg.ptr_transfers = BUS1_FROM_PTR(src);
		memset(&scmd, 0, sizeof(scmd));
		scmd.ptr_message = BUS1_FROM_PTR(&msg);
		if (ioctl(p, BUS1_CMD_SEND, &scmd))
			bench_die_errno("mem: SEND with CREATE");
	}
	b1_snapshot(&b);
	b1_mem_report(o, "node", 0, o->count, &a, &b);
	b1_snapshot_free(&a);
	b1_snapshot_free(&b);
	close(p);

	/* handles alone: TRANSFER copies of one handle into another peer */
	p = b1_open(o->device);
	q = b1_open(o->device);
	b1_create(p, -1, 1, &node, &handle);
	b1_snapshot(&a);
	for (done = 0; done < o->count; done += k) {
		k = o->count - done < B1_CHUNK ? o->count - done : B1_CHUNK;
		for (z = 0; z < k; ++z) {
			src[z].flags = 0;
			src[z].id = handle;
		}
		memset(&tcmd, 0, sizeof(tcmd));
		tcmd.to = (uint64_t)q;
		tcmd.n_transfers = k;
		tcmd.ptr_src = BUS1_FROM_PTR(src);
		tcmd.ptr_dst = BUS1_FROM_PTR(dst);
		if (ioctl(p, BUS1_CMD_TRANSFER, &tcmd))
			bench_die_errno("mem: TRANSFER");
	}
	b1_snapshot(&b);
	b1_mem_report(o, "handle", 0, o->count, &a, &b);
	b1_snapshot_free(&a);
	b1_snapshot_free(&b);
	close(q);
	close(p);

	/*
	 * Queued messages: nobody receives them. 64 KiB messages are fewer
	 * (count / 100), or they would not fit the VM.
	 */
	payload = bench_alloc(BENCH_MAX_PAYLOAD);
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); ++z) {
		n = sizes[z] > 4096 ? o->count / 100 : o->count;
		if (!n)
			n = 1;
		p = b1_open(o->device);
		q = b1_open(o->device);
		b1_create(q, p, 1, &node, &handle);
		b1_snapshot(&a);
		for (done = 0; done < n; ++done)
			b1_send(p, &handle, 1, &err, payload, sizes[z]);
		b1_snapshot(&b);
		b1_mem_report(o, "message", sizes[z], n, &a, &b);
		b1_snapshot_free(&a);
		b1_snapshot_free(&b);
		close(q);
		close(p);
	}

	free(payload);
	free(src);
	free(dst);
	return 0;
}
