// SPDX-License-Identifier: GPL-2.0
/*
 * The bus1 reference model: what each command must return and write, and
 * how it changes peers, nodes, handles and queues (spec sections 4 to 8).
 * Validation follows the normative order of section 5; resource
 * accounting is not modelled beyond the two cases the checker provokes on
 * purpose (message.n_transfers above max_objects, and a payload no quota
 * can hold), so the checker keeps every other workload far below the
 * default limits.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <linux/bus1.h>
#include "mem.h"
#include "model.h"

#define MAX_RW_COUNT	(INT_MAX & ~(int)(MEM_PAGE - 1))
#define M_UIO_MAXIOV	1024
#define N_GONE_KEPT	64

struct model_cov model_cov;
static uint64_t hr_pushed;

/*
 * Writes of a phase that may stop at a fault part way (SEND write-back,
 * RECV delivery and its write-back) go to the shadow's prefix log instead
 * of being predicted exactly: after EFAULT the kernel may have written any
 * prefix of them, in their order, and nothing else (spec 5.5).
 */
static bool w_log;

static void oom(void)
{
	fprintf(stderr, "model: out of memory\n");
	abort();
}

static void grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return;
	n = *cap ? *cap * 2 : 8;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * elem);
	if (!p)
		oom();
	*arr = p;
	*cap = n;
}

void *model_alloc(struct model *m, size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		oom();
	grow((void **)&m->allocs, &m->cap_allocs, m->n_allocs + 1,
	     sizeof(*m->allocs));
	m->allocs[m->n_allocs++] = p;
	return p;
}

void model_init(struct model *m, uint64_t max_objects, uint64_t max_bytes)
{
	memset(m, 0, sizeof(*m));
	m->tx_next = 1;
	m->max_objects = max_objects;
	m->max_bytes = max_bytes;
}

void model_fini(struct model *m)
{
	size_t i;

	/* the nodes themselves are among the allocations: lists first */
	for (i = 0; i < m->n_nodes_all; ++i)
		free(m->nodes_all[i]->handles);
	free(m->nodes_all);
	for (i = 0; i < m->n_allocs; ++i)
		free(m->allocs[i]);
	free(m->allocs);
	for (i = 0; i < m->n_peers; ++i) {
		free(m->peers[i].objs);
		free(m->peers[i].gone);
	}
	free(m->peers);
	memset(m, 0, sizeof(*m));
}

/* ---- ID tables ---- */

int model_peer_open(struct model *m, uint64_t uid)
{
	struct m_peer *p;

	grow((void **)&m->peers, &m->cap_peers, m->n_peers + 1,
	     sizeof(*m->peers));
	p = &m->peers[m->n_peers];
	memset(p, 0, sizeof(*p));
	p->open = true;
	p->uid = uid;
	return (int)m->n_peers++;
}

uint64_t model_next_id(struct model *m, int peer)
{
	return (m->peers[peer].counter << 1) | BUS1_MANAGED;
}

uint64_t model_id_alloc(struct model *m, int peer)
{
	uint64_t id = model_next_id(m, peer);

	m->peers[peer].counter++;
	return id;
}

struct m_obj *model_lookup(struct model *m, int peer, uint64_t id)
{
	struct m_peer *p = &m->peers[peer];
	size_t i;

	if (!(id & BUS1_MANAGED) || id == BUS1_INVALID)
		return NULL;
	for (i = 0; i < p->n_objs; ++i)
		if (p->objs[i].id == id)
			return &p->objs[i];
	return NULL;
}

static void tbl_add(struct model *m, int peer, uint64_t id, bool is_node,
		    void *ptr)
{
	struct m_peer *p = &m->peers[peer];

	grow((void **)&p->objs, &p->cap_objs, p->n_objs + 1,
	     sizeof(*p->objs));
	p->objs[p->n_objs].id = id;
	p->objs[p->n_objs].is_node = is_node;
	p->objs[p->n_objs].ptr = ptr;
	p->n_objs++;
}

/*
 * Remember an ID a failed call allocated (and maybe wrote to user memory),
 * so the checker can try it again: burned IDs never become valid; IDs a
 * failed RECV assigned become valid once a RECV of their message succeeds.
 */
static void failed_id(struct m_id_ring *r, uint64_t id)
{
	r->id[r->n++ % M_FAILED_KEPT] = id;
}

/* Every ID a failed command allocated in @peer since the counter was @from. */
static void failed_ids_since(struct model *m, int peer, uint64_t from)
{
	uint64_t c;

	for (c = from; c < m->peers[peer].counter; ++c)
		failed_id(&m->peers[peer].burned, (c << 1) | BUS1_MANAGED);
}

static void tbl_del(struct model *m, int peer, uint64_t id)
{
	struct m_peer *p = &m->peers[peer];
	size_t i;

	for (i = 0; i < p->n_objs; ++i) {
		if (p->objs[i].id != id)
			continue;
		p->objs[i] = p->objs[--p->n_objs];
		if (p->n_gone < N_GONE_KEPT) {
			grow((void **)&p->gone, &p->cap_gone, p->n_gone + 1,
			     sizeof(*p->gone));
			p->gone[p->n_gone++] = id;
		} else {
			p->gone[id % N_GONE_KEPT] = id;
		}
		return;
	}
	fprintf(stderr, "model: ID %llu not in the table of peer %d\n",
		(unsigned long long)id, peer);
	abort();
}

