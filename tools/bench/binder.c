// SPDX-License-Identifier: GPL-2.0
/*
 * The binder round trip: a context manager (server) and a client doing
 * BC_TRANSACTION / BC_REPLY round trips with a payload buffer, on a device
 * created through binderfs.
 *
 * Both sides wait in epoll like the other transports, and each side makes
 * three system calls per round trip, like the other transports:
 *   client: write (BC_FREE_BUFFER of the last reply + BC_TRANSACTION),
 *           epoll_wait, read (BR_TRANSACTION_COMPLETE + BR_REPLY);
 *   server: epoll_wait, read (BR_TRANSACTION), write+read (BC_FREE_BUFFER
 *           + BC_REPLY, collecting BR_TRANSACTION_COMPLETE).
 * The receiver reads the payload in place in its binder mapping (binder's
 * one copy); it is not copied again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/android/binder.h>
#include <linux/android/binderfs.h>
#include "bench.h"

#define BINDERFS_DIR "/dev/binderfs"
#define BINDER_NAME "bus1-bench"
#define BINDER_MAP_SIZE (1024 * 1024)

/* Mount binderfs and create our device unless that was done already. */
static const char *binder_device(void)
{
	static char path[] = BINDERFS_DIR "/" BINDER_NAME;
	struct binderfs_device dev;
	int fd;

	if (!access(path, F_OK))
		return path;
	if (mkdir(BINDERFS_DIR, 0755) && errno != EEXIST)
		bench_die_errno("mkdir " BINDERFS_DIR);
	if (access(BINDERFS_DIR "/binder-control", F_OK) &&
	    mount("binder", BINDERFS_DIR, "binder", 0, NULL))
		bench_die_errno("mount binderfs");
	fd = open(BINDERFS_DIR "/binder-control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		bench_die_errno("binder-control");
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.name, sizeof(dev.name), "%s", BINDER_NAME);
	if (ioctl(fd, BINDER_CTL_ADD, &dev))
		bench_die_errno("BINDER_CTL_ADD");
	close(fd);
	return path;
}

struct binder_end {
	int fd;
	int ep;
	void *map;
	/* commands to write, accumulated */
	unsigned char wbuf[256];
	size_t wlen;
	unsigned char rbuf[1024];
};

static void binder_open_end(struct binder_end *e, const char *path)
{
	struct binder_version v;

	e->fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (e->fd < 0)
		bench_die_errno(path);
	if (ioctl(e->fd, BINDER_VERSION, &v))
		bench_die_errno("BINDER_VERSION");
	if (v.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION)
		bench_die("binder protocol %d, built for %d",
			  v.protocol_version, BINDER_CURRENT_PROTOCOL_VERSION);
	e->map = mmap(NULL, BINDER_MAP_SIZE, PROT_READ, MAP_PRIVATE, e->fd, 0);
	if (e->map == MAP_FAILED)
		bench_die_errno("binder mmap");
	e->wlen = 0;
}

static void binder_put(struct binder_end *e, uint32_t cmd, const void *arg,
		       size_t size)
{
	if (e->wlen + sizeof(cmd) + size > sizeof(e->wbuf))
		bench_die("binder write buffer full");
	memcpy(e->wbuf + e->wlen, &cmd, sizeof(cmd));
	e->wlen += sizeof(cmd);
	memcpy(e->wbuf + e->wlen, arg, size);
	e->wlen += size;
}

static void binder_put_txn(struct binder_end *e, uint32_t cmd,
			   const void *buf, size_t size)
{
	struct binder_transaction_data tr;

	memset(&tr, 0, sizeof(tr));
	tr.target.handle = 0;	/* the context manager; ignored for replies */
	tr.code = 1;
	tr.data_size = size;
	tr.data.ptr.buffer = (binder_uintptr_t)(uintptr_t)buf;
	binder_put(e, cmd, &tr, sizeof(tr));
}

/*
 * One BINDER_WRITE_READ: write what was put, read if @read. Returns the
 * number of bytes read into e->rbuf, or -1 with errno EAGAIN when a read
 * found nothing.
 */
static ssize_t binder_io(struct binder_end *e, int read)
{
	struct binder_write_read bwr = {
		.write_size = e->wlen,
		.write_buffer = (binder_uintptr_t)(uintptr_t)e->wbuf,
		.read_size = read ? sizeof(e->rbuf) : 0,
		.read_buffer = (binder_uintptr_t)(uintptr_t)e->rbuf,
	};

	if (ioctl(e->fd, BINDER_WRITE_READ, &bwr)) {
		if (errno == EAGAIN && bwr.write_consumed == e->wlen) {
			e->wlen = 0;
			return -1;
		}
		bench_die_errno("BINDER_WRITE_READ");
	}
	if (bwr.write_consumed != e->wlen)
		bench_die("binder consumed %llu of %zu command bytes",
			  (unsigned long long)bwr.write_consumed, e->wlen);
	e->wlen = 0;
	return (ssize_t)bwr.read_consumed;
}

/*
 * Parse what a read returned. Reference-count requests are answered (they
 * are written with the next command). Returns the number of transactions
 * (BR_TRANSACTION or BR_REPLY) found; the last one is copied to @txn.
 */
