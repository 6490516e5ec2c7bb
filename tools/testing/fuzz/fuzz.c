// SPDX-License-Identifier: GPL-2.0
/*
 * bus1-fuzz: random valid and malformed bus1 commands from several
 * processes, for a fixed number of operations and a fixed seed.
 *
 * Usage: bus1-fuzz [-n OPS] [-s SEED] [-p PROCS] [-d DEVICE] [-T SECS]
 *   OPS      commands in total over all processes (default 1000000)
 *   SEED     random seed; the same seed gives each process the same
 *            choices (default 1; the interleaving of processes varies)
 *   PROCS    worker processes (default 4)
 *   SECS     stop early after this long and fail (default: no limit)
 * Defaults can also come from BUS1_FUZZ_OPS, BUS1_FUZZ_SEED,
 * BUS1_FUZZ_PROCS and BUS1_FUZZ_SECONDS.
 *
 * Before forking, the parent opens a few peers every worker inherits;
 * each worker opens, dup's and closes its own, and passes peers to the
 * next worker with SCM_RIGHTS. Every worker (worker.c) checks each errno
 * against the spec's list for the command and a few invariants; now and
 * then it forks a child that shares its peers and is killed in the middle
 * of long commands.
 *
 * The verdict (TAP): no worker crashed, no disallowed errno or broken
 * invariant, every command succeeded at least once, most calls of each
 * command got past its first validation steps, each depth counter reached
 * its minimum, and the module's object counters are zero once every peer
 * is closed. The harness additionally scans the kernel log and unloads
 * the module.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fuzz.h"

#define MAX_WORKERS 32
#define MAX_SHARED 4

static const char *const cmd_names[C_N] = {
	"TRANSFER", "RELEASE", "SEND", "RECV", "unknown",
};

static const char *const op_names[O_N] = {
	"open", "close", "dup", "pass", "take", "poll", "unknown",
	"TRANSFER", "RELEASE", "SEND", "RECV", "killed child",
};

/* name, minimum per million operations, absolute floor */
static const struct {
	const char *what;
	uint64_t per_million;
	uint64_t floor;
} depth_min[D_N] = {
	[D_SEND_HANDLES] = { "SENDs that carried handles", 5000, 20 },
	[D_RECV_HANDLES] = { "RECVs that delivered handles", 3000, 10 },
	[D_RECV_DATA] = { "RECVs whose payload was checked byte for byte", 5000, 20 },
	[D_NODE_RELEASE] = { "NODE_RELEASE notifications received", 3000, 10 },
	[D_HANDLE_RELEASE] = { "HANDLE_RELEASE notifications received", 1000, 5 },
	[D_RELEASE_INFLIGHT] = { "nodes released while a handle to them was in flight", 200, 2 },
	[D_CLOSE_QUEUED] = { "private peers closed with a user message queued", 100, 2 },
	[D_TRANSFER_CROSS] = { "TRANSFERs between two peers", 5000, 20 },
	[D_SHARED_OPS] = { "successful commands on peers shared between processes", 20000, 50 },
	[D_FD_PASSED] = { "peers passed with SCM_RIGHTS and then used", 100, 2 },
	[D_KILLED] = { "child processes killed while issuing commands", 10, 1 },
	[D_EMSGSIZE_RETRY] = { "retries that received the message an EMSGSIZE reported", 1000, 5 },
	[D_FLIPPED] = { "commands during which their flip page changed protection", 300, 3 },
};

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static int tap_no;
static int tap_failed;

static void tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	tap_failed += !ok;
}