/* ---- objects ---- */

static struct m_node *node_new(struct model *m, int owner)
{
	struct m_node *n = model_alloc(m, sizeof(*n));

	n->owner = owner;
	grow((void **)&m->nodes_all, &m->cap_nodes_all, m->n_nodes_all + 1,
	     sizeof(*m->nodes_all));
	m->nodes_all[m->n_nodes_all++] = n;
	return n;
}

static void node_link(struct m_node *n, struct m_handle *h)
{
	grow((void **)&n->handles, &n->cap_list, n->n_list + 1,
	     sizeof(*n->handles));
	n->handles[n->n_list++] = h;
}

static struct m_handle *handle_new(struct model *m, int owner,
				   struct m_node *n)
{
	struct m_handle *h = model_alloc(m, sizeof(*h));

	h->owner = owner;
	h->node = n;
	h->state = H_FLIGHT;
	return h;
}

/* ---- queues ---- */

static struct m_entry *entry_new(struct model *m, enum m_kind kind,
				 uint64_t tx)
{
	struct m_entry *e = model_alloc(m, sizeof(*e));

	e->kind = kind;
	e->tx = tx;
	return e;
}

static void q_push(struct model *m, int peer, struct m_entry *e)
{
	struct m_peer *p = &m->peers[peer];

	if (!p->open) {
		fprintf(stderr, "model: push to closed peer %d\n", peer);
		abort();
	}
	e->prev = p->tail;
	e->next = NULL;
	if (p->tail)
		p->tail->next = e;
	else
		p->head = e;
	p->tail = e;
	p->n_entries++;
}

static void q_remove(struct model *m, int peer, struct m_entry *e)
{
	struct m_peer *p = &m->peers[peer];

	if (e->prev)
		e->prev->next = e->next;
	else
		p->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		p->tail = e->prev;
	e->prev = e->next = NULL;
	e->removed = true;
	p->n_entries--;
}

static bool entry_stale(const struct m_entry *e)
{
	const struct m_handle *h;

	switch (e->kind) {
	case M_USER:
		return !e->msg->dst->installed;
	case M_NODE_RELEASE:
		h = e->handle;
		if (h->state == H_GONE)
			return true;
		/* in flight: stale iff its message will be discarded */
		if (h->state == H_FLIGHT)
			return entry_stale(h->carrier);
		return false;
	default:
		return !e->node->installed;
	}
}

/* ---- releases and notifications ---- */

static void push_hr(struct model *m, struct m_node *n, uint64_t tx)
{
	struct m_entry *e;

	if (n->hr_used) {
		fprintf(stderr, "model: second HANDLE_RELEASE for a node\n");
		abort();
	}
	n->hr_used = true;
	hr_pushed++;
	e = entry_new(m, M_HANDLE_RELEASE, tx);
	e->node = n;
	q_push(m, n->owner, e);
}

static void push_nr(struct model *m, struct m_handle *h, uint64_t tx,
		    struct m_entry *after)
{
	struct m_entry *e;

	h->nr_used = true;
	e = entry_new(m, M_NODE_RELEASE, tx);
	e->handle = h;
	e->after = after;
	q_push(m, h->owner, e);
}

/* A live handle stops counting (RELEASE, close, discard, retirement). */
static void handle_drop(struct model *m, struct m_handle *h, uint64_t tx)
{
	struct m_node *n = h->node;

	if (h->state == H_GONE) {
		fprintf(stderr, "model: handle dropped twice\n");
		abort();
	}
	if (h->state == H_INSTALLED)
		tbl_del(m, h->owner, h->id);
	h->state = H_GONE;
	h->carrier = NULL;
	if (!n->n_handles) {
		fprintf(stderr, "model: handle count underflow\n");
		abort();
	}
	if (!--n->n_handles && !n->dead)
		push_hr(m, n, tx);
}

/* A node's release commits: NODE_RELEASE to every live handle except the
 * handles released in the same transaction (marked staged). */
static void node_kill(struct model *m, struct m_node *n, uint64_t tx)
{
	size_t i;

	n->dead = true;
	if (n->installed) {
		tbl_del(m, n->owner, n->id);
		n->installed = false;
	}
	for (i = 0; i < n->n_list; ++i) {
		struct m_handle *h = n->handles[i];

		if (h->state == H_GONE || h->staged || h->nr_used)
			continue;
		model_cov.nr_inflight += h->state == H_FLIGHT;
		push_nr(m, h, tx, NULL);
	}
}

/* Discard a user message: its carried handles are released in @tx. */
static void msg_discard(struct model *m, struct m_msg *msg, uint64_t tx)
{
	uint64_t before = hr_pushed;
	size_t j;

	for (j = 0; j < msg->k; ++j)
		if (msg->h[j]->state != H_GONE)
			handle_drop(m, msg->h[j], tx);
	model_cov.hr_from_discard += hr_pushed - before;
}

