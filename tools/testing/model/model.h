/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user-space model of the bus1 semantics (spec sections 4 to 8 and 10):
 * peers with their ID counters and tables, nodes, handles, queues of
 * entries, both notifications with the last-handle rule, stale entries,
 * retirement on receipt and close.
 *
 * The model knows nothing about ioctls. The checker (main.c) lays out the
 * user memory of one command, lets the model predict the result and the
 * writes to user memory (through the mem.h accessors), runs the real ioctl
 * and compares.
 *
 * Ordering: every entry carries the transaction it belongs to. Entries of
 * one transaction are appended to a queue back to back; the spec leaves
 * their relative order open except that user messages keep destination
 * order and a late NODE_RELEASE follows the message that carried its
 * handle. RECV therefore accepts any entry of the oldest transaction that
 * respects these two rules (model_recv_candidates()).
 */
#ifndef BUS1_MODEL_H
#define BUS1_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum m_kind {
	M_USER = 0,		/* BUS1_MESSAGE_TYPE_USER */
	M_NODE_RELEASE = 1,	/* BUS1_MESSAGE_TYPE_NODE_RELEASE */
	M_HANDLE_RELEASE = 2,	/* BUS1_MESSAGE_TYPE_HANDLE_RELEASE */
};

enum m_hstate {
	H_FLIGHT,		/* carried by a queued message */
	H_INSTALLED,		/* has an ID in its owner's table */
	H_GONE,			/* released, retired or discarded */
};

struct m_handle;
struct m_msg;

struct m_node {
	int owner;		/* peer index */
	uint64_t id;
	bool installed;		/* the ID is valid in the owner's table */
	bool dead;		/* its release committed */
	bool hr_used;		/* its HANDLE_RELEASE entry was queued */
	uint64_t n_handles;	/* live handles: installed and in flight */
	struct m_handle **handles; /* every handle ever linked to it */
	size_t n_list, cap_list;
};

struct m_handle {
	int owner;		/* peer index */
	struct m_node *node;
	uint64_t id;		/* 0 until assigned (in flight) */
	enum m_hstate state;
	bool nr_used;		/* its NODE_RELEASE entry was queued */
	bool staged;		/* collected by the running RELEASE/close */
	struct m_entry *carrier; /* the queued message carrying it */
};

struct m_msg {
	struct m_node *dst;
	uint64_t account;
	uint64_t n_data;
	const uint8_t *data;	/* shared by the copies of one SEND */
	size_t k;
	struct m_handle **h;
};

struct m_entry {
	enum m_kind kind;
	uint64_t tx;
	struct m_msg *msg;		/* M_USER */
	struct m_handle *handle;	/* M_NODE_RELEASE */
	struct m_node *node;		/* M_HANDLE_RELEASE */
	struct m_entry *after;		/* late NODE_RELEASE: its carrier */
	struct m_entry *prev, *next;
	bool removed;
};

/* One installed object of a peer's table. */
struct m_obj {
	uint64_t id;
	bool is_node;
	void *ptr;
};

/* The last M_FAILED_KEPT IDs of a kind; slot n % M_FAILED_KEPT: the n-th. */
#define M_FAILED_KEPT 32

struct m_id_ring {
	uint64_t id[M_FAILED_KEPT];
	uint64_t n;
};

struct m_peer {
	bool open;
	uint64_t uid;		/* effective UID pinned at open */
	uint64_t counter;	/* next ID is counter << 1 | 1 */
	struct m_obj *objs;	/* installed objects (the ID table) */
	size_t n_objs, cap_objs;
	uint64_t *gone;		/* some IDs that named objects once */
	size_t n_gone, cap_gone;
	/* IDs failed commands allocated and maybe wrote to user memory */
	struct m_id_ring burned;	/* by TRANSFER or SEND: never valid */
	struct m_id_ring assigned;	/* by a RECV that faulted: valid
					 * once a RECV of the message succeeds */
	struct m_entry *head, *tail;
	size_t n_entries;
};

