/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared declarations of the bus1 fault-injection sweep: the engine
 * (sweep.c) runs scenarios (scenarios.c) with one allocation failure
 * injected at a time and checks what user space can observe.
 */
#ifndef BUS1_FAULT_H
#define BUS1_FAULT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <linux/bus1.h>

enum cmd {
	CMD_OPEN,
	CMD_TRANSFER,
	CMD_RELEASE,
	CMD_SEND,
	CMD_RECV,
	CMD_CLOSE,
	CMD_N,
};

extern const char *const cmd_names[CMD_N];

/* live-object counters of /sys/kernel/debug/<module>/objects */
enum obj_stat {
	STAT_PEERS,
	STAT_NODES,
	STAT_HANDLES,
	STAT_MESSAGES,
	STAT_PAYLOADS,
	STAT_TXS,
	STAT_N,
};

#define MAXP	8	/* peers per scenario */
#define MAXN	96	/* nodes per scenario */
#define MAXH	192	/* handles per scenario */
#define MAXW	64	/* would-be IDs per scenario */
#define MAXV	32	/* iovecs */
#define MAXT	16	/* transfers per message */
#define MAXDATA	(64 * 1024)

struct mnode {
	int owner;
	uint64_t id;
	bool live;
};

struct mhandle {
	int holder;
	int node;
	uint64_t id;
	bool live;
};

/* one received entry */
struct rmsg {
	uint64_t type;
	uint64_t id;
	uint64_t account;
	uint64_t n_transfers;
	uint64_t ids[MAXT];
	uint64_t n_data;
	uint8_t data[MAXDATA];
};

struct snapshot {
	long stat[STAT_N];
	char acct[16384];
};

/*
 * A scenario's state: the peers it opened and a model of the nodes and
 * handles that exist, from which the expected outcome of every probe is
 * derived.
 */
struct ctx {
	const struct scen *s;
	jmp_buf abort;
	char failure[1024];

	int np;
	int fd[MAXP];
	uid_t uid[MAXP];
	uint64_t maxid[MAXP];	/* highest ID a peer ever handed out */

	int nn;
	struct mnode node[MAXN];
	int nh;
	struct mhandle h[MAXH];

	/* IDs written to user memory by a failed call (must name nothing) */
	int nwb;
	struct {
		int peer;
		uint64_t id;
	} wb[MAXW];

	/* scenario scratch: indices chosen by the set-up */
	int p[8];
	int n[8];
	int hh[8];

	/* the call's user memory */
	struct bus1_transfer src[MAXT], dst[MAXT];
	uint64_t ids[MAXT];
	int32_t errors[MAXT];
	struct bus1_message msg;
	struct bus1_metadata meta;
	struct iovec iov[MAXV];
	uint8_t data[MAXDATA];
	int new_fd;

	/* fault injection of the call under test */
	unsigned int nth;
	bool reached;		/* every armed failure happened */
	unsigned int ninjected;	/* failures that happened */

	/* expected change of the counters by a failed call (RECV discards) */
	long fail_delta[STAT_N];
	bool fail_acct_changes;	/* a failed call may change accounting */

	struct snapshot before;
};

struct scen {
	const char *name;
	enum cmd cmd;
	const char *what;
	void (*setup)(struct ctx *c);
	/* the one call under test: 0 or -errno */
	int (*call)(struct ctx *c);
	/* after success: check the effect, update the model */
	void (*ok)(struct ctx *c);
	/* after failure (optional): scenario checks before the generic ones */
	void (*fail)(struct ctx *c);
	/* the call injects itself (it runs in a child) */
	bool self_inject;
};

extern const struct scen scenarios[];
extern const unsigned int n_scenarios;

/* engine services for scenarios (sweep.c) */
void __attribute__((format(printf, 2, 3), noreturn))
fail(struct ctx *c, const char *fmt, ...);
#define check(c, cond, ...) \
	do { if (!(cond)) fail((c), __VA_ARGS__); } while (0)

extern const char *dev_path;
extern const char *mod_name;

void inject_arm(unsigned int nth);
bool inject_disarm(void);
int fail_nth_open(void);
void snapshot_take(struct ctx *c, struct snapshot *snap);
bool acct_has_user(struct ctx *c, uid_t uid);

/* scenario library (scenarios.c) used by the engine */
void ctx_teardown_peers(struct ctx *c, void (*close_one)(struct ctx *, int));
void verify_state(struct ctx *c);

#endif /* BUS1_FAULT_H */