void model_peer_close(struct model *m, int peer)
{
	struct m_peer *p = &m->peers[peer];
	struct m_handle **rel = NULL;
	struct m_node **nodes = NULL;
	size_t n_rel = 0, cap_rel = 0, n_nodes = 0, cap_nodes = 0, i, j;
	struct m_entry *e, *next;
	uint64_t tx = m->tx_next++;
	bool had_messages = false;

	/* drain: handles carried by queued messages are released */
	for (e = p->head; e; e = next) {
		next = e->next;
		if (e->kind == M_USER) {
			had_messages = true;
			for (j = 0; j < e->msg->k; ++j) {
				struct m_handle *h = e->msg->h[j];

				if (h->state == H_GONE)
					continue;
				grow((void **)&rel, &cap_rel, n_rel + 1,
				     sizeof(*rel));
				rel[n_rel++] = h;
			}
		}
		q_remove(m, peer, e);
	}
	for (i = 0; i < p->n_objs; ++i) {
		if (p->objs[i].is_node) {
			grow((void **)&nodes, &cap_nodes, n_nodes + 1,
			     sizeof(*nodes));
			nodes[n_nodes++] = p->objs[i].ptr;
		} else {
			grow((void **)&rel, &cap_rel, n_rel + 1, sizeof(*rel));
			rel[n_rel++] = p->objs[i].ptr;
		}
	}
	model_cov.close_with_messages += had_messages;
	/* nothing is delivered to the closing peer itself */
	p->open = false;
	for (i = 0; i < n_rel; ++i)
		rel[i]->staged = true;
	for (i = 0; i < n_nodes; ++i)
		node_kill(m, nodes[i], tx);
	for (i = 0; i < n_rel; ++i) {
		rel[i]->staged = false;
		handle_drop(m, rel[i], tx);
	}
	if (p->n_objs) {
		fprintf(stderr, "model: objects left in closed peer %d\n",
			peer);
		abort();
	}
	free(rel);
	free(nodes);
}

/* ---- iovec import (SEND step 6, RECV step 6.2) ---- */

struct m_iov {
	size_t n;
	uint64_t total;
	struct iovec v[M_UIO_MAXIOV];
};

static int import_iov(uint64_t ptr, uint64_t n, struct m_iov *iov)
{
	uint64_t i, addr, total = 0;
	struct iovec v;

	iov->n = 0;
	iov->total = 0;
	if (n > M_UIO_MAXIOV)
		return EINVAL;
	for (i = 0; i < n; ++i) {
		if (!mem_elem(ptr, i, sizeof(v), &addr) ||
		    !mem_read(addr, &v, sizeof(v)))
			return EFAULT;
		if (v.iov_len > (uint64_t)INT64_MAX)
			return EINVAL;
		iov->v[i] = v;
	}
	for (i = 0; i < n; ++i) {
		uint64_t len = iov->v[i].iov_len;

		if (!mem_user_range((uint64_t)(uintptr_t)iov->v[i].iov_base,
				    len))
			return EFAULT;
		if (len > MAX_RW_COUNT - total) {
			len = MAX_RW_COUNT - total;
			iov->v[i].iov_len = len;
		}
		total += len;
	}
	iov->n = n;
	iov->total = total;
	return 0;
}

/* Is the first @len bytes of @iov accessible (read or write)? */
static bool iov_access(const struct m_iov *iov, uint64_t len, bool write)
{
	size_t i;

	for (i = 0; i < iov->n && len; ++i) {
		uint64_t base = (uint64_t)(uintptr_t)iov->v[i].iov_base;
		uint64_t l = iov->v[i].iov_len < len ? iov->v[i].iov_len : len;

		if (write ? !mem_writable(base, l) : !mem_readable(base, l))
			return false;
		len -= l;
	}
	return !len;
}

static void iov_gather(const struct m_iov *iov, uint8_t *buf, uint64_t len)
{
	size_t i;

	for (i = 0; i < iov->n && len; ++i) {
		uint64_t l = iov->v[i].iov_len < len ? iov->v[i].iov_len : len;

		memcpy(buf, iov->v[i].iov_base, l);
		buf += l;
		len -= l;
	}
}

static void iov_scatter(const struct m_iov *iov, const uint8_t *buf,
			uint64_t len)
{
	size_t i;

	for (i = 0; i < iov->n && len; ++i) {
		uint64_t l = iov->v[i].iov_len < len ? iov->v[i].iov_len : len;
		uint64_t base = (uint64_t)(uintptr_t)iov->v[i].iov_base;

		if (w_log)
			shadow_log(base, buf, l);
		else
			shadow_write(base, buf, l);
		buf += l;
		len -= l;
	}
}

/*
 * Write one struct to user memory: false (EFAULT) if not writable. In log
 * mode the write is logged even then: the kernel may write its writable
 * head before it faults.
 */
static bool put(uint64_t base, uint64_t i, const void *v, size_t size)
{
	uint64_t addr;

	if (!mem_elem(base, i, size, &addr))
		return false;
	if (w_log) {
		shadow_log(addr, v, size);
		return mem_writable(addr, size);
	}
	if (!mem_writable(addr, size))
		return false;
	shadow_write(addr, v, size);
	return true;
}

