// SPDX-License-Identifier: GPL-2.0
/*
 * bus1-bench: the benchmarks run inside the test VM.
 *
 *   bus1-bench rtt --transport bus1|unix|pipe|binder --size N
 *   bus1-bench self --transport bus1|unix|pipe --size N
 *   bus1-bench multicast --max-dests N --mode procs|epoll
 *   bus1-bench scale --handles N
 *   bus1-bench mem --count N
 *
 * Common options: --iters N, --warmup N, --round N, --cpu N, --device PATH.
 * See tools/bench/README.md for what each test measures and how.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bus1-bench[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void bench_die_errno(const char *what)
{
	bench_die("%s: %s", what, strerror(errno));
}

void *bench_alloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (!p)
		bench_die("out of memory (%zu bytes)", size);
	return p;
}

uint64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bench_die_errno("sched_setaffinity");
}

/*
 * Run the calling process at real-time priority 1: a receiver it wakes on
 * the same CPU then cannot preempt it before it takes its timestamp; the
 * receiver runs as soon as it blocks. Children get the normal policy back.
 */
void bench_set_fifo(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		bench_die_errno("sched_setscheduler");
}

/*
 * "xchg %bx,%bx": a no-op that the insncount QEMU plugin (profile.sh) takes
 * as the start or the end of a measured window. By default the windows are
 * the measured iterations of a test (bench_mark_loop()); with --mark ops
 * they are single SEND or RECV calls of the multicast and scaling tests
 * (bench_mark_op()).
 */
static int bench_mark_ops;

static void bench_marker(void)
{
	__asm__ __volatile__(".byte 0x66, 0x87, 0xdb" ::: "memory");
}

void bench_mark_loop(void)
{
	if (!bench_mark_ops)
		bench_marker();
}

void bench_mark_op(void)
{
	if (bench_mark_ops)
		bench_marker();
}

/*
 * After a real-time sender collected its replies: the receiver whose reply
 * woke it was preempted before it could block in epoll again. Yielding the
 * CPU to it (as a normal task for a moment, since a real-time task yields
 * only to its own kind) lets it get there, so the next SEND wakes a blocked
 * receiver, as in a real service, and the sender's timings include that
 * wake-up. The sender stays runnable: sleeping instead would idle the vCPU,
 * after which the next system call runs several times slower under
 * emulation (a measured artifact, not a cost of the call).
 */
void bench_settle(void)
{
	struct sched_param sp = { .sched_priority = 0 };
	int i;

	if (sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp))
		bench_die_errno("sched_setscheduler");
	for (i = 0; i < 3; ++i)
		sched_yield();
	bench_set_fifo();
}

void bench_samples_init(struct bench_samples *s, size_t cap)
{
	s->n = 0;
	s->cap = cap ? cap : 1;
	s->v = bench_alloc(s->cap * sizeof(*s->v));
}

void bench_samples_add(struct bench_samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		s->cap *= 2;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			bench_die("out of memory");
	}
	s->v[s->n++] = ns;
}

void bench_samples_free(struct bench_samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static uint64_t bench_pct(const struct bench_samples *s, double p)
{
	size_t rank = (size_t)(p * (double)s->n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->v[rank - 1];
}

void bench_report(const char *test, const char *transport, size_t size,
		  const struct bench_opts *o, struct bench_samples *s,
		  const char *extra)
{
	double sum = 0;
	size_t i;

	if (!s->n)
		bench_die("%s/%s: no samples", test, transport);
	qsort(s->v, s->n, sizeof(*s->v), bench_cmp_u64);
	for (i = 0; i < s->n; ++i)
		sum += (double)s->v[i];

	printf("bench-result {\"test\":\"%s\",\"transport\":\"%s\","
	       "\"size\":%zu,\"round\":%u,\"iters\":%zu,\"warmup\":%lu,"
	       "\"p50_ns\":%llu,\"p99_ns\":%llu,\"mean_ns\":%.1f,"
	       "\"min_ns\":%llu,\"max_ns\":%llu%s%s}\n",
	       test, transport, size, o->round, s->n, o->warmup,
	       (unsigned long long)bench_pct(s, 0.50),
	       (unsigned long long)bench_pct(s, 0.99),
	       sum / (double)s->n,
	       (unsigned long long)s->v[0],
	       (unsigned long long)s->v[s->n - 1],
	       extra ? "," : "", extra ? extra : "");
	fflush(stdout);
}

int bench_epoll_new(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		bench_die_errno("epoll_create1");
	return ep;
}

void bench_epoll_add(int ep, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		bench_die_errno("epoll_ctl");
}

uint64_t bench_epoll_wait(int ep)
{
	struct epoll_event ev;
	int r;

	do {
		r = epoll_wait(ep, &ev, 1, -1);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		bench_die_errno("epoll_wait");
	if (r != 1)
		bench_die("epoll_wait returned %d", r);
	return ev.data.u64;
}

void bench_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		bench_die_errno("fcntl O_NONBLOCK");
}

pid_t bench_fork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		bench_die_errno("fork");
	return pid;
}

void bench_wait_child(pid_t pid, const char *what)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		bench_die_errno("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		bench_die("%s (pid %d) failed (status 0x%x)", what, (int)pid,
			  status);
}

