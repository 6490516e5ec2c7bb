// SPDX-License-Identifier: GPL-2.0
/*
 * bus1-model: random single-process command sequences run against the
 * reference model (model.c) and /dev/bus1 side by side. Every return
 * value, every ID written back, every received message and every byte a
 * command may write must match; see model.h for what is compared as a set.
 * After EFAULT, user memory may show a prefix of the writes the spec
 * orders, where it allows one (5.5), and nothing else (mem.h).
 *
 * Usage: bus1-model [-s SEED] [-r ROUNDS] [-n OPS] [-d DEVICE] [-v]
 *   Each round starts from fresh peers, runs OPS random commands, drains
 *   every queue, closes everything and (when debugfs is mounted) requires
 *   the module's object counters to return to zero. Round i uses seed
 *   SEED + i; a failing round is replayed alone with -s <its seed> -r 1.
 *   Defaults come from BUS1_MODEL_SEED, BUS1_MODEL_ROUNDS, BUS1_MODEL_OPS
 *   (else 1, 20, 5000). Output is TAP, one result per round, plus one for
 *   coverage (long runs) and, with BUS1_MODEL_MIN_STEPS=N, one that
 *   requires at least N steps checked against the model in total.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/bus1.h>
#include "mem.h"
#include "model.h"

#define MAX_RW_COUNT	((uint64_t)(INT_MAX & ~(int)(MEM_PAGE - 1)))
#define MAX_SLOTS	12
#define MAX_PEERS_OPEN	5
#define HIST		48
#define KADDR1		0xffff888000000000ULL
#define KADDR2		0xffffffff81000000ULL
#define NONCANON	0x0000800000000000ULL
#define PAT_DST		0xa5
#define PAT_RECV	0x5a

/* ---- options and random numbers ---- */