static bool get(uint64_t base, uint64_t i, void *v, size_t size)
{
	uint64_t addr;

	return mem_elem(base, i, size, &addr) && mem_read(addr, v, size);
}

/* ---- TRANSFER (5.1) ---- */

int model_transfer(struct model *m, uint64_t cmd_addr,
		   const struct m_transfer_args *a)
{
	struct bus1_cmd_transfer cmd;
	struct bus1_transfer src, dst;
	struct m_node **nodes = NULL, **created = NULL;
	uint64_t *hids = NULL, i, tx, c_from, c_to;
	int err = 0;

	if (!get(cmd_addr, 0, &cmd, sizeof(cmd)))
		return EFAULT;
	if (cmd.flags)
		return EINVAL;
	if (a->to_errno)
		return a->to_errno;
	if (!cmd.n_transfers)
		return 0;
	c_from = m->peers[a->from].counter;
	c_to = m->peers[a->to].counter;

	for (i = 0; i < cmd.n_transfers; ++i) {
		struct m_node *node;
		struct m_obj *o;

		if (!get(cmd.ptr_src, i, &src, sizeof(src))) {
			err = EFAULT;
			break;
		}
		if (src.flags & ~BUS1_TRANSFER_FLAG_CREATE) {
			err = EINVAL;
			break;
		}
		nodes = realloc(nodes, (i + 1) * sizeof(*nodes));
		created = realloc(created, (i + 1) * sizeof(*created));
		hids = realloc(hids, (i + 1) * sizeof(*hids));
		if (!nodes || !created || !hids)
			oom();
		created[i] = NULL;
		if (src.flags & BUS1_TRANSFER_FLAG_CREATE) {
			if (src.id != BUS1_INVALID) {
				err = EINVAL;
				break;
			}
			node = node_new(m, a->from);
			node->id = model_id_alloc(m, a->from);
			created[i] = node;
			src.flags = 0;
			src.id = node->id;
			if (!put(cmd.ptr_src, i, &src, sizeof(src))) {
				err = EFAULT;
				break;
			}
		} else {
			o = model_lookup(m, a->from, src.id);
			if (!o || o->is_node) {
				err = EBADRQC;
				break;
			}
			node = ((struct m_handle *)o->ptr)->node;
		}
		nodes[i] = node;
		hids[i] = model_id_alloc(m, a->to);
		dst.flags = 0;
		dst.id = hids[i];
		if (!put(cmd.ptr_dst, i, &dst, sizeof(dst))) {
			err = EFAULT;
			break;
		}
	}

	if (err) {
		/* src[] and dst[] may hold these now: dead IDs (5.1 step 7) */
		failed_ids_since(m, a->from, c_from);
		if (a->to != a->from)
			failed_ids_since(m, a->to, c_to);
	} else {
		tx = m->tx_next++;
		for (i = 0; i < cmd.n_transfers; ++i) {
			if (!created[i])
				continue;
			created[i]->installed = true;
			tbl_add(m, a->from, created[i]->id, true, created[i]);
		}
		for (i = 0; i < cmd.n_transfers; ++i) {
			struct m_handle *h = handle_new(m, a->to, nodes[i]);

			h->id = hids[i];
			h->state = H_INSTALLED;
			tbl_add(m, a->to, h->id, false, h);
			nodes[i]->n_handles++;
			node_link(nodes[i], h);
			/* D20: a new handle to a dead node is told at once */
			if (nodes[i]->dead) {
				model_cov.late_nr_transfer++;
				push_nr(m, h, tx, NULL);
			}
		}
	}
	free(nodes);
	free(created);
	free(hids);
	return err;
}

/* ---- RELEASE (5.2) ---- */

int model_release(struct model *m, int peer, uint64_t cmd_addr)
{
	struct bus1_cmd_release cmd;
	struct m_obj **objs = NULL;
	size_t n_objs = 0, cap_objs = 0, i, j;
	uint64_t k, id, tx;

	if (!get(cmd_addr, 0, &cmd, sizeof(cmd)))
		return EFAULT;
	if (cmd.flags)
		return EINVAL;
	for (k = 0; k < cmd.n_ids; ++k) {
		struct m_obj *o;

		if (!get(cmd.ptr_ids, k, &id, sizeof(id))) {
			free(objs);
			return EFAULT;
		}
		o = model_lookup(m, peer, id);
		if (!o) {
			free(objs);
			return EBADRQC;
		}
		for (j = 0; j < n_objs; ++j)
			if (objs[j]->id == id)
				break;
		if (j < n_objs)
			continue;
		grow((void **)&objs, &cap_objs, n_objs + 1, sizeof(*objs));
		objs[n_objs++] = o;
	}
	if (!n_objs)
		return 0;

	/* table entries move while we release: copy the pointers first */
	{
		void **ptrs = calloc(n_objs, sizeof(*ptrs));
		bool *is_node = calloc(n_objs, sizeof(*is_node));

		if (!ptrs || !is_node)
			oom();
		for (i = 0; i < n_objs; ++i) {
			ptrs[i] = objs[i]->ptr;
			is_node[i] = objs[i]->is_node;
		}
		tx = m->tx_next++;
		for (i = 0; i < n_objs; ++i)
			if (!is_node[i])
				((struct m_handle *)ptrs[i])->staged = true;
		for (i = 0; i < n_objs; ++i)
			if (is_node[i])
				node_kill(m, ptrs[i], tx);
		for (i = 0; i < n_objs; ++i) {
			if (is_node[i])
				continue;
			((struct m_handle *)ptrs[i])->staged = false;
			handle_drop(m, ptrs[i], tx);
		}
		free(ptrs);
		free(is_node);
	}
	free(objs);
	return 0;
}