static int binder_parse(struct binder_end *e, size_t len,
			struct binder_transaction_data *txn)
{
	size_t off = 0, size;
	uint32_t cmd;
	int found = 0;

	while (off + sizeof(cmd) <= len) {
		memcpy(&cmd, e->rbuf + off, sizeof(cmd));
		off += sizeof(cmd);
		size = _IOC_SIZE(cmd);
		if (off + size > len)
			bench_die("binder: truncated command 0x%x", cmd);
		switch (cmd) {
		case BR_NOOP:
		case BR_TRANSACTION_COMPLETE:
		case BR_SPAWN_LOOPER:
		case BR_RELEASE:
		case BR_DECREFS:
			break;
		case BR_INCREFS:
			binder_put(e, BC_INCREFS_DONE, e->rbuf + off, size);
			break;
		case BR_ACQUIRE:
			binder_put(e, BC_ACQUIRE_DONE, e->rbuf + off, size);
			break;
		case BR_TRANSACTION:
		case BR_REPLY:
			memcpy(txn, e->rbuf + off, sizeof(*txn));
			++found;
			break;
		default:
			bench_die("binder: unexpected command 0x%x", cmd);
		}
		off += size;
	}
	return found;
}

/* Block in epoll until a transaction or reply has been read. */
static void binder_wait_txn(struct binder_end *e,
			    struct binder_transaction_data *txn)
{
	ssize_t len;

	for (;;) {
		bench_epoll_wait(e->ep);
		len = binder_io(e, 1);
		if (len < 0)
			continue;
		if (binder_parse(e, (size_t)len, txn))
			return;
	}
}

static void binder_check(const struct binder_transaction_data *txn,
			 size_t size, uint64_t seq, const char *what)
{
	if (txn->data_size != size)
		bench_die("%s: %llu bytes, expected %zu", what,
			  (unsigned long long)txn->data_size, size);
	bench_check_stamp((const void *)(uintptr_t)txn->data.ptr.buffer,
			  size, seq, what);
}

int bench_binder_rtt(const struct bench_opts *o)
{
	unsigned long total = o->warmup + o->iters, i;
	struct binder_transaction_data txn;
	struct binder_end e;
	struct bench_samples s;
	const char *path;
	binder_uintptr_t last = 0;
	int ready[2];
	ssize_t len;
	char *buf, c;
	uint64_t t0;
	pid_t pid;

	path = binder_device();
	buf = bench_alloc(BENCH_MAX_PAYLOAD);
	if (pipe2(ready, O_CLOEXEC))
		bench_die_errno("pipe2");

	pid = bench_fork();
	if (!pid) {
		/* the server: a context manager that echoes the payload */
		close(ready[0]);
		binder_open_end(&e, path);
		if (ioctl(e.fd, BINDER_SET_CONTEXT_MGR, 0))
			bench_die_errno("BINDER_SET_CONTEXT_MGR");
		binder_put(&e, BC_ENTER_LOOPER, NULL, 0);
		binder_io(&e, 0);
		e.ep = bench_epoll_new();
		bench_epoll_add(e.ep, e.fd, 0);
		if (write(ready[1], "r", 1) != 1)
			bench_die_errno("write");
		close(ready[1]);
		for (i = 0; i < total; ++i) {
			binder_wait_txn(&e, &txn);
			binder_check(&txn, o->size, i, "binder server");
			memcpy(buf, (const void *)(uintptr_t)txn.data.ptr.buffer,
			       o->size);
			binder_put(&e, BC_FREE_BUFFER, &txn.data.ptr.buffer,
				   sizeof(binder_uintptr_t));
			binder_put_txn(&e, BC_REPLY, buf, o->size);
			/* collects BR_TRANSACTION_COMPLETE */
			len = binder_io(&e, 1);
			if (len < 0)
				bench_die("binder server: no completion");
			if (binder_parse(&e, (size_t)len, &txn))
				bench_die("binder server: unexpected transaction");
		}
		_exit(0);
	}

	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		bench_die("binder server did not start");
	close(ready[0]);
	binder_open_end(&e, path);
	e.ep = bench_epoll_new();
	bench_epoll_add(e.ep, e.fd, 0);
	bench_samples_init(&s, o->iters);
	for (i = 0; i < total; ++i) {
		if (i == o->warmup)
			bench_mark_loop();
		bench_stamp(buf, o->size, i);
		t0 = bench_now();
		if (last)
			binder_put(&e, BC_FREE_BUFFER, &last, sizeof(last));
		binder_put_txn(&e, BC_TRANSACTION, buf, o->size);
		binder_io(&e, 0);
		binder_wait_txn(&e, &txn);
		if (i >= o->warmup)
			bench_samples_add(&s, bench_now() - t0);
		binder_check(&txn, o->size, i, "binder client");
		last = txn.data.ptr.buffer;
	}
	bench_mark_loop();
	bench_wait_child(pid, "binder server");
	bench_report("rtt", "binder", o->size, o, &s, NULL);
	bench_samples_free(&s);
	close(e.fd);
	free(buf);
	return 0;
}