/* 1: all zero; 0: no debugfs; -1: not zero (described in @why). */
static int counters_zero(const char *dev, char *why, size_t n)
{
	const char *name = strrchr(dev, '/');
	char path[160], line[128];
	int tries;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/objects",
		 name ? name + 1 : dev);
	for (tries = 0; tries < 200; ++tries) {
		FILE *f = fopen(path, "r");
		bool bad = false, any = false;

		if (!f)
			return 0;
		why[0] = 0;
		while (fgets(line, sizeof(line), f)) {
			char key[64];
			unsigned long long v;

			if (sscanf(line, "%63s %llu", key, &v) != 2)
				continue;
			any = true;
			if (v) {
				bad = true;
				snprintf(why + strlen(why), n - strlen(why),
					 " %s %llu", key, v);
			}
		}
		fclose(f);
		if (!any) {
			snprintf(why, n, " %s is empty", path);
			return -1;
		}
		if (!bad)
			return 1;
		usleep(10000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct fuzz_config cfg = {
		.dev = "/dev/bus1",
		.seed = env_u64("BUS1_FUZZ_SEED", 1),
		.ops = env_u64("BUS1_FUZZ_OPS", 1000000),
		.workers = (unsigned int)env_u64("BUS1_FUZZ_PROCS", 4),
		.shared = 2,
		.max_seconds = (double)env_u64("BUS1_FUZZ_SECONDS", 0),
		.verbose = env_u64("BUS1_FUZZ_VERBOSE", 0) != 0,
		.flip = env_u64("BUS1_FUZZ_FLIP", 1) != 0,
	};
	int shared[MAX_SHARED], socks[MAX_WORKERS][2];
	pid_t pids[MAX_WORKERS];
	struct fuzz_stats *per, tot = {};
	struct timespec t0, t1;
	unsigned int w, i;
	bool crashed = false;
	uint64_t c, e, commands = 0, ok_all = 0, early[C_N] = {}, n_cmd[C_N] = {};
	double secs;
	char why[256];
	int opt, z;

	while ((opt = getopt(argc, argv, "n:s:p:d:T:v")) != -1) {
		switch (opt) {
		case 'n': cfg.ops = strtoull(optarg, NULL, 0); break;
		case 's': cfg.seed = strtoull(optarg, NULL, 0); break;
		case 'p': cfg.workers = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'd': cfg.dev = optarg; break;
		case 'T': cfg.max_seconds = strtod(optarg, NULL); break;
		case 'v': cfg.verbose = true; break;
		default:
			fprintf(stderr, "usage: %s [-n OPS] [-s SEED] [-p PROCS] [-d DEVICE] [-T SECS]\n",
				argv[0]);
			return 2;
		}
	}
	if (!cfg.workers || cfg.workers > MAX_WORKERS)
		cfg.workers = 4;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	printf("# bus1-fuzz: seed %" PRIu64 ", %" PRIu64 " operations, %u processes, %s\n",
	       cfg.seed, cfg.ops, cfg.workers, cfg.dev);

	per = mmap(NULL, sizeof(*per) * cfg.workers, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (per == MAP_FAILED) {
		perror("bus1-fuzz: mmap");
		return 1;
	}
	memset(per, 0, sizeof(*per) * cfg.workers);
	cfg.all = per;
	for (i = 0; i < cfg.shared; ++i) {
		shared[i] = open(cfg.dev, O_RDWR | O_CLOEXEC);
		if (shared[i] < 0) {
			fprintf(stderr, "bus1-fuzz: open %s: %m\n", cfg.dev);
			return 1;
		}
	}
	for (w = 0; w < cfg.workers; ++w)
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, socks[w])) {
			perror("bus1-fuzz: socketpair");
			return 1;
		}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (w = 0; w < cfg.workers; ++w) {
		uint64_t share = cfg.ops / cfg.workers +
				 (w < cfg.ops % cfg.workers);

		pids[w] = fork();
		if (pids[w] < 0) {
			perror("bus1-fuzz: fork");
			return 1;
		}
		if (!pids[w]) {
			/* worker w sends to w + 1 and receives from w - 1 */
			fuzz_worker(&cfg, w, shared, cfg.shared, socks[w][0],
				    socks[(w + cfg.workers - 1) % cfg.workers][1],
				    &per[w], share);
			_exit(per[w].internal ? 3 : 0);
		}
	}
	for (w = 0; w < cfg.workers; ++w) {
		int status;

		if (waitpid(pids[w], &status, 0) != pids[w] ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			crashed = true;
			printf("# worker %u: %s %d\n", w,
			       WIFSIGNALED(status) ? "killed by signal" : "exit status",
			       WIFSIGNALED(status) ? WTERMSIG(status) :
			       WEXITSTATUS(status));
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	/* what the run left behind in the shared peers, for the record */
	{
		const char *name = strrchr(cfg.dev, '/');
		char path[160], line[128];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/objects",
			 name ? name + 1 : cfg.dev);
		f = fopen(path, "r");
		if (f) {
			printf("# live objects before the last close:");
			while (fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\n")] = 0;
				printf(" %s,", line);
			}
			printf("\n");
			fclose(f);
		}
	}

	/* nothing may stay open: the counters must drop to zero */
	for (i = 0; i < cfg.shared; ++i)
		close(shared[i]);
	for (w = 0; w < cfg.workers; ++w) {
		close(socks[w][0]);
		close(socks[w][1]);
	}

	for (w = 0; w < cfg.workers; ++w) {
		tot.ops += per[w].ops;
		tot.cmds += per[w].cmds;
		tot.violations += per[w].violations;
		tot.internal += per[w].internal;
		for (c = 0; c < C_N; ++c) {
			tot.ok[c] += per[w].ok[c];
			for (e = 0; e < FUZZ_MAX_ERRNO; ++e)
				tot.err[c][e] += per[w].err[c][e];
		}
		for (c = 0; c < D_N; ++c)
			tot.depth[c] += per[w].depth[c];
		for (c = 0; c < O_N; ++c) {
			tot.op_n[c] += per[w].op_n[c];
			tot.op_ns[c] += per[w].op_ns[c];
		}
	}

	printf("# %" PRIu64 " operations (%" PRIu64 " ioctls) in %.1f s: %.0f operations/s\n",
	       tot.ops, tot.cmds, secs, secs > 0 ? (double)tot.ops / secs : 0.0);
	for (c = 0; c < C_N; ++c) {
		uint64_t n = tot.ok[c];

		printf("# %-8s %9" PRIu64 " ok", cmd_names[c], tot.ok[c]);
		for (e = 0; e < FUZZ_MAX_ERRNO; ++e) {
			if (!tot.err[c][e])
				continue;
			n += tot.err[c][e];
			printf(", %" PRIu64 " %s", tot.err[c][e],
			       e ? strerrorname_np((int)e) : "other");
		}
		printf(" (%" PRIu64 ")\n", n);
		n_cmd[c] = n;
		early[c] = tot.err[c][EINVAL] + tot.err[c][EFAULT];
		if (c != C_UNKNOWN) {
			commands += n;
			ok_all += tot.ok[c];
		}
	}
	for (c = 0; c < D_N; ++c)
		printf("# depth: %8" PRIu64 " %s\n", tot.depth[c],
		       depth_min[c].what);
	printf("# time per operation (all workers):");
	for (c = 0; c < O_N; ++c)
		printf("%s %s %" PRIu64 " x %.0f us", c ? "," : "", op_names[c],
		       tot.op_n[c], tot.op_n[c] ?
		       (double)tot.op_ns[c] / 1e3 / (double)tot.op_n[c] : 0.0);
	printf("\n");

	tap(!crashed && !tot.internal, "every worker process exited normally");
	tap(!tot.violations, "every errno is one the spec allows for its command, and no invariant broke (%" PRIu64 " violations)",
	    tot.violations);
	tap(tot.ops >= cfg.ops, "all %" PRIu64 " operations ran (%" PRIu64 " did)",
	    cfg.ops, tot.ops);
	for (c = 0; c < C_UNKNOWN; ++c)
		tap(tot.ok[c] > 0, "%s succeeded at least once (%" PRIu64 " times)",
		    cmd_names[c], tot.ok[c]);
	/*
	 * The first validation steps of every command (copying the command,
	 * checking its flags) fail only with EFAULT or EINVAL; so do many
	 * later ones. Counting every EFAULT and EINVAL as "stopped at the
	 * first step" overstates the shallow share, and still most of each
	 * command's issues must get further than that.
	 */
	for (c = 0; c < C_UNKNOWN; ++c)
		tap(n_cmd[c] && early[c] * 2 < n_cmd[c],
		    "most %ss got past the first validation step (%" PRIu64 " of %" PRIu64
		    " failed with EFAULT or EINVAL, %" PRIu64 " succeeded)",
		    cmd_names[c], early[c], n_cmd[c], tot.ok[c]);
	tap(ok_all * 5 > commands,
	    "more than a fifth of all commands succeeded (%" PRIu64 " of %" PRIu64 ")",
	    ok_all, commands);
	for (c = 0; c < D_N; ++c) {
		uint64_t min = cfg.ops / 1000000 * depth_min[c].per_million +
			       (cfg.ops % 1000000) * depth_min[c].per_million / 1000000;

		if (min < depth_min[c].floor)
			min = depth_min[c].floor;
		if (c == D_FLIPPED && !cfg.flip)
			min = 0;	/* BUS1_FUZZ_FLIP=0: no flipper */
		tap(tot.depth[c] >= min, "depth: %s: %" PRIu64 " (minimum %" PRIu64 ")",
		    depth_min[c].what, tot.depth[c], min);
	}
	z = counters_zero(cfg.dev, why, sizeof(why));
	if (z)
		tap(z > 0, "object counters are zero after every peer is closed%s%s",
		    z < 0 ? ":" : "", z < 0 ? why : "");
	printf("1..%d\n", tap_no);
	return tap_failed ? 1 : 0;
}