/* ---- SEND (5.3) ---- */

int model_send(struct model *m, int peer, uint64_t cmd_addr, int *step)
{
	struct bus1_cmd_send cmd;
	struct bus1_message msg;
	struct bus1_transfer tr;
	struct m_iov *iov;
	struct m_node **trn = NULL, **dsts = NULL;
	bool *created = NULL;
	uint8_t *data = NULL;
	uint64_t i, j, id, tx, counter = m->peers[peer].counter;
	int err = 0;

	*step = 1;
	if (!get(cmd_addr, 0, &cmd, sizeof(cmd)))
		return EFAULT;
	*step = 2;
	if (cmd.flags)
		return EINVAL;
	*step = 3;
	if (!get(cmd.ptr_message, 0, &msg, sizeof(msg)))
		return EFAULT;
	*step = 4;
	if (msg.flags || msg.type != BUS1_MESSAGE_TYPE_USER)
		return EINVAL;
	*step = 5;
	if (msg.n_data > MAX_RW_COUNT)
		return EMSGSIZE;
	iov = malloc(sizeof(*iov));
	if (!iov)
		oom();
	*step = 6;
	err = import_iov(msg.ptr_data_vecs, msg.n_data_vecs, iov);
	if (!err && iov->total < msg.n_data) {
		*step = 7;
		err = EMSGSIZE;
	}
	if (err)
		goto out;

	/* step 9: transfers */
	*step = 9;
	if (msg.n_transfers > m->max_objects) {
		err = EDQUOT;
		goto out;
	}
	trn = calloc(msg.n_transfers + 1, sizeof(*trn));
	created = calloc(msg.n_transfers + 1, sizeof(*created));
	if (!trn || !created)
		oom();
	for (j = 0; j < msg.n_transfers; ++j) {
		struct m_obj *o;

		if (!get(msg.ptr_transfers, j, &tr, sizeof(tr))) {
			err = EFAULT;
			goto out;
		}
		if (tr.flags & ~BUS1_TRANSFER_FLAG_CREATE) {
			err = EINVAL;
			goto out;
		}
		if (tr.flags & BUS1_TRANSFER_FLAG_CREATE) {
			if (tr.id != BUS1_INVALID) {
				err = EINVAL;
				goto out;
			}
			trn[j] = node_new(m, peer);
			trn[j]->id = model_id_alloc(m, peer);
			created[j] = true;
		} else {
			o = model_lookup(m, peer, tr.id);
			if (!o || o->is_node) {
				err = EBADRQC;
				goto out;
			}
			trn[j] = ((struct m_handle *)o->ptr)->node;
		}
	}

	/* step 10: destinations */
	*step = 10;
	for (i = 0; i < cmd.n_destinations; ++i) {
		struct m_obj *o;

		if (!get(cmd.ptr_destinations, i, &id, sizeof(id))) {
			err = EFAULT;
			goto out;
		}
		o = model_lookup(m, peer, id);
		if (!o || o->is_node) {
			err = EBADRQC;
			goto out;
		}
		/* no quota holds a payload of more than half the limit */
		if (msg.n_data > m->max_bytes / 2) {
			err = EDQUOT;
			goto out;
		}
		dsts = realloc(dsts, (i + 1) * sizeof(*dsts));
		if (!dsts)
			oom();
		dsts[i] = ((struct m_handle *)o->ptr)->node;
	}

	/* step 11: payload */
	*step = 11;
	if (cmd.n_destinations && msg.n_data) {
		if (!iov_access(iov, msg.n_data, false)) {
			err = EFAULT;
			goto out;
		}
		data = model_alloc(m, msg.n_data);
		iov_gather(iov, data, msg.n_data);
	}

	/*
	 * step 12: write-back, the only writes of SEND; a fault may leave
	 * any prefix of them (5.5), so they go to the prefix log
	 */
	*step = 12;
	w_log = true;
	for (j = 0; j < msg.n_transfers && !err; ++j) {
		if (!created[j])
			continue;
		tr.flags = 0;
		tr.id = trn[j]->id;
		if (!put(msg.ptr_transfers, j, &tr, sizeof(tr)))
			err = EFAULT;
	}
	for (i = 0; i < cmd.n_destinations && !err; ++i) {
		int32_t zero = 0;

		if (!put(cmd.ptr_errors, i, &zero, sizeof(zero)))
			err = EFAULT;
	}
	w_log = false;
	if (err)
		goto out;
	shadow_log_commit();

	/* step 13: commit */
	*step = 13;
	tx = m->tx_next++;
	for (j = 0; j < msg.n_transfers; ++j) {
		if (!created[j])
			continue;
		trn[j]->installed = true;
		tbl_add(m, peer, trn[j]->id, true, trn[j]);
	}
	{
		struct m_msg **copies = calloc(cmd.n_destinations + 1,
					       sizeof(*copies));
		struct m_entry **ents = calloc(cmd.n_destinations + 1,
					       sizeof(*ents));

		if (!copies || !ents)
			oom();
		/* new handles count from staging on */
		for (i = 0; i < cmd.n_destinations; ++i) {
			struct m_msg *c = model_alloc(m, sizeof(*c));

			c->dst = dsts[i];
			c->account = m->peers[peer].uid;
			c->n_data = msg.n_data;
			c->data = data;
			c->k = msg.n_transfers;
			c->h = model_alloc(m, (c->k + 1) * sizeof(*c->h));
			for (j = 0; j < c->k; ++j) {
				c->h[j] = handle_new(m, dsts[i]->owner, trn[j]);
				trn[j]->n_handles++;
			}
			copies[i] = c;
		}
		for (i = 0; i < cmd.n_destinations; ++i) {
			struct m_msg *c = copies[i];

			if (!m->peers[c->dst->owner].open)
				continue;
			ents[i] = entry_new(m, M_USER, tx);
			ents[i]->msg = c;
			q_push(m, c->dst->owner, ents[i]);
			for (j = 0; j < c->k; ++j) {
				c->h[j]->carrier = ents[i];
				node_link(trn[j], c->h[j]);
			}
		}
		/* late NODE_RELEASE for handles to dead nodes (D20) */
		for (i = 0; i < cmd.n_destinations; ++i) {
			if (!ents[i])
				continue;
			for (j = 0; j < copies[i]->k; ++j)
				if (trn[j]->dead) {
					model_cov.late_nr_send++;
					push_nr(m, copies[i]->h[j], tx,
						ents[i]);
				}
		}
		/* copies for closed receivers are discarded (D17, D18) */
		for (i = 0; i < cmd.n_destinations; ++i)
			if (!ents[i]) {
				model_cov.discard_closed++;
				msg_discard(m, copies[i], tx);
			}
		free(copies);
		free(ents);
	}

out:
	/* CREATE node IDs of step 9 are burned (and maybe written back) */
	if (err)
		failed_ids_since(m, peer, counter);
	free(iov);
	free(trn);
	free(created);
	free(dsts);
	return err;
}

