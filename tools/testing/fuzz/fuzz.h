/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bus1-fuzz: several processes issue random, partly malformed bus1
 * commands on private and shared peers. See fuzz.c for the overview.
 */
#ifndef BUS1_FUZZ_H
#define BUS1_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	C_TRANSFER,
	C_RELEASE,
	C_SEND,
	C_RECV,
	C_UNKNOWN,
	C_N,
};

/* Things that show the fuzzer got past the first validation steps. */
enum {
	D_SEND_HANDLES,		/* SEND succeeded, carried handles to >= 1 dest */
	D_RECV_HANDLES,		/* RECV delivered a message carrying handles */
	D_RECV_DATA,		/* RECV delivered a payload the sender marked */
	D_NODE_RELEASE,		/* RECV delivered a NODE_RELEASE */
	D_HANDLE_RELEASE,	/* RECV delivered a HANDLE_RELEASE */
	D_RELEASE_INFLIGHT,	/* node released while a handle to it was in flight */
	D_CLOSE_QUEUED,		/* private peer closed with a user message queued */
	D_TRANSFER_CROSS,	/* TRANSFER between two different peers succeeded */
	D_SHARED_OPS,		/* successful command on a peer shared by processes */
	D_FD_PASSED,		/* peer fd received through SCM_RIGHTS and used */
	D_KILLED,		/* child killed (SIGKILL) while issuing commands */
	D_EMSGSIZE_RETRY,	/* the retry after EMSGSIZE got the message it reported */
	D_FLIPPED,		/* the flip page changed during a command using it */
	D_N,
};

/* Operations of the worker loop, for the time each kind takes. */
enum {
	O_OPEN, O_CLOSE, O_DUP, O_PASS, O_TAKE, O_POLL, O_UNKNOWN,
	O_TRANSFER, O_RELEASE, O_SEND, O_RECV, O_VICTIM,
	O_N,
};

#define FUZZ_MAX_ERRNO 160
#define FUZZ_SEND_LOG 4096

/* The last successful SENDs of a worker, to explain a payload mismatch. */
struct fuzz_send_rec {
	uint64_t op;
	uint64_t n_data;
	uint32_t n_dst;
	uint32_t n_tr;
	uint32_t n_vec;
	uint16_t shared;	/* sent on a peer shared between processes */
	uint16_t damaged;	/* 1: a damaged command; 2: a vector in the flip page */
};

struct fuzz_stats {
	uint64_t ops;		/* operations: commands, poll, open, close, ... */
	uint64_t cmds;		/* ioctls issued */
	uint64_t ok[C_N];
	uint64_t err[C_N][FUZZ_MAX_ERRNO];
	uint64_t depth[D_N];
	uint64_t op_n[O_N];
	uint64_t op_ns[O_N];	/* wall time in each kind of operation */
	uint64_t violations;
	uint64_t internal;	/* setup failures of the fuzzer itself */
	struct fuzz_send_rec sends[FUZZ_SEND_LOG];
};

struct fuzz_config {
	const char *dev;
	uint64_t seed;
	uint64_t ops;		/* total over all workers */
	unsigned int workers;
	unsigned int shared;	/* peers opened before fork */
	bool verbose;
	bool flip;		/* run the page-flipping thread */
	double max_seconds;	/* stop early (reported) */
	struct fuzz_stats *all;	/* every worker's statistics (shared) */
};

void fuzz_worker(const struct fuzz_config *cfg, unsigned int index,
		 int shared_fds[], unsigned int n_shared, int sock_out,
		 int sock_in, struct fuzz_stats *st, uint64_t ops);

#endif /* BUS1_FUZZ_H */