static const char *dev_path = "/dev/bus1";
static uint64_t opt_seed = 1, opt_rounds = 20, opt_ops = 5000;
static int opt_verbose, opt_dump;
static uint64_t opt_dump_at = UINT64_MAX;
static uint64_t opt_min_steps;
static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rn(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* true with probability @pm per mille */
static bool pm(unsigned int pm)
{
	return rn(1000) < pm;
}

/* ---- state of one round ---- */

struct slot {
	int fd;
	int peer;
};

static struct model M;
static struct slot slots[MAX_SLOTS];
static size_t n_slots;
static int fd_null, fd_pipe[2], fd_opath;
static int fd_closed = 999;
static bool is_root;
static uint64_t op_index;
static char hist[HIST][320];
static char desc[320];
static bool round_failed;
static const char *round_why;

/* statistics over all rounds */
static uint64_t st_ops, st_cmd[5][2], st_err[5][256], st_deliver[3];
static uint64_t st_failed_ids, st_pending_ids, st_send_wb_fault, st_recv_probe;

static void hist_push(const char *s)
{
	snprintf(hist[op_index % HIST], sizeof(hist[0]), "#%" PRIu64 " %s",
		 op_index, s);
	if (opt_verbose)
		printf("# %s\n", hist[op_index % HIST]);
}

static void dprint(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void dprint(const char *fmt, ...)
{
	size_t l = strlen(desc);
	va_list ap;

	if (l >= sizeof(desc) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(desc + l, sizeof(desc) - l, fmt, ap);
	va_end(ap);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;
	uint64_t i;

	if (round_failed)
		return;
	round_failed = true;
	printf("# MISMATCH at step %" PRIu64 ": %s\n#   ", op_index, desc);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n# preceding steps (oldest first):\n");
	for (i = op_index > HIST - 1 ? op_index - (HIST - 1) : 0;
	     i < op_index; ++i)
		printf("#   %s\n", hist[i % HIST]);
	round_why = "model and module disagree";
	if (opt_dump)
		model_dump(&M, stdout);
}

static const char *ename(int e)
{
	switch (e) {
	case 0: return "0";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EBADRQC: return "EBADRQC";
	case EDQUOT: return "EDQUOT";
	case ENOMEM: return "ENOMEM";
	case EMSGSIZE: return "EMSGSIZE";
	case EAGAIN: return "EAGAIN";
	case ENOTTY: return "ENOTTY";
	default: return strerror(e);
	}
}

static int kioctl(int fd, unsigned long cmd, uint64_t arg)
{
	return ioctl(fd, cmd, (void *)(uintptr_t)arg) < 0 ? errno : 0;
}

/* ---- peers and slots ---- */

static int slot_peer_fds(int peer)
{
	size_t i;
	int n = 0;

	for (i = 0; i < n_slots; ++i)
		n += slots[i].peer == peer;
	return n;
}

static size_t n_open_peers(void)
{
	size_t i, n = 0;

	for (i = 0; i < M.n_peers; ++i)
		n += M.peers[i].open;
	return n;
}

static int open_peer(void)
{
	static const uint64_t uids[] = { 0, 0, 1000, 1001 };
	uint64_t uid = is_root ? uids[rn(4)] : (uint64_t)geteuid();
	int fd;

	if (n_slots >= MAX_SLOTS)
		return -1;
	if (is_root && uid && seteuid((uid_t)uid)) {
		perror("seteuid");
		exit(1);
	}
	fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (is_root && uid && seteuid(0)) {
		perror("seteuid");
		exit(1);
	}
	if (fd < 0) {
		fprintf(stderr, "open %s: %m\n", dev_path);
		exit(1);
	}
	slots[n_slots].fd = fd;
	slots[n_slots].peer = model_peer_open(&M, uid);
	snprintf(desc, sizeof(desc), "OPEN slot %zu = fd %d, peer %d uid %" PRIu64,
		 n_slots, fd, slots[n_slots].peer, uid);
	n_slots++;
	return 0;
}

static void close_slot(size_t s)
{
	int peer = slots[s].peer;

	snprintf(desc, sizeof(desc), "CLOSE slot %zu fd %d (peer %d%s)", s,
		 slots[s].fd, peer,
		 slot_peer_fds(peer) == 1 ? ", last fd" : "");
	close(slots[s].fd);
	slots[s] = slots[--n_slots];
	if (!slot_peer_fds(peer))
		model_peer_close(&M, peer);
}

static size_t pick_slot(void)
{
	return rn(n_slots);
}

/* ---- IDs ---- */

static uint64_t pick_obj(int peer, int want) /* 0 any, 1 node, 2 handle */
{
	struct m_peer *p = &M.peers[peer];
	size_t i, n = 0, k;

	for (i = 0; i < p->n_objs; ++i)
		n += !want || (want == 1) == p->objs[i].is_node;
	if (!n)
		return 0;
	k = rn(n);
	for (i = 0; i < p->n_objs; ++i) {
		if (want && (want == 1) != p->objs[i].is_node)
			continue;
		if (!k--)
			return p->objs[i].id;
	}
	return 0;
}

/*
 * An ID a failed command allocated in @peer and maybe wrote back (burned,
 * or assigned by a RECV that faulted and not valid before a RECV of its
 * message succeeds), else 0. The model's table says whether it is valid
 * now; the newest is the likeliest still to be pending.
 */
static uint64_t failed_id(int peer)
{
	struct m_peer *p = &M.peers[peer];
	const struct m_id_ring *r = p->assigned.n && rn(2) ? &p->assigned :
							    &p->burned;
	uint64_t id;

	if (!r->n)
		return 0;
	if (rn(2))
		id = r->id[(r->n - 1) % M_FAILED_KEPT];
	else
		id = r->id[rn(r->n < M_FAILED_KEPT ? r->n : M_FAILED_KEPT)];
	st_failed_ids++;
	st_pending_ids += model_id_pending(&M, peer, id);
	return id;
}

/*
 * How often to try a failed command's ID, per mille: often while a RECV
 * that faulted has assigned IDs that are not installed yet, since that
 * window is short.
 */
static unsigned int failed_pm(int peer)
{
	const struct m_id_ring *r = &M.peers[peer].assigned;

	if (r->n && model_id_pending(&M, peer, r->id[(r->n - 1) % M_FAILED_KEPT]))
		return 250;
	return 20;
}

static uint64_t bad_id(int peer)
{
	struct m_peer *p = &M.peers[peer];
	uint64_t id;

	switch (rn(8)) {
	case 0: return 0;
	case 1: return 2 + 2 * rn(100);
	case 2: return BUS1_INVALID;
	case 3: return model_next_id(&M, peer) + 2 * rn(4);
	case 4:
		if (p->n_gone)
			return p->gone[rn(p->n_gone)];
		return 1;
	case 5:
		id = pick_obj(peer, 1);	/* a node where a handle is needed */
		return id ? id : 3;
	case 6:
		id = failed_id(peer);
		return id ? id : 5;
	default:
		return 1 + 2 * rn(64);	/* maybe valid, maybe not */
	}
}

static uint64_t handle_or_bad(int peer)
{
	uint64_t id = pm(30) ? 0 : pm(failed_pm(peer)) ? failed_id(peer) :
		      pick_obj(peer, 2);

	return id ? id : bad_id(peer);
}

/* ---- user memory layout of one command ---- */

enum amode {
	A_OK,		/* scratch, with a canary element behind it */
	A_RTAIL,	/* first @ok elements readable, the rest unmapped */
	A_WTAIL,	/* first @ok elements writable, the rest read-only */
	A_BAD,		/* an address that is never accessible */
};

/*
 * Inaccessible addresses. Arrays and other structs whose access time
 * matters get user-space addresses that are merely unmapped: the spec lets
 * an implementation reject a non-user extent up front (2.4), which would
 * change the errno or the burned IDs of a command with several defects.
 * Command structs, read first, may get any address.
 */
static uint64_t bad_addr_user(void)
{
	uint64_t z;

	switch (rn(3)) {
	case 0: return 0;
	case 1: return 0x1000;
	default:
		z = mem_zone_r();
		return z ? z : 0;
	}
}

static uint64_t bad_addr(size_t elem)
{
	switch (rn(6)) {
	case 0: return 0;
	case 1: return KADDR1 + 8 * rn(512);
	case 2: return KADDR2;
	case 3: return 0 - (uint64_t)elem;
	case 4: return NONCANON;
	default: return bad_addr_user();
	}
}

/*
 * Place an array of @n elements of @elem bytes; @content holds the
 * elements to store (for A_RTAIL only the first @ok are stored). The array
 * and one element behind it become a shadow region.
 */
static uint64_t place(enum amode mode, size_t elem, size_t n, size_t ok,
		      const void *content, int fill)
{
	uint64_t addr, z = 0;
	size_t len = elem * n;
	unsigned char *buf;

	if (mode == A_RTAIL || mode == A_WTAIL) {
		z = mode == A_RTAIL ? mem_zone_r() : mem_zone_w();
		if (!z || ok > MEM_PAGE / elem ||
		    (mode == A_WTAIL && (n - ok + 1) * elem > MEM_PAGE))
			mode = A_OK;
	}
	if (mode == A_BAD)
		return bad_addr_user();

	buf = malloc(len + elem);
	if (!buf)
		abort();
	memset(buf, fill, len + elem);
	if (content)
		memcpy(buf, content, len);

	switch (mode) {
	case A_RTAIL:
		addr = z - ok * elem;
		mem_store(addr, buf, ok * elem);
		shadow_region(addr, (ok + 1) * elem);
		break;
	case A_WTAIL:
		addr = z - ok * elem;
		mem_store(addr, buf, len + elem);
		shadow_region(addr, len + elem);
		break;
	default:
		addr = mem_scratch(len + elem);
		mem_store(addr, buf, len + elem);
		shadow_region(addr, len + elem);
		break;
	}
	free(buf);
	return addr;
}

/* A mode for an array: mostly fine, sometimes a defect. */
static enum amode pick_mode(unsigned int permille, bool writable_tail)
{
	if (!pm(permille))
		return A_OK;
	switch (rn(writable_tail ? 3 : 2)) {
	case 0: return A_BAD;
	case 1: return A_RTAIL;
	default: return A_WTAIL;
	}
}

/* ---- comparing one command ---- */

static void check_result(const char *what, int expect, int got)
{
	char why[256];

	if (expect != got) {
		fail("%s: model says %s, module returned %s", what,
		     ename(expect), ename(got));
		return;
	}
	if (shadow_compare(why, sizeof(why)))
		fail("%s returned %s as expected, but %s", what, ename(got),
		     why);
}

static void count_cmd(int c, int r)
{
	st_cmd[c][r ? 1 : 0]++;
	st_err[c][r & 255]++;
}

/* ---- TRANSFER ---- */

static void op_transfer(void)
{
	size_t s = pick_slot(), i, n, m_ok = 0, t;
	int from = slots[s].peer;
	struct bus1_cmd_transfer cmd = {};
	struct bus1_transfer src[8];
	struct m_transfer_args a = { .from = from };
	enum amode msrc, mdst;
	uint64_t cmd_addr;
	int expect, r;

	snprintf(desc, sizeof(desc), "TRANSFER slot %zu (peer %d) ", s, from);

	/* to */
	t = rn(100);
	if (t < 45) {
		cmd.to = BUS1_INVALID;
		a.to = from;
		dprint("to=self");
	} else if (t < 90) {
		size_t s2 = pick_slot();

		cmd.to = (uint64_t)slots[s2].fd;
		a.to = slots[s2].peer;
		dprint("to=fd %d (peer %d)", slots[s2].fd, a.to);
	} else {
		switch (rn(7)) {
		case 0: cmd.to = (uint64_t)fd_null; a.to_errno = EOPNOTSUPP; break;
		case 1: cmd.to = (uint64_t)fd_pipe[rn(2)]; a.to_errno = EOPNOTSUPP; break;
		case 2: cmd.to = (uint64_t)fd_opath; a.to_errno = EBADF; break;
		case 3: cmd.to = (uint64_t)fd_closed; a.to_errno = EBADF; break;
		case 4: cmd.to = 1ULL << 31; a.to_errno = EBADF; break;
		case 5: cmd.to = (1ULL << 32) + 3; a.to_errno = EBADF; break;
		default: cmd.to = 0xffffffffULL; a.to_errno = EBADF; break;
		}
		a.to = -1;
		dprint("to=%" PRIu64 " (bad)", (uint64_t)cmd.to);
	}

	n = pm(50) ? 0 : 1 + rn(pm(100) ? 8 : 4);
	cmd.n_transfers = n;
	dprint(" n=%zu [", n);
	for (i = 0; i < n; ++i) {
		uint64_t id = pm(450) ? (pm(failed_pm(from)) ?
					 failed_id(from) :
					 pick_obj(from, 2)) : 0;

		if (id) {
			src[i].flags = 0;
			src[i].id = id;
		} else {
			src[i].flags = BUS1_TRANSFER_FLAG_CREATE;
			src[i].id = BUS1_INVALID;
		}
		switch (pm(60) ? rn(3) : 3) {
		case 0: src[i].flags |= pm(500) ? 2 : 1ULL << 63; break;
		case 1:
			src[i].flags = BUS1_TRANSFER_FLAG_CREATE;
			src[i].id = rn(2) ? 0 : 1 + 2 * rn(8);
			break;
		case 2: src[i].flags = 0; src[i].id = bad_id(from); break;
		default: break;
		}
		dprint("%s{%" PRIx64 ",%" PRIu64 "}", i ? "," : "",
		       (uint64_t)src[i].flags, (uint64_t)src[i].id);
	}
	dprint("]");

	msrc = n ? pick_mode(25, true) : A_OK;
	mdst = n ? pick_mode(25, true) : A_OK;
	if (msrc == A_RTAIL || msrc == A_WTAIL || mdst == A_RTAIL ||
	    mdst == A_WTAIL)
		m_ok = rn(n);
	/* with no elements the arrays are never accessed */
	cmd.ptr_src = n || !pm(200) ?
		      place(msrc, sizeof(src[0]), n, m_ok, src, 0) :
		      bad_addr(16);
	cmd.ptr_dst = n || !pm(200) ?
		      place(mdst, sizeof(src[0]), n, m_ok, NULL, PAT_DST) :
		      bad_addr(16);
	if (msrc != A_OK || mdst != A_OK)
		dprint(" src/dst modes %d/%d ok=%zu (0x%llx/0x%llx)", msrc, mdst, m_ok,
		       (unsigned long long)cmd.ptr_src,
		       (unsigned long long)cmd.ptr_dst);
	if (pm(15)) {
		cmd.flags = 1ULL << rn(64);
		dprint(" cmd.flags=%" PRIx64, (uint64_t)cmd.flags);
	}
	cmd_addr = pm(5) ? bad_addr(40) : place(A_OK, sizeof(cmd), 1, 0, &cmd, 0);

	expect = model_transfer(&M, cmd_addr, &a);
	r = kioctl(slots[s].fd, BUS1_CMD_TRANSFER, cmd_addr);
	dprint(" -> %s", ename(r));
	count_cmd(0, r);
	check_result("TRANSFER", expect, r);
}

/* ---- RELEASE ---- */

static void op_release(void)
{
	size_t s = pick_slot(), i, n, m_ok = 0;
	int peer = slots[s].peer;
	struct bus1_cmd_release cmd = {};
	uint64_t ids[8], cmd_addr;
	enum amode mode = A_OK;
	int expect, r;

	n = pm(40) ? 0 : 1 + rn(M.peers[peer].n_objs > 24 ? 8 : 3);
	for (i = 0; i < n; ++i) {
		if (i && pm(100))
			ids[i] = ids[rn(i)];
		else if (pm(30))
			ids[i] = bad_id(peer);
		else if (pm(failed_pm(peer)))
			ids[i] = failed_id(peer);
		else
			ids[i] = pick_obj(peer, 0);
		if (!ids[i])
			ids[i] = bad_id(peer);
	}
	cmd.n_ids = n;
	if (n && pm(20)) {
		mode = rn(3) ? A_RTAIL : A_BAD;
		m_ok = rn(n);
		if (pm(300) && M.peers[peer].n_objs) {
			/*
			 * A huge count ended by the unmapped tail. Only valid
			 * IDs before it: an implementation may check an
			 * overflowing extent up front (2.4), which would
			 * turn an EBADRQC into EFAULT.
			 */
			cmd.n_ids = rn(2) ? 1ULL << 40 : UINT64_MAX / 8;
			for (i = 0; i < n; ++i)
				ids[i] = pick_obj(peer, 0);
			m_ok = n;
			mode = A_RTAIL;
		}
	}
	cmd.ptr_ids = n || !pm(200) ? place(mode, 8, n, m_ok, ids, 0) :
				     bad_addr(8);
	snprintf(desc, sizeof(desc), "RELEASE slot %zu (peer %d) n=%" PRIu64 " [",
		 s, peer, (uint64_t)cmd.n_ids);
	for (i = 0; i < n; ++i)
		dprint("%s%" PRIu64, i ? "," : "", ids[i]);
	dprint("]%s", mode == A_OK ? "" : mode == A_BAD ? " bad-ptr" : " tail-unmapped");
	if (mode == A_RTAIL)
		dprint(" ok=%zu", m_ok);
	if (pm(15)) {
		cmd.flags = 1ULL << rn(64);
		dprint(" cmd.flags=%" PRIx64, (uint64_t)cmd.flags);
	}
	cmd_addr = pm(5) ? bad_addr(24) : place(A_OK, sizeof(cmd), 1, 0, &cmd, 0);

	expect = model_release(&M, peer, cmd_addr);
	r = kioctl(slots[s].fd, BUS1_CMD_RELEASE, cmd_addr);
	dprint(" -> %s", ename(r));
	count_cmd(1, r);
	check_result("RELEASE", expect, r);
}

/* ---- SEND ---- */

static void op_send(void)
{
	size_t s = pick_slot(), i, n_dst, n_tr, n_vec, m_ok;
	int peer = slots[s].peer;
	struct bus1_cmd_send cmd = {};
	struct bus1_message msg = {};
	struct bus1_transfer tr[8];
	struct iovec vec[4];
	uint64_t dst[8], cmd_addr, data_len, extra = 0;
	enum amode mode;
	unsigned char *payload;
	int expect, r, tweak, step;

	snprintf(desc, sizeof(desc), "SEND slot %zu (peer %d)", s, peer);

	n_dst = pm(80) ? 0 : 1 + rn(pm(150) ? 6 : 3);
	if (!pick_obj(peer, 2) && pm(700))
		n_dst = 0;
	for (i = 0; i < n_dst; ++i) {
		if (i && pm(100))
			dst[i] = dst[rn(i)];
		else
			dst[i] = handle_or_bad(peer);
	}
	n_tr = pm(400) ? 0 : 1 + rn(4);
	for (i = 0; i < n_tr; ++i) {
		uint64_t id = pm(500) ? pick_obj(peer, 2) : 0;

		tr[i].flags = id ? 0 : BUS1_TRANSFER_FLAG_CREATE;
		tr[i].id = id ? id : BUS1_INVALID;
		switch (pm(20) ? rn(3) : 3) {
		case 0: tr[i].flags |= 1ULL << (1 + rn(63)); break;
		case 1: tr[i].flags = BUS1_TRANSFER_FLAG_CREATE; tr[i].id = 1; break;
		case 2: tr[i].flags = 0; tr[i].id = bad_id(peer); break;
		default: break;
		}
	}

	/* payload and iovecs */
	data_len = pm(150) ? 0 : rn(pm(100) ? 4096 : 64);
	if (pm(5))
		data_len = 65536 + rn(65536);
	payload = malloc(data_len + 1);
	if (!payload)
		abort();
	for (i = 0; i < data_len; ++i)
		payload[i] = (unsigned char)rnd();
	n_vec = data_len ? 1 + rn(3) : rn(2);
	if (pm(100))
		extra = 1 + rn(32);	/* iovec total above n_data */
	{
		uint64_t off = 0, base;

		base = data_len > 8192 ? mem_big() : mem_scratch(data_len + extra + 16);
		mem_store(base, payload, data_len);
		for (i = 0; i < n_vec; ++i) {
			uint64_t l = i + 1 == n_vec ? data_len - off :
				     rn(data_len - off + 1);

			vec[i].iov_base = (void *)(uintptr_t)(base + off);
			vec[i].iov_len = l;
			off += l;
		}
		if (extra) {
			/* a trailing vector beyond n_data, never read */
			vec[n_vec].iov_base = (void *)(uintptr_t)(pm(500) ?
				mem_zone_r() : base + data_len);
			if (!vec[n_vec].iov_base)
				vec[n_vec].iov_base = (void *)(uintptr_t)(base + data_len);
			vec[n_vec].iov_len = extra;
			n_vec++;
		}
	}
	msg.type = BUS1_MESSAGE_TYPE_USER;
	msg.n_transfers = n_tr;
	msg.n_data = data_len;
	msg.n_data_vecs = n_vec;

	tweak = pm(120) ? (int)rn(14) : -1;
	switch (tweak) {
	case 0: msg.flags = 1ULL << rn(64); break;
	case 1: msg.type = rn(2) ? 1 + rn(3) : BUS1_INVALID; break;
	case 2: msg.n_data = MAX_RW_COUNT + 1 + rn(2) * (1ULL << 40); break;
	case 3: msg.n_data_vecs = rn(2) ? 1025 : 1ULL << 32; break;
	case 4: /* iovec element length above SSIZE_MAX */
		if (n_vec)
			vec[rn(n_vec)].iov_len = (1ULL << 63) + rn(2);
		break;
	case 5: /* iovec base outside user space */
		if (n_vec) {
			i = rn(n_vec);
			vec[i].iov_base = (void *)(uintptr_t)KADDR1;
			if (!vec[i].iov_len)
				vec[i].iov_len = 1;
		}
		break;
	case 6: /* iovec total below n_data */
		msg.n_data = data_len + extra + 1 + rn(8);
		break;
	case 7: /* payload in unmapped memory */
		if (n_vec && data_len) {
			i = rn(n_vec);
			vec[i].iov_base = (void *)(uintptr_t)(mem_zone_r() - rn(2));
		}
		break;
	case 8: msg.n_transfers = rn(2) ? M.max_objects + 1 : 1ULL << 62; break;
	case 9: /* a payload no quota can hold */
		msg.n_data = M.max_bytes < MAX_RW_COUNT ? M.max_bytes : MAX_RW_COUNT;
		n_vec = 1;
		msg.n_data_vecs = 1;
		vec[0].iov_base = (void *)(uintptr_t)mem_big();
		vec[0].iov_len = msg.n_data;
		break;
	case 10: cmd.flags = 1ULL << rn(64); break;
	default: break;
	}

	/* arrays; one defect per iovec array (kernels differ in which of
	 * two they report first) */
	mode = tweak == 4 || tweak == 5 ? A_OK : pick_mode(15, false);
	msg.ptr_data_vecs = n_vec || !pm(200) ?
		place(mode, sizeof(vec[0]), n_vec, rn(n_vec + 1), vec, 0) :
		bad_addr(16);
	mode = n_tr ? pick_mode(20, true) : A_OK;
	m_ok = rn(n_tr + 1);
	msg.ptr_transfers = place(mode, sizeof(tr[0]), n_tr, m_ok, tr, 0);
	mode = n_dst ? pick_mode(15, false) : A_OK;
	cmd.n_destinations = n_dst;
	cmd.ptr_destinations = place(mode, 8, n_dst, rn(n_dst + 1), dst, 0);
	mode = n_dst ? pick_mode(15, true) : A_OK;
	cmd.ptr_errors = place(mode, 4, n_dst, rn(n_dst + 1), NULL, PAT_DST);
	if (tweak == 11 && n_dst)
		cmd.n_destinations = 1ULL << 40;	/* unmapped tail ends it */
	cmd.ptr_message = tweak == 12 ? bad_addr(56) :
			  place(tweak == 13 ? A_WTAIL : A_OK, sizeof(msg), 1, 0,
				&msg, 0);
	cmd_addr = pm(5) ? bad_addr(40) : place(A_OK, sizeof(cmd), 1, 0, &cmd, 0);

	dprint(" dst[%" PRIu64 "]={", (uint64_t)cmd.n_destinations);
	for (i = 0; i < n_dst; ++i)
		dprint("%s%" PRIu64, i ? "," : "", dst[i]);
	dprint("} tr[%" PRIu64 "]={", (uint64_t)msg.n_transfers);
	for (i = 0; i < n_tr; ++i)
		dprint("%s{%" PRIx64 ",%" PRIu64 "}", i ? "," : "",
		       (uint64_t)tr[i].flags, (uint64_t)tr[i].id);
	dprint("} n_data=%" PRIu64 " vecs=%" PRIu64 " tweak=%d", (uint64_t)msg.n_data,
	       (uint64_t)msg.n_data_vecs, tweak);

	/*
	 * Only a fault in the write-back phase (step 12) may leave writes:
	 * a prefix of the CREATE write-backs and errors[] = 0, in that order,
	 * which the model leaves in the shadow's prefix log. Any other
	 * failure writes nothing.
	 */
	expect = model_send(&M, peer, cmd_addr, &step);
	st_send_wb_fault += expect == EFAULT && step == 12;
	r = kioctl(slots[s].fd, BUS1_CMD_SEND, cmd_addr);
	dprint(" -> %s", ename(r));
	if (expect)
		dprint(" (model: %s at step %d)", ename(expect), step);
	count_cmd(2, r);
	check_result("SEND", expect, r);
	free(payload);
}

/* ---- RECV ---- */

struct recv_layout {
	uint64_t cmd, meta, msg, tr, data[4];
	size_t n_tr_slots, data_len[4], n_vec;
};

/* The largest payload queued for @peer: an ample buffer needs no more. */
static size_t max_payload(int peer)
{
	struct m_entry *e;
	size_t max = 0;

	for (e = M.peers[peer].head; e; e = e->next)
		if (e->kind == M_USER && e->msg->n_data > max)
			max = e->msg->n_data;
	return max + rn(64);
}

/* The TRANSFER recv_probe() issued, checked after the RECV is committed. */
struct probe {
	uint64_t cmd, src;
	struct bus1_transfer src_in, src_out;
	int r;
};

static const struct bus1_transfer probe_create = {
	BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID
};

/*
 * Several entries explain a RECV that failed with EFAULT, and some assign
 * IDs to carried handles (spec 5.4 step 6.4) while others do not: when the
 * kernel wrote nothing, user memory cannot tell which it took, but the
 * peer's ID counter can. Read it: a TRANSFER to self of one CREATE element
 * allocates a node ID, writes it to src[0], allocates a handle ID and
 * faults on dst[0] (5.1; both IDs burned). Returns the candidate that
 * agrees with the node ID (the first matching one if none does: the
 * mismatch is reported).
 */
static size_t recv_probe(size_t s, const struct m_recv_plan *plan,
			 const size_t *match, size_t n, struct probe *pr)
{
	int peer = slots[s].peer;
	size_t i, with = SIZE_MAX, without = SIZE_MAX;
	struct bus1_cmd_transfer cmd = {
		.to = BUS1_INVALID,
		.n_transfers = 1,
		.ptr_dst = 0x1000,	/* unmapped user address */
	};
	uint64_t next = model_next_id(&M, peer), k = 0;

	for (i = 0; i < n; ++i) {
		size_t *c = plan->pred[match[i]].assigns ? &with : &without;

		if (*c == SIZE_MAX)
			*c = match[i];
	}
	if (with == SIZE_MAX || without == SIZE_MAX)
		return match[0];
	for (i = 0; i < plan->pred[with].entry->msg->k; ++i)
		k += !plan->pred[with].entry->msg->h[i]->id;

	st_recv_probe++;
	pr->src_in = probe_create;
	pr->src = mem_scratch(sizeof(pr->src_in));
	mem_store(pr->src, &pr->src_in, sizeof(pr->src_in));
	cmd.ptr_src = pr->src;
	pr->cmd = mem_scratch(sizeof(cmd));
	mem_store(pr->cmd, &cmd, sizeof(cmd));
	pr->r = kioctl(slots[s].fd, BUS1_CMD_TRANSFER, pr->cmd);
	memcpy(&pr->src_out, (const void *)(uintptr_t)pr->src,
	       sizeof(pr->src_out));
	dprint(" [IDs assigned? TRANSFER probe -> %s, node ID %" PRIu64
	       ", next ID %" PRIu64 " if not, %" PRIu64 " if so]",
	       ename(pr->r), (uint64_t)pr->src_out.id, next, next + 2 * k);
	if (pr->r == EFAULT && !pr->src_out.flags) {
		if (pr->src_out.id == next)
			return without;
		if (pr->src_out.id == next + 2 * k)
			return with;
	}
	fail("RECV returned EFAULT; the ID counter read after it matches no entry the model allows (TRANSFER probe returned %s, src[0] = {%" PRIu64 ", %" PRIu64 "})",
	     ename(pr->r), (uint64_t)pr->src_out.flags, (uint64_t)pr->src_out.id);
	return match[0];
}

/* The probe against the model, now that the RECV is committed. */
static void probe_check(const struct probe *pr, int peer)
{
	struct m_transfer_args a = { .from = peer, .to = peer };
	char why[256];
	int expect;

	/* the model reads the command as the kernel did, then compares */
	shadow_begin();
	mem_store(pr->src, &pr->src_in, sizeof(pr->src_in));
	shadow_region(pr->src, sizeof(pr->src_in));
	expect = model_transfer(&M, pr->cmd, &a);
	mem_store(pr->src, &pr->src_out, sizeof(pr->src_out));
	if (expect != pr->r)
		fail("TRANSFER probe after RECV: model says %s, module returned %s",
		     ename(expect), ename(pr->r));
	else if (shadow_compare(why, sizeof(why)))
		fail("TRANSFER probe after RECV: %s", why);
}

static void op_recv_on(size_t s, bool ample)
{
	int peer = slots[s].peer;
	struct bus1_cmd_recv cmd = {};
	struct bus1_message msg = {};
	struct bus1_metadata meta;
	struct iovec vec[4];
	struct m_recv_plan *plan;
	struct recv_layout L = {};
	uint64_t total = 0;
	size_t i, choose, match[M_MAX_CAND], n_match = 0;
	struct probe probe = {};
	int r, tweak = -1;

	snprintf(desc, sizeof(desc), "RECV slot %zu (peer %d)", s, peer);
	memset(&meta, PAT_RECV, sizeof(meta));

	if (!ample && pm(80))
		ample = true;	/* now and then take whatever blocks the queue */
	L.n_vec = ample ? 1 : pm(100) ? 0 : 1 + rn(3);
	for (i = 0; i < L.n_vec; ++i) {
		L.data_len[i] = ample ? max_payload(peer) :
				rn(pm(100) ? 5000 : 90);
		if (L.data_len[i] > 8192) {
			L.data[i] = mem_big();
			memset((void *)(uintptr_t)L.data[i], PAT_RECV,
			       L.data_len[i] + 64);
			shadow_region(L.data[i], L.data_len[i] + 64);
		} else {
			L.data[i] = place(A_OK, 1, L.data_len[i], 0, NULL,
					  PAT_RECV);
		}
		vec[i].iov_base = (void *)(uintptr_t)L.data[i];
		vec[i].iov_len = L.data_len[i];
		total += L.data_len[i];
	}
	L.n_tr_slots = 8;
	msg.type = BUS1_INVALID;
	msg.n_transfers = ample ? 8 : pm(100) ? rn(3) : pm(50) ? UINT64_MAX : 8;
	msg.n_data = total;
	msg.n_data_vecs = L.n_vec;
	if (!ample) {
		if (pm(100))
			msg.n_data = total ? rn(total) : 0;
		else if (pm(30))
			msg.n_data = total + 1 + rn(64);
		tweak = pm(120) ? (int)rn(13) : -1;
	}
	switch (tweak) {
	case 0: cmd.flags = 1ULL << rn(64); break;
	case 1: msg.flags = 1ULL << rn(64); break;
	case 2: msg.type = rn(3); break;
	case 3: msg.n_data_vecs = rn(2) ? 1025 : (1ULL << 32) + L.n_vec; break;
	case 4: /* receive buffer partly read-only */
		if (L.n_vec) {
			i = rn(L.n_vec);
			L.data[i] = mem_zone_w() - rn(16);
			vec[i].iov_base = (void *)(uintptr_t)L.data[i];
			shadow_region(L.data[i], L.data_len[i]);
		}
		break;
	case 5:
		if (L.n_vec)
			vec[rn(L.n_vec)].iov_len = 1ULL << 63;
		break;
	default: break;
	}
	/*
	 * 12: transfer slots and metadata unwritable. A message carrying
	 * handles then faults (after assigning IDs) with nothing written,
	 * like a notification of the same transaction: recv_probe().
	 */
	L.tr = place(tweak == 6 || tweak == 12 ? A_BAD :
		     tweak == 7 ? A_WTAIL : A_OK,
		     sizeof(struct bus1_transfer), L.n_tr_slots, rn(3), NULL,
		     PAT_RECV);
	msg.ptr_transfers = L.tr;
	msg.ptr_data_vecs = tweak == 8 ? bad_addr_user() :
			    place(A_OK, sizeof(vec[0]), L.n_vec, 0, vec, 0);
	L.meta = tweak == 9 || tweak == 12 ? bad_addr_user() :
		 place(tweak == 10 ? A_WTAIL : A_OK, sizeof(meta), 1, 0, &meta,
		       PAT_RECV);
	L.msg = tweak == 11 ? (rn(2) ? bad_addr_user() :
			       place(A_WTAIL, sizeof(msg), 1, 0, &msg, 0)) :
		place(A_OK, sizeof(msg), 1, 0, &msg, 0);
	cmd.ptr_metadata = L.meta;
	cmd.ptr_message = L.msg;
	L.cmd = !ample && pm(5) ? bad_addr(24) :
		place(A_OK, sizeof(cmd), 1, 0, &cmd, 0);
	dprint(" cap tr=%" PRIu64 " data=%" PRIu64 " vecs=%zu tweak=%d",
	       (uint64_t)msg.n_transfers, (uint64_t)msg.n_data, L.n_vec, tweak);

	plan = malloc(sizeof(*plan));
	if (!plan)
		abort();
	model_recv_plan(&M, peer, L.cmd, plan);
	r = kioctl(slots[s].fd, BUS1_CMD_RECV, L.cmd);
	count_cmd(3, r);

	if (plan->early_err) {
		dprint(" -> %s", ename(r));
		check_result("RECV", plan->early_err, r);
		goto out;
	}
	if (!plan->n) {
		dprint(" -> %s", ename(r));
		if ((r == 0 || r == EMSGSIZE) && mem_readable(L.msg, 56) &&
		    mem_readable(L.meta, 24))
			dprint(" type %" PRIu64 " id %" PRIu64 " k %" PRIu64
			       " d %" PRIu64,
			       (uint64_t)((struct bus1_message *)(uintptr_t)L.msg)->type,
			       (uint64_t)((struct bus1_metadata *)(uintptr_t)L.meta)->id,
			       (uint64_t)((struct bus1_message *)(uintptr_t)L.msg)->n_transfers,
			       (uint64_t)((struct bus1_message *)(uintptr_t)L.msg)->n_data);
		check_result("RECV (queue has nothing receivable)", EAGAIN, r);
		if (!round_failed)
			model_recv_commit(&M, peer, NULL);
		goto out;
	}

	/*
	 * Which candidate did the kernel take? Every one with the same errno
	 * whose predicted writes match could be it; the first of them unless
	 * they differ in the IDs they assign (recv_probe()). With no match,
	 * the first one with the same errno, and the comparison below
	 * reports the difference.
	 */
	choose = plan->n;
	for (i = 0; i < plan->n; ++i) {
		struct m_recv_pred *p = &plan->pred[i];
		char why[256];

		if (p->err != r)
			continue;
		if (choose == plan->n)
			choose = i;
		model_recv_predict(&M, peer, plan, p);
		if (!shadow_compare(why, sizeof(why))) {
			if (!n_match)
				choose = i;
			match[n_match++] = i;
		}
	}
	{
		const struct bus1_message *km = (const void *)(uintptr_t)L.msg;
		const struct bus1_metadata *kd = (const void *)(uintptr_t)L.meta;

		if ((r == 0 || r == EMSGSIZE) && mem_readable(L.msg, sizeof(*km)) &&
		    mem_readable(L.meta, sizeof(*kd)))
			dprint(" -> %s type %" PRIu64 " id %" PRIu64 " k %" PRIu64
			       " d %" PRIu64, ename(r), (uint64_t)km->type,
			       (uint64_t)kd->id, (uint64_t)km->n_transfers,
			       (uint64_t)km->n_data);
		else
			dprint(" -> %s", ename(r));
	}
	if (choose == plan->n) {
		char cands[400] = "";
		size_t l = 0;

		for (i = 0; i < plan->n && l < sizeof(cands) - 64; ++i) {
			struct m_entry *e = plan->pred[i].entry;
			uint64_t id = e->kind == M_USER ? e->msg->dst->id :
				      e->kind == M_NODE_RELEASE ? e->handle->id :
				      e->node->id;

			l += snprintf(cands + l, sizeof(cands) - l,
				      "%s%s id %" PRIu64 " -> %s", i ? "; " : "",
				      e->kind == M_USER ? "USER" :
				      e->kind == M_NODE_RELEASE ? "NODE_RELEASE" :
				      "HANDLE_RELEASE", id,
				      ename(plan->pred[i].err));
			if (e->kind == M_USER)
				l += snprintf(cands + l, sizeof(cands) - l,
					      " (k %zu, d %" PRIu64 ")",
					      e->msg->k, e->msg->n_data);
		}
		fail("RECV: module returned %s, which matches none of the entries the model allows next: %s",
		     ename(r), cands);
		goto out;
	}
	if (plan->n > 1)
		model_cov.recv_multi++;
	{
		struct m_recv_pred *p = &plan->pred[choose];
		char why[256];

		/* after EFAULT: a prefix of the ordered writes (model.c) */
		model_recv_predict(&M, peer, plan, p);
		if (shadow_compare(why, sizeof(why)))
			fail("RECV returned %s as the model allows, but %s",
			     ename(r), why);
		if (!round_failed && n_match > 1)
			choose = recv_probe(s, plan, match, n_match, &probe);
		if (!round_failed) {
			p = &plan->pred[choose];
			if (!r)
				st_deliver[p->entry->kind]++;
			model_recv_commit(&M, peer, p);
			if (probe.cmd)
				probe_check(&probe, peer);
		}
	}
out:
	free(plan);
}

static void op_recv(void)
{
	op_recv_on(pick_slot(), false);
}

/* ---- other steps ---- */

static void op_unknown(void)
{
	size_t s = pick_slot();
	unsigned long cmd;
	uint64_t arg = mem_scratch(64);
	int r;

	do {
		unsigned int dir = (unsigned int)rn(4), nr = (unsigned int)rn(8);
		unsigned int size = (unsigned int)(pm(500) ? 8 * rn(8) : rn(1 << 14));

		if (pm(200))
			nr = (unsigned int)rn(256);
		cmd = ((unsigned long)dir << 30) | ((unsigned long)size << 16) |
		      (BUS1_IOCTL_MAGIC << 8) | nr;
	} while (cmd == BUS1_CMD_TRANSFER || cmd == BUS1_CMD_RELEASE ||
		 cmd == BUS1_CMD_SEND || cmd == BUS1_CMD_RECV);
	snprintf(desc, sizeof(desc), "IOCTL 0x%08lx on slot %zu", cmd, s);
	shadow_region(arg, 64);
	r = kioctl(slots[s].fd, cmd, arg);
	dprint(" -> %s", ename(r));
	count_cmd(4, r);
	check_result("unknown command", ENOTTY, r);
}

/* After a mismatch: what does the module hold for this peer? */
static void probe(size_t s)
{
	static unsigned char buf[1 << 17];
	struct bus1_transfer tr[16];
	struct bus1_metadata meta = {};
	struct iovec v = { buf, sizeof(buf) };
	struct bus1_message msg = {
		.type = BUS1_INVALID,
		.n_transfers = 16,
		.ptr_transfers = (uintptr_t)tr,
		.n_data = sizeof(buf),
		.n_data_vecs = 1,
		.ptr_data_vecs = (uintptr_t)&v,
	};
	struct bus1_cmd_recv cmd = {
		.ptr_metadata = (uintptr_t)&meta,
		.ptr_message = (uintptr_t)&msg,
	};
	int r = kioctl(slots[s].fd, BUS1_CMD_RECV, (uintptr_t)&cmd);
	struct pollfd p = { .fd = slots[s].fd, .events = POLLIN };

	poll(&p, 1, 0);
	printf("# probe: RECV on slot %zu returns %s, type %" PRIu64 " id %" PRIu64
	       " k %" PRIu64 " d %" PRIu64 "; poll then 0x%x\n", s, ename(r),
	       (uint64_t)msg.type, (uint64_t)meta.id, (uint64_t)msg.n_transfers,
	       (uint64_t)msg.n_data, p.revents);
}

/* read, write, mmap and lseek have no handlers (3.6, D27). */
static void op_fileops(void)
{
	size_t s = pick_slot();
	int fd = slots[s].fd, r;
	char buf[16] = "";
	void *p;

	snprintf(desc, sizeof(desc), "read/write/mmap/lseek on slot %zu", s);
	r = read(fd, buf, sizeof(buf)) < 0 ? errno : 0;
	if (r != EINVAL)
		fail("read: expected EINVAL, got %s", ename(r));
	r = write(fd, buf, sizeof(buf)) < 0 ? errno : 0;
	if (r != EINVAL)
		fail("write: expected EINVAL, got %s", ename(r));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	r = p == MAP_FAILED ? errno : 0;
	if (p != MAP_FAILED)
		munmap(p, 4096);
	if (r != ENODEV)
		fail("mmap: expected ENODEV, got %s", ename(r));
	r = lseek(fd, 0, SEEK_SET) < 0 ? errno : 0;
	if (r != ESPIPE)
		fail("lseek: expected ESPIPE, got %s", ename(r));
}

static void check_poll(size_t s)
{
	struct pollfd p = {
		.fd = slots[s].fd,
		.events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLPRI,
	};
	int peer = slots[s].peer, r;

	r = poll(&p, 1, 0);
	if (r != 1 || !(p.revents & POLLOUT) || !(p.revents & POLLWRNORM) ||
	    (p.revents & (POLLHUP | POLLERR | POLLPRI | POLLNVAL))) {
		fail("poll on slot %zu: returned %d, revents 0x%x", s, r,
		     p.revents);
		return;
	}
	if (!(p.revents & POLLIN) != !(p.revents & POLLRDNORM)) {
		fail("poll on slot %zu: POLLIN and POLLRDNORM differ (0x%x)",
		     s, p.revents);
		return;
	}
	if ((p.revents & POLLIN) && model_queue_empty(&M, peer)) {
		fail("poll on slot %zu (peer %d): POLLIN, but nothing is queued",
		     s, peer);
		probe(s);
	}
	else if (!(p.revents & POLLIN) && model_has_live_entry(&M, peer))
		fail("poll on slot %zu (peer %d): no POLLIN, but an entry is receivable",
		     s, peer);
}

static void one_step(void)
{
	size_t s;
	unsigned int t;
	int peer;

	mem_reset();
	shadow_begin();
	desc[0] = 0;

	if (n_open_peers() < 2 || (n_open_peers() < MAX_PEERS_OPEN && pm(15))) {
		open_peer();
		goto done;
	}
	s = pick_slot();
	peer = slots[s].peer;
	t = (unsigned int)rn(1000);
	/* keep tables and queues small: the model looks up linearly */
	if (M.peers[peer].n_objs > 48 && t < 500)
		t = 300;
	if (M.peers[peer].n_entries > 40 && t < 500)
		t = 900;

	if (t < 10) {
		close_slot(s);
	} else if (t < 14 && n_slots < MAX_SLOTS) {
		int fd = dup(slots[s].fd);

		if (fd < 0) {
			perror("dup");
			exit(1);
		}
		slots[n_slots].fd = fd;
		slots[n_slots].peer = peer;
		snprintf(desc, sizeof(desc), "DUP slot %zu -> slot %zu fd %d",
			 s, n_slots, fd);
		n_slots++;
	} else if (t < 20) {
		op_unknown();
	} else if (t < 24) {
		op_fileops();
	} else if (t < 250) {
		op_transfer();
	} else if (t < 400) {
		op_release();
	} else if (t < 700) {
		op_send();
	} else {
		op_recv();
	}
done:
	hist_push(desc);
	if (op_index == opt_dump_at) {
		printf("# state after step %" PRIu64 ":\n", op_index);
		model_dump(&M, stdout);
	}
	if (!round_failed && n_slots)
		check_poll(pick_slot());
	st_ops++;
	op_index++;
}

/* ---- rounds ---- */

static int counters_zero(char *why, size_t n)
{
	char path[128], line[128];
	const char *name = strrchr(dev_path, '/');
	int tries;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/objects",
		 name ? name + 1 : dev_path);
	for (tries = 0; tries < 100; ++tries) {
		FILE *f = fopen(path, "r");
		bool bad = false;

		if (!f)
			return 1;	/* no debugfs: the harness checks later */
		why[0] = 0;
		while (fgets(line, sizeof(line), f)) {
			char key[64];
			unsigned long long v;

			if (sscanf(line, "%63s %llu", key, &v) == 2 && v) {
				bad = true;
				snprintf(why, n, "%s %llu", key, v);
			}
		}
		fclose(f);
		if (!bad)
			return 0;
		usleep(10000);
	}
	return -1;
}

static bool run_round(uint64_t round, uint64_t seed, uint64_t n_ops)
{
	char why[128];
	uint64_t i;
	size_t s;
	int r, pass;

	rng = seed;
	op_index = 0;
	round_failed = false;
	round_why = NULL;
	model_init(&M, M.max_objects, M.max_bytes);
	n_slots = 0;

	for (i = 0; i < n_ops && !round_failed; ++i)
		one_step();

	/*
	 * Drain every queue, compared like any other RECV; discards can queue
	 * notifications to peers drained before, hence the passes.
	 */
	for (pass = 0; pass < 8 && !round_failed; ++pass) {
		bool any = false;

		for (s = 0; s < n_slots && !round_failed; ++s) {
			for (i = 0; i < 100000 && !round_failed; ++i) {
				if (model_queue_empty(&M, slots[s].peer) &&
				    i)
					break;
				any |= !model_queue_empty(&M, slots[s].peer);
				mem_reset();
				shadow_begin();
				desc[0] = 0;
				op_recv_on(s, true);
				hist_push(desc);
				op_index++;
			}
		}
		if (!any)
			break;
	}
	while (n_slots)
		close_slot(n_slots - 1);
	shadow_begin();

	if (!round_failed) {
		r = counters_zero(why, sizeof(why));
		if (r < 0) {
			round_failed = true;
			round_why = why;
			printf("# object counters not zero after closing every peer: %s\n",
			       why);
		}
	}
	printf("%sok %" PRIu64 " - round %" PRIu64 " seed %" PRIu64 ": %" PRIu64
	       " steps%s%s\n", round_failed ? "not " : "", round + 1, round,
	       seed, op_index, round_failed ? ": " : "",
	       round_failed ? round_why : "");
	fflush(stdout);
	model_fini(&M);
	return !round_failed;
}

/* Short runs may miss a rare rule; longer ones must exercise all. */
static bool cov_asserted(void)
{
	return opt_rounds * opt_ops >= 20000;
}

/* A crash of the checker itself: say where, like a mismatch. */
static void on_crash(int sig)
{
	uint64_t i;

	printf("\n# bus1-model crashed (signal %d) at step %" PRIu64 ": %s\n",
	       sig, op_index, desc);
	for (i = op_index > HIST - 1 ? op_index - (HIST - 1) : 0; i < op_index; ++i)
		printf("#   %s\n", hist[i % HIST]);
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t read_param(const char *name, uint64_t def)
{
	const char *mod = strrchr(dev_path, '/');
	char path[160];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
		 mod ? mod + 1 : dev_path, name);
	f = fopen(path, "r");
	if (!f)
		return def;
	if (fscanf(f, "%llu", &v) != 1)
		v = def;
	fclose(f);
	return v;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	uint64_t max_objects, max_bytes, round, failed = 0;
	double secs;
	int c;

	opt_seed = env_u64("BUS1_MODEL_SEED", opt_seed);
	opt_rounds = env_u64("BUS1_MODEL_ROUNDS", opt_rounds);
	opt_ops = env_u64("BUS1_MODEL_OPS", opt_ops);
	opt_verbose = (int)env_u64("BUS1_MODEL_VERBOSE", 0);
	opt_dump = (int)env_u64("BUS1_MODEL_DUMP", 0);
	opt_dump_at = env_u64("BUS1_MODEL_DUMP_AT", UINT64_MAX);
	opt_min_steps = env_u64("BUS1_MODEL_MIN_STEPS", 0);
	while ((c = getopt(argc, argv, "s:r:n:d:v")) != -1) {
		switch (c) {
		case 's': opt_seed = strtoull(optarg, NULL, 0); break;
		case 'r': opt_rounds = strtoull(optarg, NULL, 0); break;
		case 'n': opt_ops = strtoull(optarg, NULL, 0); break;
		case 'd': dev_path = optarg; break;
		case 'v': opt_verbose = 1; break;
		default:
			fprintf(stderr,
				"usage: %s [-s SEED] [-r ROUNDS] [-n OPS] [-d DEVICE] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGABRT, on_crash);

	if (mem_init()) {
		perror("bus1-model: cannot map the arena");
		return 1;
	}
	is_root = geteuid() == 0;
	fd_null = open("/dev/null", O_RDWR | O_CLOEXEC);
	fd_opath = open(dev_path, O_PATH | O_CLOEXEC);
	if (fd_null < 0 || fd_opath < 0 || pipe2(fd_pipe, O_CLOEXEC)) {
		perror("bus1-model: setup");
		return 1;
	}
	if (fcntl(fd_closed, F_GETFD) != -1) {
		fprintf(stderr, "bus1-model: fd %d is open\n", fd_closed);
		return 1;
	}
	max_objects = read_param("max_objects", 1048576);
	max_bytes = read_param("max_bytes", 1073741824);
	M.max_objects = max_objects;
	M.max_bytes = max_bytes;

	printf("TAP version 13\n1..%" PRIu64 "\n",
	       opt_rounds + (cov_asserted() ? 1 : 0) + (opt_min_steps ? 1 : 0));
	printf("# bus1-model: seed %" PRIu64 ", %" PRIu64 " rounds of %" PRIu64
	       " steps, %s (max_objects %" PRIu64 ", max_bytes %" PRIu64 ")%s\n",
	       opt_seed, opt_rounds, opt_ops, dev_path, max_objects, max_bytes,
	       is_root ? ", peers of UIDs 0, 1000, 1001" : "");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (round = 0; round < opt_rounds; ++round) {
		M.max_objects = max_objects;
		M.max_bytes = max_bytes;
		if (!run_round(round, opt_seed + round, opt_ops))
			failed++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("# %" PRIu64 " steps in %.1f s (%.0f steps/s)\n", st_ops, secs,
	       secs > 0 ? (double)st_ops / secs : 0.0);
	for (c = 0; c < 5; ++c) {
		static const char *const names[] = {
			"TRANSFER", "RELEASE", "SEND", "RECV", "unknown",
		};
		int e;

		printf("# %-8s %8" PRIu64 " ok", names[c], st_cmd[c][0]);
		for (e = 1; e < 256; ++e)
			if (st_err[c][e])
				printf(", %" PRIu64 " %s", st_err[c][e], ename(e));
		printf("\n");
	}
	printf("# delivered: %" PRIu64 " user messages, %" PRIu64
	       " NODE_RELEASE, %" PRIu64 " HANDLE_RELEASE\n",
	       st_deliver[0], st_deliver[1], st_deliver[2]);
	{
		const struct {
			const char *what;
			uint64_t n;
		} cov[] = {
			{ "late NODE_RELEASE from TRANSFER (D20)", model_cov.late_nr_transfer },
			{ "late NODE_RELEASE behind a message (D20)", model_cov.late_nr_send },
			{ "NODE_RELEASE for a handle in flight", model_cov.nr_inflight },
			{ "copies discarded for a closed receiver", model_cov.discard_closed },
			{ "stale messages discarded by RECV", model_cov.discard_stale },
			{ "HANDLE_RELEASE caused by a discard", model_cov.hr_from_discard },
			{ "closes that drained user messages", model_cov.close_with_messages },
			{ "RECV EFAULT after assigning IDs", model_cov.recv_fault_assigned },
			{ "RECV with several allowed entries", model_cov.recv_multi },
			{ "IDs of failed commands tried again", st_failed_ids },
			{ "... of them assigned by a faulted RECV, not yet installed",
			  st_pending_ids },
		};
		bool all = true;

		for (c = 0; c < (int)(sizeof(cov) / sizeof(cov[0])); ++c) {
			printf("# coverage: %8" PRIu64 " %s\n", cov[c].n,
			       cov[c].what);
			all &= cov[c].n > 0;
		}
		/* rare enough that a short run may miss them */
		printf("# coverage: %8" PRIu64 " SEND EFAULT in the write-back phase (not required)\n",
		       st_send_wb_fault);
		printf("# coverage: %8" PRIu64 " ambiguous RECV EFAULT resolved by a TRANSFER probe (not required)\n",
		       st_recv_probe);
		if (cov_asserted()) {
			printf("%sok %" PRIu64 " - every rule listed above was exercised\n",
			       all ? "" : "not ", opt_rounds + 1);
			failed += !all;
		}
	}
	if (opt_min_steps) {
		bool enough = st_ops >= opt_min_steps;

		printf("%sok %" PRIu64 " - %" PRIu64
		       " steps checked against the model (minimum %" PRIu64 ")\n",
		       enough ? "" : "not ",
		       opt_rounds + (cov_asserted() ? 1 : 0) + 1, st_ops,
		       opt_min_steps);
		failed += !enough;
	}
	return failed ? 1 : 0;
}