/* ---- RECV (5.4) ---- */

struct recv_in {
	struct bus1_cmd_recv cmd;
	struct bus1_message msg;
};

static int recv_read(uint64_t cmd_addr, struct recv_in *in)
{
	if (!get(cmd_addr, 0, &in->cmd, sizeof(in->cmd)))
		return EFAULT;
	if (in->cmd.flags)
		return EINVAL;
	if (!get(in->cmd.ptr_message, 0, &in->msg, sizeof(in->msg)))
		return EFAULT;
	if (in->msg.flags || in->msg.type != BUS1_INVALID)
		return EINVAL;
	return 0;
}

static uint64_t entry_type(const struct m_entry *e)
{
	return (uint64_t)e->kind;
}

/* metadata and message struct, written on success and on EMSGSIZE */
static int recv_write_info(const struct recv_in *in, uint64_t type,
			   uint64_t id, uint64_t account, uint64_t k,
			   uint64_t d)
{
	struct bus1_metadata meta = { 0, id, account };
	struct bus1_message out = in->msg;

	if (!put(in->cmd.ptr_metadata, 0, &meta, sizeof(meta)))
		return EFAULT;
	out.flags = 0;
	out.type = type;
	out.n_transfers = k;
	out.n_data = d;
	if (!put(in->cmd.ptr_message, 0, &out, sizeof(out)))
		return EFAULT;
	return 0;
}

/* recv_eval() with every write in the prefix log, in the spec's order. */
static int recv_eval_log(struct model *m, int peer, const struct recv_in *in,
			 struct m_entry *e, bool *assigns)
{
	struct m_iov *iov;
	struct m_msg *msg;
	uint64_t next, j, d, k, id;
	int err;

	*assigns = false;
	if (e->kind == M_NODE_RELEASE)
		return recv_write_info(in, entry_type(e), e->handle->id,
				       BUS1_INVALID, 0, 0);
	if (e->kind == M_HANDLE_RELEASE)
		return recv_write_info(in, entry_type(e), e->node->id,
				       BUS1_INVALID, 0, 0);