struct model {
	struct m_peer *peers;
	size_t n_peers, cap_peers;
	uint64_t tx_next;
	uint64_t max_objects;	/* module parameters */
	uint64_t max_bytes;
	struct m_node **nodes_all;
	size_t n_nodes_all, cap_nodes_all;
	/* every allocation of the model, freed by model_fini() */
	void **allocs;
	size_t n_allocs, cap_allocs;
};

/* How often the rarer rules were exercised (over all rounds). */
struct model_cov {
	uint64_t late_nr_transfer;	/* D20: TRANSFER from a dead node's handle */
	uint64_t late_nr_send;		/* D20: message carried a dead node's handle */
	uint64_t discard_closed;	/* copy for a closed receiver (D17) */
	uint64_t discard_stale;		/* stale message discarded by RECV */
	uint64_t hr_from_discard;	/* HANDLE_RELEASE caused by a discard (D18) */
	uint64_t nr_inflight;		/* NODE_RELEASE for a handle in flight */
	uint64_t close_with_messages;	/* close drained queued user messages */
	uint64_t recv_fault_assigned;	/* RECV EFAULT after assigning IDs */
	uint64_t recv_multi;		/* RECV with several allowed entries */
};

extern struct model_cov model_cov;

void model_init(struct model *m, uint64_t max_objects, uint64_t max_bytes);
void model_fini(struct model *m);
void *model_alloc(struct model *m, size_t size);

int model_peer_open(struct model *m, uint64_t uid);
void model_peer_close(struct model *m, int peer);

/* ID table */
struct m_obj *model_lookup(struct model *m, int peer, uint64_t id);
uint64_t model_id_alloc(struct model *m, int peer);
uint64_t model_next_id(struct model *m, int peer);

/*
 * Commands. Inputs are user addresses read through mem.h; predicted writes
 * go to the shadow memory. Each returns 0 or a positive errno.
 */
struct m_transfer_args {
	int from;
	int to;			/* peer index, resolved by the caller */
	int to_errno;		/* non-zero: resolving `to` fails with it */
};

int model_transfer(struct model *m, uint64_t cmd_addr,
		   const struct m_transfer_args *a);
int model_release(struct model *m, int peer, uint64_t cmd_addr);
/* @step: the step of spec 5.3 that decided the result (13: success) */
int model_send(struct model *m, int peer, uint64_t cmd_addr, int *step);

/*
 * RECV is split: the kernel may deliver any of several entries of one
 * transaction, so the checker lists the candidates, predicts each, asks
 * the kernel, and commits the candidate that matches.
 */
#define M_MAX_CAND 64

struct m_recv_pred {
	struct m_entry *entry;	/* NULL: EAGAIN */
	int err;		/* predicted errno (0 on success) */
	bool assigns;		/* assigns IDs to carried handles */
};

struct m_recv_plan {
	int early_err;		/* validation failed before the queue */
	/* the inputs as read before the kernel ran (it writes the message) */
	uint64_t in[3 + 7];
	size_t n;
	struct m_recv_pred pred[M_MAX_CAND];
};

void model_recv_plan(struct model *m, int peer, uint64_t cmd_addr,
		     struct m_recv_plan *plan);
/* Predict one candidate's writes into the shadow memory. */
void model_recv_predict(struct model *m, int peer,
			const struct m_recv_plan *plan,
			const struct m_recv_pred *pred);
/* Apply the chosen outcome (NULL entry: EAGAIN, discard every stale). */
void model_recv_commit(struct model *m, int peer,
		       const struct m_recv_pred *pred);

/* @id was assigned by a RECV that faulted and is not installed yet. */
bool model_id_pending(struct model *m, int peer, uint64_t id);
bool model_has_live_entry(struct model *m, int peer);
bool model_queue_empty(struct model *m, int peer);
void model_dump(struct model *m, FILE *f);

#endif /* BUS1_MODEL_H */