void bench_stamp(void *buf, size_t size, uint64_t seq)
{
	if (size >= sizeof(seq))
		memcpy(buf, &seq, sizeof(seq));
	else if (size)
		memset(buf, (int)(seq & 0xff), size);
}

void bench_check_stamp(const void *buf, size_t size, uint64_t seq,
		       const char *what)
{
	uint64_t got;

	if (size >= sizeof(got)) {
		memcpy(&got, buf, sizeof(got));
		if (got != seq)
			bench_die("%s: payload carries %llu, expected %llu",
				  what, (unsigned long long)got,
				  (unsigned long long)seq);
	} else if (size && ((const unsigned char *)buf)[0] !=
			   (unsigned char)(seq & 0xff)) {
		bench_die("%s: payload byte mismatch at %llu", what,
			  (unsigned long long)seq);
	}
}

static void usage(void)
{
	fputs("usage: bus1-bench rtt|self|multicast|scale|mem [options]\n"
	      "  --transport bus1|unix|pipe|binder   (rtt, self)\n"
	      "  --size BYTES       payload size\n"
	      "  --iters N          measured iterations\n"
	      "  --warmup N         iterations before measuring\n"
	      "  --round N          round number copied into the results\n"
	      "  --handles N        scale: handles held by the sender\n"
	      "  --max-dests N      multicast: 1, 2, 4 ... N destinations\n"
	      "  --dests N          multicast: N destinations only\n"
	      "  --mode procs|epoll multicast: a process per receiver, or one\n"
	      "                     process polling every receiver peer\n"
	      "  --count N          mem: objects per measurement\n"
	      "  --cpu N            CPU all processes are pinned to (0)\n"
	      "  --device PATH      bus1 device (/dev/bus1)\n"
	      "  --mark loop|ops    profiling windows: the measured loop, or\n"
	      "                     each measured SEND/RECV (multicast, scale)\n",
	      stderr);
	exit(2);
}

static unsigned long parse_ulong(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end)
		bench_die("bad number '%s'", s);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "iters", required_argument, NULL, 'i' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "round", required_argument, NULL, 'r' },
		{ "handles", required_argument, NULL, 'H' },
		{ "max-dests", required_argument, NULL, 'D' },
		{ "dests", required_argument, NULL, 'N' },
		{ "mode", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'c' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "device", required_argument, NULL, 'd' },
		{ "mark", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = {
		.transport = "bus1",
		.device = "/dev/bus1",
		.size = 64,
		.iters = 10000,
		.warmup = 1000,
		.handles = 10,
		.max_dests = 256,
		.mode = "procs",
		.count = 100000,
	};
	const char *test;
	int c;

	if (argc < 2)
		usage();
	test = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o.transport = optarg; break;
		case 's': o.size = parse_ulong(optarg); break;
		case 'i': o.iters = parse_ulong(optarg); break;
		case 'w': o.warmup = parse_ulong(optarg); break;
		case 'r': o.round = parse_ulong(optarg); break;
		case 'H': o.handles = parse_ulong(optarg); break;
		case 'D': o.max_dests = parse_ulong(optarg); break;
		case 'N':
			o.max_dests = parse_ulong(optarg);
			o.only_dests = 1;
			break;
		case 'm': o.mode = optarg; break;
		case 'c': o.count = parse_ulong(optarg); break;
		case 'C': o.cpu = parse_ulong(optarg); break;
		case 'd': o.device = optarg; break;
		case 'M':
			if (strcmp(optarg, "loop") && strcmp(optarg, "ops"))
				usage();
			bench_mark_ops = !strcmp(optarg, "ops");
			break;
		default: usage();
		}
	}
	if (optind != argc || !o.iters)
		usage();
	if (o.size > BENCH_MAX_PAYLOAD)
		bench_die("payload larger than %d bytes", BENCH_MAX_PAYLOAD);

	/*
	 * A jiffies clocksource (seen when the kernel finds no usable TSC)
	 * would turn every sample into 0 or one tick.
	 */
	{
		struct timespec res;

		if (clock_getres(CLOCK_MONOTONIC, &res) || res.tv_sec ||
		    res.tv_nsec > 1000)
			bench_die("CLOCK_MONOTONIC is too coarse (%ld ns)",
				  (long)res.tv_nsec);
	}

	/* children inherit the pinning */
	bench_pin(o.cpu);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(test, "rtt")) {
		if (!strcmp(o.transport, "bus1"))
			return bench_bus1_rtt(&o);
		if (!strcmp(o.transport, "unix") || !strcmp(o.transport, "pipe"))
			return bench_sock_rtt(&o);
		if (!strcmp(o.transport, "binder"))
			return bench_binder_rtt(&o);
	} else if (!strcmp(test, "self")) {
		if (!strcmp(o.transport, "bus1"))
			return bench_bus1_self(&o);
		if (!strcmp(o.transport, "unix") || !strcmp(o.transport, "pipe"))
			return bench_sock_self(&o);
	} else if (!strcmp(test, "multicast")) {
		return bench_bus1_multicast(&o);
	} else if (!strcmp(test, "scale")) {
		return bench_bus1_scale(&o);
	} else if (!strcmp(test, "mem")) {
		return bench_bus1_mem(&o);
	}
	usage();
}