	msg = e->msg;
	k = msg->k;
	d = msg->n_data;
	if (k > in->msg.n_transfers || d > in->msg.n_data)
		goto emsgsize;
	iov = malloc(sizeof(*iov));
	if (!iov)
		oom();
	err = import_iov(in->msg.ptr_data_vecs, in->msg.n_data_vecs, iov);
	if (err) {
		free(iov);
		return err;
	}
	if (iov->total < in->msg.n_data) {
		free(iov);
		goto emsgsize;
	}
	next = m->peers[peer].counter;
	for (j = 0; j < k; ++j)
		if (!msg->h[j]->id)
			*assigns = true;
	for (j = 0; j < k; ++j) {
		struct bus1_transfer tr;

		id = msg->h[j]->id ? msg->h[j]->id : ((next++ << 1) | 1);
		tr.flags = 0;
		tr.id = id;
		if (!put(in->msg.ptr_transfers, j, &tr, sizeof(tr))) {
			free(iov);
			return EFAULT;
		}
	}
	if (d) {
		/* logged in full: the kernel may copy a head of it */
		iov_scatter(iov, msg->data, d);
		if (!iov_access(iov, d, true)) {
			free(iov);
			return EFAULT;
		}
	}
	free(iov);
	return recv_write_info(in, M_USER, msg->dst->id, msg->account, k, d);

emsgsize:
	err = recv_write_info(in, M_USER, msg->dst->id, msg->account, k, d);
	return err ? err : EMSGSIZE;
}

/*
 * Evaluate delivering @e with the caller's buffers: the errno, whether IDs
 * get assigned, and (always) the predicted writes in the shadow. Nothing
 * is written before the first write of 6.5 (EMSGSIZE: of the metadata), so
 * after EFAULT any prefix of the writes of 6.5 to 6.8 (or of the EMSGSIZE
 * write-back, or of a notification) may be found, and nothing else: no
 * transfer slot from k on, no byte from d on. Without a fault the writes
 * are exact.
 */
static int recv_eval(struct model *m, int peer, const struct recv_in *in,
		     struct m_entry *e, bool *assigns)
{
	int err;

	w_log = true;
	err = recv_eval_log(m, peer, in, e, assigns);
	w_log = false;
	if (err != EFAULT)
		shadow_log_commit();
	return err;
}

/* Entries RECV may deliver next: see model.h. */
static size_t recv_candidates(struct model *m, int peer,
			      struct m_entry **out, size_t max)
{
	struct m_entry *e, *first = NULL;
	bool user_seen = false;
	size_t n = 0;

	for (e = m->peers[peer].head; e; e = e->next) {
		if (entry_stale(e))
			continue;
		if (!first)
			first = e;
		if (e->tx != first->tx)
			break;
		if (e->kind == M_USER) {
			if (!user_seen && n < max)
				out[n++] = e;
			user_seen = true;
			continue;
		}
		if (e->kind == M_NODE_RELEASE && e->handle->state != H_INSTALLED)
			continue;	/* its carrier comes first */
		if (n < max)
			out[n++] = e;
	}
	return n;
}

void model_recv_plan(struct model *m, int peer, uint64_t cmd_addr,
		     struct m_recv_plan *plan)
{
	struct m_entry *cand[M_MAX_CAND];
	struct recv_in in;
	size_t i;

	memset(plan, 0, sizeof(*plan));
	plan->early_err = recv_read(cmd_addr, &in);
	if (plan->early_err)
		return;
	_Static_assert(sizeof(plan->in) == sizeof(in), "recv_in size");
	memcpy(plan->in, &in, sizeof(in));
	/*
	 * Step 5 discards every stale entry in front of the next receivable
	 * one, whatever happens later. A discarded message can queue a
	 * HANDLE_RELEASE to this very peer, which RECV then finds.
	 */
	for (;;) {
		struct m_entry *e, *next, *first = NULL;
		bool again = false;

		for (e = m->peers[peer].head; e && !first; e = e->next)
			if (!entry_stale(e))
				first = e;
		for (e = m->peers[peer].head; e && e != first; e = next) {
			next = e->next;
			if (!entry_stale(e))
				break;	/* queued by a discard just now */
			/* a stale notification of the first receivable
			 * entry's transaction may come after it */
			if (first && e->tx == first->tx && e->kind != M_USER)
				continue;
			q_remove(m, peer, e);
			if (e->kind == M_USER) {
				model_cov.discard_stale++;
				msg_discard(m, e->msg, m->tx_next++);
				again = true;
			}
		}
		if (!again)
			break;
	}
	plan->n = recv_candidates(m, peer, cand, M_MAX_CAND);
	for (i = 0; i < plan->n; ++i) {
		struct m_recv_pred *p = &plan->pred[i];

		p->entry = cand[i];
		shadow_reset();
		p->err = recv_eval(m, peer, &in, cand[i], &p->assigns);
	}
	shadow_reset();
}

void model_recv_predict(struct model *m, int peer,
			const struct m_recv_plan *plan,
			const struct m_recv_pred *pred)
{
	struct recv_in in;
	bool assigns;

	shadow_reset();
	if (plan->early_err || !pred->entry)
		return;
	memcpy(&in, plan->in, sizeof(in));
	recv_eval(m, peer, &in, pred->entry, &assigns);
}

