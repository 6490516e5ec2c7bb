/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared pieces of the bus1 benchmarks: timing, statistics, CPU pinning,
 * waiting in epoll, result lines.
 *
 * Every measurement prints one line
 *
 *   bench-result {"test":..., ...}
 *
 * that tools/bench/report.py collects from the VM's console log. Progress
 * and diagnostics go to stderr and never start with "bench-result".
 */
#ifndef BUS1_BENCH_H
#define BUS1_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The payload sizes of the round-trip and same-thread tests. */
#define BENCH_MAX_PAYLOAD (64 * 1024)

struct bench_opts {
	const char *transport;	/* bus1, unix, pipe, binder */
	const char *device;	/* /dev/bus1 */
	size_t size;		/* payload bytes */
	unsigned long iters;	/* measured iterations */
	unsigned long warmup;	/* iterations before measuring */
	unsigned int round;	/* round number, copied into the result */
	unsigned long handles;	/* scale: handles held by the sender */
	unsigned int max_dests;	/* multicast: largest destination count */
	int only_dests;		/* multicast: measure max_dests only */
	const char *mode;	/* multicast: procs or epoll */
	unsigned long count;	/* mem: objects per measurement */
	int cpu;		/* CPU every process is pinned to */
};

/* A growable sample set, in nanoseconds. */
struct bench_samples {
	uint64_t *v;
	size_t n;
	size_t cap;
};

void bench_die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
void bench_die_errno(const char *what) __attribute__((noreturn));
void *bench_alloc(size_t size);

uint64_t bench_now(void);
void bench_pin(int cpu);
void bench_set_fifo(void);
void bench_settle(void);
void bench_mark_loop(void);
void bench_mark_op(void);

void bench_samples_init(struct bench_samples *s, size_t cap);
void bench_samples_add(struct bench_samples *s, uint64_t ns);
void bench_samples_free(struct bench_samples *s);

/*
 * Print one result line: "bench-result {" fixed fields, the statistics of
 * @s (p50, p99, mean, min, max in ns), @extra (already JSON, may be NULL)
 * "}".
 */
void bench_report(const char *test, const char *transport, size_t size,
		  const struct bench_opts *o, struct bench_samples *s,
		  const char *extra);

/* epoll helpers: one instance watching fds for EPOLLIN, level-triggered. */
int bench_epoll_new(void);
void bench_epoll_add(int ep, int fd, uint64_t data);
/* Block until at least one fd is readable; returns its data field. */
uint64_t bench_epoll_wait(int ep);

void bench_set_nonblock(int fd);
pid_t bench_fork(void);
void bench_wait_child(pid_t pid, const char *what);

/* Payload stamping: the first 8 bytes carry a sequence number. */
void bench_stamp(void *buf, size_t size, uint64_t seq);
void bench_check_stamp(const void *buf, size_t size, uint64_t seq,
		       const char *what);

/* Benchmarks, one per transport file. */
int bench_bus1_rtt(const struct bench_opts *o);
int bench_bus1_self(const struct bench_opts *o);
int bench_bus1_multicast(const struct bench_opts *o);
int bench_bus1_scale(const struct bench_opts *o);
int bench_bus1_mem(const struct bench_opts *o);
int bench_sock_rtt(const struct bench_opts *o);
int bench_sock_self(const struct bench_opts *o);
int bench_binder_rtt(const struct bench_opts *o);

#endif /* BUS1_BENCH_H */