void model_recv_commit(struct model *m, int peer,
		       const struct m_recv_pred *pred)
{
	struct m_peer *p = &m->peers[peer];
	struct m_entry *e, *next, *target = pred ? pred->entry : NULL;
	struct m_msg *msg;
	size_t j;

	/*
	 * Discard the stale messages RECV passed on its way. Leading stale
	 * entries went in model_recv_plan(); these are stale messages of the
	 * target's own transaction, which the module keeps in destination
	 * order ahead of the notifications. Stale notifications of that
	 * transaction stay: the kernel may not have passed them yet (the
	 * order inside a transaction is open), and they make no difference
	 * except a POLLIN the spec allows (3.5).
	 */
	for (e = p->head; e && e != target; e = next) {
		next = e->next;
		if (!entry_stale(e) || (e->kind != M_USER && target))
			continue;
		q_remove(m, peer, e);
		if (e->kind == M_USER) {
			model_cov.discard_stale++;
			msg_discard(m, e->msg, m->tx_next++);
		}
	}
	if (!target)
		return;

	switch (target->kind) {
	case M_USER:
		msg = target->msg;
		if (pred->err && !(pred->err == EFAULT && pred->assigns))
			return;
		for (j = 0; j < msg->k; ++j) {
			if (msg->h[j]->id)
				continue;
			msg->h[j]->id = model_id_alloc(m, peer);
			/* EBADRQC until a RECV of this message succeeds */
			if (pred->err)
				failed_id(&m->peers[peer].assigned,
					  msg->h[j]->id);
		}
		if (pred->err) {
			model_cov.recv_fault_assigned++;
			return;
		}
		for (j = 0; j < msg->k; ++j) {
			struct m_handle *h = msg->h[j];

			h->state = H_INSTALLED;
			h->carrier = NULL;
			tbl_add(m, peer, h->id, false, h);
		}
		q_remove(m, peer, target);
		break;
	case M_NODE_RELEASE:
		if (pred->err)
			return;
		q_remove(m, peer, target);
		/* retirement: the node is dead, so never a HANDLE_RELEASE */
		handle_drop(m, target->handle, 0);
		break;
	case M_HANDLE_RELEASE:
		if (pred->err)
			return;
		q_remove(m, peer, target);
		tbl_del(m, peer, target->node->id);
		target->node->installed = false;
		break;
	}
}

bool model_id_pending(struct model *m, int peer, uint64_t id)
{
	struct m_entry *e;
	size_t j;

	for (e = m->peers[peer].head; e; e = e->next)
		for (j = 0; e->kind == M_USER && j < e->msg->k; ++j)
			if (e->msg->h[j]->id == id)
				return true;
	return false;
}

bool model_has_live_entry(struct model *m, int peer)
{
	struct m_entry *e;

	for (e = m->peers[peer].head; e; e = e->next)
		if (!entry_stale(e))
			return true;
	return false;
}

bool model_queue_empty(struct model *m, int peer)
{
	return !m->peers[peer].head;
}

/* ---- debugging aid: the whole state, for a mismatch report ---- */

static const char *const kind_names[] = { "USER", "NODE_RELEASE",
					  "HANDLE_RELEASE" };

void model_dump(struct model *m, FILE *f)
{
	size_t p, i, j;

	for (p = 0; p < m->n_peers; ++p) {
		struct m_peer *pe = &m->peers[p];
		struct m_entry *e;

		if (!pe->open)
			continue;
		fprintf(f, "# peer %zu uid %llu next id %llu\n", p,
			(unsigned long long)pe->uid,
			(unsigned long long)model_next_id(m, (int)p));
		for (i = 0; i < pe->n_objs; ++i) {
			if (pe->objs[i].is_node) {
				struct m_node *n = pe->objs[i].ptr;

				fprintf(f, "#   node %llu: %llu handles%s [",
					(unsigned long long)n->id,
					(unsigned long long)n->n_handles,
					n->hr_used ? ", HANDLE_RELEASE queued" : "");
				for (j = 0; j < n->n_list; ++j) {
					struct m_handle *h = n->handles[j];

					fprintf(f, " p%d:%llu%s", h->owner,
						(unsigned long long)h->id,
						h->state == H_FLIGHT ? "(flight)" :
						h->state == H_GONE ? "(gone)" : "");
				}
				fprintf(f, " ]\n");
			} else {
				struct m_handle *h = pe->objs[i].ptr;

				fprintf(f, "#   handle %llu -> p%d node %llu%s%s\n",
					(unsigned long long)h->id, h->node->owner,
					(unsigned long long)h->node->id,
					h->node->dead ? " (dead)" : "",
					h->nr_used ? ", NODE_RELEASE queued" : "");
			}
		}
		for (e = pe->head; e; e = e->next) {
			fprintf(f, "#   queue: tx %llu %s", (unsigned long long)e->tx,
				kind_names[e->kind]);
			if (e->kind == M_USER) {
				fprintf(f, " to node %llu, %llu bytes, handles [",
					(unsigned long long)e->msg->dst->id,
					(unsigned long long)e->msg->n_data);
				for (j = 0; j < e->msg->k; ++j)
					fprintf(f, " p%d node %llu", e->msg->h[j]->node->owner,
						(unsigned long long)e->msg->h[j]->node->id);
				fprintf(f, " ]");
			} else if (e->kind == M_NODE_RELEASE) {
				fprintf(f, " handle %llu", (unsigned long long)e->handle->id);
			} else {
				fprintf(f, " node %llu", (unsigned long long)e->node->id);
			}
			fprintf(f, "%s\n", entry_stale(e) ? " (stale)" : "");
		}
	}
}
