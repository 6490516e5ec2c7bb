// SPDX-License-Identifier: GPL-2.0
/*
 * One fuzzing process: random commands on its peers, every result checked
 * against what the spec allows for that command (sections 5 and 10), plus
 * the invariants a single process can check without a model: IDs written
 * back are odd and valid-looking, received messages are well formed and
 * carry the bytes their sender put in, poll never reports an error.
 *
 * Peers are private (opened by this process and never shared, so it knows
 * what is queued to them) or shared (inherited from the parent, dup'ed, or
 * passed with SCM_RIGHTS). The depth counters in fuzz.h are only counted
 * where the process can prove the event happened.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/bus1.h>
#include <linux/futex.h>
#include "fuzz.h"

#define PAGE		4096UL
#define SCRATCH_PAGES	40	/* RW; the last two take arrays ending at RO */
#define BIG_PAGES	272	/* RW, payloads and receive buffers */
#define MAX_SLOTS	12
#define MAX_IDS		96
#define MAGIC		0x6275733166757a7aULL	/* "bus1fuzz" */
#define HDR		32	/* payload header: magic, length, sum, origin */
#define MAX_RW		0x7ffff000ULL
#define KADDR		0xffff888000000000ULL
#define KTEXT		0xffffffff81000000ULL
#define NONCANON	0x0000800000000000ULL
#define LOG_MAX		30

enum { K_UNKNOWN, K_NODE, K_HANDLE };

struct idrec {
	uint64_t id;
	uint8_t kind;
	/* handle: the slot whose peer owns its node, if known */
	int8_t owner;
	uint32_t owner_gen;
	uint64_t node_id;
	/* node: a handle to it went in flight to private slot mark */
	int8_t mark;
	uint32_t mark_gen;
	uint64_t mark_epoch;
};

struct slot {
	int fd;			/* -1: free */
	bool private;		/* only this process ever held it */
	bool passed;		/* received with SCM_RIGHTS */
	bool passed_used;
	/* the last RECV stopped at EMSGSIZE: the size it reported, and for
	 * which node */
	bool emsgsize;
	uint64_t emsg_k, emsg_d, emsg_id;
	uint32_t gen;
	uint64_t peer;		/* token: equal for dup'ed slots */
	uint64_t epoch;		/* RECVs issued on it */
	struct idrec ids[MAX_IDS];
	size_t n_ids;
};

static const struct fuzz_config *cfg;
static struct fuzz_stats *st;
static struct fuzz_stats *victim_st;	/* shared with op_victim()'s child */
static unsigned int me;
static uint64_t rng, op_no;
static struct slot slots[MAX_SLOTS];
static uint32_t gen_next = 1;
static uint64_t peer_next = 1;
static int sock_out = -1, sock_in = -1;
static int junk_fds[6];
static int last_closed = 1000;
static unsigned int logged;

/* arena */
static uint8_t *scratch, *ro_page, *guard, *big, *big_guard, *flip;
static pthread_t flipper;
static volatile bool flipper_stop;
static volatile int flip_wanted;	/* this operation uses the flip page */
static volatile uint64_t flip_count;	/* protection changes so far */
static bool flipper_running;
static size_t scratch_used;
static bool ro_used, tail_used;

/* ---- random numbers ---- */

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

static bool pm(unsigned int permille)
{
	return rn(1000) < permille;
}

/* ---- reporting ---- */

static void violation(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void violation(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	st->violations++;
	if (logged++ >= LOG_MAX)
		return;
	n = snprintf(line, sizeof(line), "# VIOLATION worker %u op %llu: ", me,
		     (unsigned long long)op_no);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(1, line, (size_t)n) < 0)
		st->internal++;
}

static const char *const cmd_names[C_N] = {
	"TRANSFER", "RELEASE", "SEND", "RECV", "unknown command",
};

static bool allowed(int c, int e)
{
	switch (c) {
	case C_TRANSFER:
		return e == EFAULT || e == EINVAL || e == EBADF ||
		       e == EOPNOTSUPP || e == EBADRQC || e == EDQUOT ||
		       e == ENOMEM;
	case C_RELEASE:
		return e == EFAULT || e == EINVAL || e == EBADRQC ||
		       e == ENOMEM;
	case C_SEND:
		return e == EFAULT || e == EINVAL || e == EMSGSIZE ||
		       e == EBADRQC || e == EDQUOT || e == ENOMEM;
	case C_RECV:
		return e == EFAULT || e == EINVAL || e == EAGAIN ||
		       e == EMSGSIZE || e == ENOMEM;
	default:
		return e == ENOTTY;
	}
}

/*
 * Issue one command and account for it. @expect is an errno the input
 * guarantees (a defect that every implementation must report first), or 0.
 */
static int issue(int c, int fd, unsigned long cmd, uint64_t arg, int expect)
{
	uint64_t flips = flip_count;
	int r = ioctl(fd, cmd, (void *)(uintptr_t)arg) < 0 ? errno : 0;

	if (flip_wanted && flip_count != flips)
		st->depth[D_FLIPPED]++;

	st->cmds++;
	if (!r) {
		st->ok[c]++;
	} else {
		st->err[c][r < FUZZ_MAX_ERRNO ? r : 0]++;
		if (!allowed(c, r))
			violation("%s returned errno %d (%s), which the spec does not allow for it",
				  cmd_names[c], r, strerror(r));
	}
	if (expect && r != expect)
		violation("%s returned %s where the input guarantees %s",
			  cmd_names[c], r ? strerror(r) : "0",
			  strerror(expect));
	return r;
}

/* ---- user memory ---- */

static int arena_init(void)
{
	size_t total = (SCRATCH_PAGES + 2 + BIG_PAGES + 3) * PAGE;
	uint8_t *a;

	a = mmap(NULL, total, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return -1;
	scratch = a;
	ro_page = a + SCRATCH_PAGES * PAGE;
	guard = ro_page + PAGE;
	big = guard + PAGE;
	big_guard = big + BIG_PAGES * PAGE;
	flip = big_guard + PAGE;
	memset(ro_page, 0x11, PAGE);
	if (mprotect(ro_page, PAGE, PROT_READ) ||
	    mprotect(guard, PAGE, PROT_NONE) ||
	    mprotect(big_guard, PAGE, PROT_NONE) ||
	    mprotect(flip + PAGE, PAGE, PROT_NONE))
		return -1;
	return 0;
}

/*
 * The flip page changes under the kernel's feet: another thread keeps
 * toggling it between unmapped and writable and rewriting it, so commands
 * that read from or write to it see values change or faults appear in the
 * middle of a copy. Only the kernel touches it otherwise.
 */
static void *flipper_main(void *arg)
{
	static const struct timespec idle = { 0, 20000000 };
	uint64_t r = (uintptr_t)arg, mapped = 1;	/* arena_init() maps it */
	struct timespec ts = { 0, 0 };

	while (!flipper_stop) {
		/*
		 * Flip only while the current operation uses the page: each
		 * mprotect() shoots down TLBs on every CPU running the
		 * process, which otherwise costs two thirds of the run.
		 */
		if (!flip_wanted) {
			syscall(SYS_futex, &flip_wanted, FUTEX_WAIT_PRIVATE, 0,
				&idle, NULL, 0);
			continue;
		}
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		if (r >> 63) {
			mprotect(flip, PAGE, PROT_READ | PROT_WRITE);
			memset(flip + ((r >> 20) & (PAGE - 64)), (int)(r >> 40),
			       64);
			if ((r >> 33) & 1)
				memset(flip, 0, 64);
		} else {
			mprotect(flip, PAGE, PROT_NONE);
		}
		/* counted when the protection really changed */
		if ((r >> 63) != mapped) {
			mapped = r >> 63;
			flip_count++;
		}
		ts.tv_nsec = (long)((r >> 24) & 0xffff) * 2;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void arena_reset(void)
{
	flip_wanted = 0;
	scratch_used = 0;
	ro_used = false;
	tail_used = false;
}

static void *salloc(size_t size)
{
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (scratch_used + size > (SCRATCH_PAGES - 2) * PAGE)
		return NULL;
	p = scratch + scratch_used;
	scratch_used += size;
	return p;
}

/* Store into the read-only page (its content is part of some inputs). */
static void ro_store(size_t off, const void *buf, size_t len)
{
	if (off + len > PAGE)
		len = PAGE - off;
	mprotect(ro_page, PAGE, PROT_READ | PROT_WRITE);
	memcpy(ro_page + off, buf, len);
	mprotect(ro_page, PAGE, PROT_READ);
}

/* An address the kernel cannot use as @elem-sized user memory. */
static uint64_t wild_ptr(size_t elem)
{
	switch (rn(11)) {
	case 0: return 0;
	case 1: return (uintptr_t)guard + 8 * rn(PAGE / 8);
	case 2: return (uintptr_t)big_guard + rn(PAGE);
	case 3: return 0 - (uint64_t)elem;
	case 4: return UINT64_MAX - rn(PAGE);
	case 5: return KADDR + 8 * rn(1 << 20);
	case 6: return KTEXT;
	case 7: return NONCANON - 8 * rn(2);
	case 8: return 0x1000 + 8 * rn(64);
	case 9: return (uintptr_t)big_guard - 1 - rn(elem ? elem - 1 : 1);
	default: return rnd() | (1ULL << 63);
	}
}

/* An address in the flip page: it may or may not work, and may change. */
static uint64_t flip_ptr(size_t elem)
{
	if (flipper_running && !flip_wanted) {
		flip_wanted = 1;
		syscall(SYS_futex, &flip_wanted, FUTEX_WAKE_PRIVATE, 1, NULL,
			NULL, 0);
	}
	return (uintptr_t)flip + rn(PAGE / 8) * 8 - (pm(100) ? elem / 2 : 0);
}

static bool wild_is_bad(uint64_t p, size_t size)
{
	uint64_t s = (uintptr_t)scratch, e = (uintptr_t)big_guard;

	if (p + size > (uintptr_t)flip && p < (uintptr_t)flip + PAGE)
		return false;	/* may be mapped right now */

	if (p + size > (uintptr_t)guard && p < (uintptr_t)guard + PAGE)
		return true;	/* touches the PROT_NONE guard page */
	/* everything else wild_ptr() returns lies outside [scratch, big's
	 * guard), or starts inside and runs into that guard */
	return !(p >= s && p < e && p + size <= e);
}

enum pmode { P_GOOD, P_RO, P_TAIL, P_WILD, P_FLIP };

static enum pmode pick_pmode(unsigned int bad_permille)
{
	if (!pm(bad_permille))
		return P_GOOD;
	switch (rn(4)) {
	case 0: return P_RO;
	case 1: return P_TAIL;
	case 2: return P_FLIP;
	default: return P_WILD;
	}
}

/*
 * Place @n elements of @elem bytes. P_RO: the first few in RW scratch, the
 * rest on the read-only page; P_TAIL: the first few at the end of the big
 * region, the rest in the guard page behind it; P_WILD: a bad address.
 * Returns the address; @content (may be NULL) is stored where possible.
 */
static uint64_t place(enum pmode mode, size_t elem, uint64_t n,
		      const void *content)
{
	size_t len, ok;
	uint8_t *p;

	if (n > (64 * PAGE) / (elem ? elem : 1))
		n = (64 * PAGE) / (elem ? elem : 1);	/* what we store */
	len = elem * n;
	if (mode == P_RO && (ro_used || len > PAGE))
		mode = P_GOOD;
	if (mode == P_TAIL && (tail_used || len > 8 * PAGE))
		mode = P_GOOD;

	switch (mode) {
	case P_WILD:
		return wild_ptr(elem);
	case P_FLIP:
		return flip_ptr(elem);
	case P_RO:
		ro_used = true;
		ok = n ? rn(n) : 0;
		if (ok * elem > 2 * PAGE)
			ok = 2 * PAGE / elem;
		p = ro_page - ok * elem;
		if (content) {
			memcpy(p, content, ok * elem);
			ro_store(0, (const uint8_t *)content + ok * elem,
				 len - ok * elem);
		}
		return (uintptr_t)p;
	case P_TAIL:
		tail_used = true;
		ok = n ? rn(n) : 0;
		p = big_guard - ok * elem;
		if (content)
			memcpy(p, content, ok * elem);
		return (uintptr_t)p;
	default:
		p = salloc(len + elem);
		if (!p)
			return wild_ptr(elem);
		if (content)
			memcpy(p, content, len);
		else
			memset(p, 0xa5, len + elem);
		return (uintptr_t)p;
	}
}

/* A count: @good usually, sometimes something huge. */
static uint64_t pick_count(uint64_t good, unsigned int bad_permille)
{
	static const uint64_t huge[] = {
		1ULL << 32, 1ULL << 40, 1ULL << 63, UINT64_MAX, (1ULL << 20) + 1,
		1ULL << 31, UINT64_MAX / 8,
	};

	if (!pm(bad_permille))
		return good;
	return rn(3) ? huge[rn(sizeof(huge) / sizeof(huge[0]))] : rnd();
}

static uint64_t pick_flags(unsigned int bad_permille)
{
	return pm(bad_permille) ? 1ULL << rn(64) | (pm(300) ? rnd() : 0) : 0;
}

/* ---- slots and IDs ---- */

static size_t n_used_slots(void)
{
	size_t i, n = 0;

	for (i = 0; i < MAX_SLOTS; ++i)
		n += slots[i].fd >= 0;
	return n;
}

static int pick_slot(void)
{
	size_t i, n = n_used_slots(), k;

	if (!n)
		return -1;
	k = rn(n);
	for (i = 0; i < MAX_SLOTS; ++i)
		if (slots[i].fd >= 0 && !k--)
			return (int)i;
	return -1;
}

static int free_slot(void)
{
	size_t i;

	for (i = 0; i < MAX_SLOTS; ++i)
		if (slots[i].fd < 0)
			return (int)i;
	return -1;
}

static void slot_init(int i, int fd, bool private, uint64_t peer)
{
	struct slot *s = &slots[i];

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->private = private;
	s->gen = gen_next++;
	s->peer = peer;
}

static struct idrec *id_add(struct slot *s, uint64_t id, int kind)
{
	struct idrec *r;

	if (s->n_ids < MAX_IDS)
		r = &s->ids[s->n_ids++];
	else
		r = &s->ids[rn(MAX_IDS)];
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->kind = (uint8_t)kind;
	r->owner = -1;
	r->mark = -1;
	return r;
}

static struct idrec *id_find(struct slot *s, uint64_t id)
{
	size_t i;

	for (i = 0; i < s->n_ids; ++i)
		if (s->ids[i].id == id)
			return &s->ids[i];
	return NULL;
}

static void id_del(struct slot *s, uint64_t id)
{
	size_t i;

	for (i = 0; i < s->n_ids; ++i)
		if (s->ids[i].id == id) {
			s->ids[i] = s->ids[--s->n_ids];
			return;
		}
}

static struct idrec *pick_rec(struct slot *s, int kind)
{
	size_t i, n = 0, k;

	for (i = 0; i < s->n_ids; ++i)
		n += !kind || s->ids[i].kind == kind ||
		     s->ids[i].kind == K_UNKNOWN;
	if (!n)
		return NULL;
	k = rn(n);
	for (i = 0; i < s->n_ids; ++i)
		if ((!kind || s->ids[i].kind == kind ||
		     s->ids[i].kind == K_UNKNOWN) && !k--)
			return &s->ids[i];
	return NULL;
}

static uint64_t wild_id(void)
{
	int i = pick_slot();
	struct idrec *r;

	switch (rn(7)) {
	case 0: return 0;
	case 1: return 2 * rn(1000);
	case 2: return BUS1_INVALID;
	case 3: return 1 + 2 * rn(4096);
	case 4: return rnd();
	case 5: return rnd() | 1;
	default:
		r = i >= 0 ? pick_rec(&slots[i], 0) : NULL;
		return r ? r->id : 1;
	}
}

/* Mostly a known ID of @kind, sometimes anything. */
static uint64_t pick_id(struct slot *s, int kind, unsigned int wild_permille)
{
	struct idrec *r = pm(wild_permille) ? NULL : pick_rec(s, kind);

	return r ? r->id : wild_id();
}

static bool id_ok(uint64_t id)
{
	return (id & 1) && id != BUS1_INVALID;
}

/* The node behind a released node record: was a handle to it in flight? */
static void check_inflight_mark(struct idrec *r)
{
	struct slot *p;

	if (r->kind != K_NODE || r->mark < 0)
		return;
	p = &slots[r->mark];
	if (p->fd >= 0 && p->gen == r->mark_gen && p->private &&
	    p->epoch == r->mark_epoch)
		st->depth[D_RELEASE_INFLIGHT]++;
	r->mark = -1;
}

/* Anyone else may now issue commands on this peer. */
static void slot_share(struct slot *s)
{
	size_t i;

	for (i = 0; i < MAX_SLOTS; ++i)
		if (slots[i].fd >= 0 && slots[i].peer == s->peer)
			slots[i].private = false;
}

static void used(struct slot *s)
{
	if (!s->private)
		st->depth[D_SHARED_OPS]++;
	if (s->passed && !s->passed_used) {
		s->passed_used = true;
		st->depth[D_FD_PASSED]++;
	}
}

/* ---- TRANSFER ---- */

static void op_transfer(void)
{
	struct bus1_transfer src[64], *dsrc;
	struct bus1_cmd_transfer cmd = {};
	struct idrec *rec[64];
	struct slot *from, *to = NULL;
	int si = pick_slot(), ti, expect = 0, r;
	uint64_t n, i, arg;
	enum pmode msrc, mdst;

	if (si < 0)
		return;
	from = &slots[si];
	switch (rn(20)) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
		cmd.to = BUS1_INVALID;
		to = from;
		break;
	case 8: case 9: case 10: case 11: case 12: case 13: case 14:
		ti = pick_slot();
		to = &slots[ti];
		cmd.to = (uint64_t)to->fd;
		break;
	case 15:
		i = rn(6);
		cmd.to = (uint64_t)junk_fds[i];
		if (junk_fds[i] >= 0)
			expect = i == 4 ? EBADF : EOPNOTSUPP;	/* 4: O_PATH */
		break;
	case 16: cmd.to = (uint64_t)last_closed; break;
	case 17: cmd.to = rn(1024); break;
	case 18: cmd.to = (1ULL << 31) + rn(1ULL << 32); expect = EBADF; break;
	default: cmd.to = rnd(); expect = cmd.to > INT_MAX && cmd.to != BUS1_INVALID ? EBADF : 0; break;
	}

	n = 1 + rn(pm(30) ? 64 : 4);
	if (pm(40))
		n = 0;
	for (i = 0; i < n; ++i) {
		rec[i] = NULL;
		if (pm(450) && (rec[i] = pick_rec(from, K_HANDLE))) {
			src[i].flags = 0;
			src[i].id = rec[i]->id;
		} else {
			src[i].flags = BUS1_TRANSFER_FLAG_CREATE;
			src[i].id = BUS1_INVALID;
		}
		if (pm(20))
			src[i].flags = pick_flags(1000);
		if (pm(20))
			src[i].id = wild_id();
	}
	cmd.n_transfers = pick_count(n, 15);
	msrc = pick_pmode(30);
	mdst = pick_pmode(30);
	cmd.ptr_src = place(msrc, sizeof(src[0]), n, src);
	cmd.ptr_dst = place(mdst, sizeof(src[0]), n, NULL);
	if (pm(15)) {
		cmd.flags = pick_flags(1000);
		expect = EINVAL;
	}
	if (pm(8)) {
		arg = wild_ptr(sizeof(cmd));
		expect = wild_is_bad(arg, sizeof(cmd)) ? EFAULT : 0;
	} else {
		arg = place(P_GOOD, sizeof(cmd), 1, &cmd);
	}
	r = issue(C_TRANSFER, from->fd, BUS1_CMD_TRANSFER, arg, expect);
	if (r)
		return;
	used(from);
	if (!n || !to || msrc != P_GOOD || mdst != P_GOOD ||
	    cmd.n_transfers != n)
		return;

	dsrc = (struct bus1_transfer *)(uintptr_t)cmd.ptr_src;
	for (i = 0; i < n; ++i) {
		struct bus1_transfer *d = (struct bus1_transfer *)(uintptr_t)cmd.ptr_dst + i;
		struct idrec *h;

		if (d->flags || !id_ok(d->id)) {
			violation("TRANSFER succeeded but dst[%llu] = {%llx, %llu}",
				  (unsigned long long)i,
				  (unsigned long long)d->flags,
				  (unsigned long long)d->id);
			return;
		}
		if (src[i].flags & BUS1_TRANSFER_FLAG_CREATE) {
			if (dsrc[i].flags || !id_ok(dsrc[i].id)) {
				violation("TRANSFER succeeded but CREATE src[%llu] = {%llx, %llu}",
					  (unsigned long long)i,
					  (unsigned long long)dsrc[i].flags,
					  (unsigned long long)dsrc[i].id);
				return;
			}
			id_add(from, dsrc[i].id, K_NODE);
		} else if (memcmp(&dsrc[i], &src[i], sizeof(src[i]))) {
			violation("TRANSFER wrote to the non-CREATE src[%llu]",
				  (unsigned long long)i);
		}
		h = id_add(to, d->id, K_HANDLE);
		if (src[i].flags & BUS1_TRANSFER_FLAG_CREATE) {
			h->owner = (int8_t)si;
			h->owner_gen = from->gen;
			h->node_id = dsrc[i].id;
		} else if (rec[i] && rec[i]->id == src[i].id &&
			   rec[i]->kind == K_HANDLE && rec[i]->owner >= 0) {
			h->owner = rec[i]->owner;
			h->owner_gen = rec[i]->owner_gen;
			h->node_id = rec[i]->node_id;
		}
	}
	if (to->peer != from->peer)
		st->depth[D_TRANSFER_CROSS]++;
}

/* ---- RELEASE ---- */

static void op_release(void)
{
	struct bus1_cmd_release cmd = {};
	uint64_t ids[64], n, i, arg;
	int si = pick_slot(), expect = 0, r;
	struct slot *s;
	enum pmode mode;

	if (si < 0)
		return;
	s = &slots[si];
	n = 1 + rn(s->n_ids > 48 ? 16 : 3);
	if (pm(30))
		n = 0;
	for (i = 0; i < n; ++i)
		ids[i] = i && pm(50) ? ids[rn(i)] : pick_id(s, 0, 60);
	cmd.n_ids = pick_count(n, 15);
	mode = pick_pmode(25);
	cmd.ptr_ids = place(mode, 8, n, ids);
	if (pm(15)) {
		cmd.flags = pick_flags(1000);
		expect = EINVAL;
	}
	if (pm(8)) {
		arg = wild_ptr(sizeof(cmd));
		expect = wild_is_bad(arg, sizeof(cmd)) ? EFAULT : 0;
	} else {
		arg = place(P_GOOD, sizeof(cmd), 1, &cmd);
	}
	r = issue(C_RELEASE, s->fd, BUS1_CMD_RELEASE, arg, expect);
	if (r)
		return;
	used(s);
	if (mode != P_GOOD || cmd.n_ids != n)
		return;
	for (i = 0; i < n; ++i) {
		struct idrec *rec = id_find(s, ids[i]);

		if (rec) {
			check_inflight_mark(rec);
			id_del(s, ids[i]);
		}
	}
	if (memcmp((void *)(uintptr_t)cmd.ptr_ids, ids, n * 8))
		violation("RELEASE wrote to its ids array");
}

/* ---- SEND ---- */

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static void op_send(void)
{
	struct bus1_transfer tr[64];
	struct bus1_cmd_send cmd = {};
	struct bus1_message msg = {};
	struct idrec *dst_rec[64], *tr_rec[64];
	uint64_t dst[64], n_dst, n_tr, n_data, i, j, arg, total = 0;
	struct iovec vec[8];
	size_t n_vec = 0;
	int si = pick_slot(), expect = 0, r;
	struct slot *s;
	uint8_t *data;
	enum pmode mdst, mtr, merr, mvec;
	bool clean = true;
	int32_t *errs;

	if (si < 0)
		return;
	s = &slots[si];

	n_dst = 1 + rn(pm(30) ? 32 : 3);
	if (pm(100))
		n_dst = 0;
	for (i = 0; i < n_dst; ++i) {
		dst_rec[i] = pm(30) ? NULL : pick_rec(s, K_HANDLE);
		dst[i] = dst_rec[i] ? dst_rec[i]->id : wild_id();
		if (i && pm(50)) {
			dst_rec[i] = dst_rec[i - 1];
			dst[i] = dst[i - 1];
		}
	}
	n_tr = pm(350) ? 0 : 1 + rn(pm(20) ? 63 : 4);
	for (j = 0; j < n_tr; ++j) {
		tr_rec[j] = pm(500) ? pick_rec(s, K_HANDLE) : NULL;
		tr[j].flags = tr_rec[j] ? 0 : BUS1_TRANSFER_FLAG_CREATE;
		tr[j].id = tr_rec[j] ? tr_rec[j]->id : BUS1_INVALID;
		if (pm(15)) {
			tr[j].flags = pick_flags(1000);
			clean = false;
		}
		if (pm(15)) {
			tr[j].id = wild_id();
			clean = false;
		}
	}

	/* payload: a checked header, then random bytes */
	n_data = pm(200) ? rn(HDR) : HDR + rn(pm(20) ? 65536 : 256);
	if (pm(1))
		n_data = (1 << 20) + rn(4096);
	/* tail arrays sit in the last 8 pages of the big region */
	data = n_data + 8 * PAGE <= BIG_PAGES * PAGE ? big : NULL;
	if (data) {
		for (i = 0; i < n_data && i < 512; ++i)
			data[i] = (uint8_t)rnd();
		if (n_data > 512)
			memset(data + 512, (int)(rnd() & 0xff), n_data - 512);
		if (n_data >= HDR) {
			uint64_t h[4] = {
				MAGIC, n_data, 0, ((uint64_t)me << 48) | op_no,
			};

			h[2] = fnv(data + HDR, n_data - HDR) ^ h[3];
			memcpy(data, h, sizeof(h));
		}
		n_vec = 1 + rn(n_data > 1 ? 4 : 1);
		for (i = 0, total = 0; i < n_vec; ++i) {
			uint64_t l = i + 1 == n_vec ? n_data - total :
				     rn(n_data - total + 1);

			vec[i].iov_base = data + total;
			vec[i].iov_len = l;
			total += l;
		}
		if (pm(60) && n_vec < 8) {
			/* trailing bytes beyond n_data, never read */
			vec[n_vec].iov_base = (void *)(uintptr_t)wild_ptr(1);
			vec[n_vec].iov_len = 1 + rn(64);
			n_vec++;
		}
	}
	for (i = 0; i < n_vec && pm(30); ++i) {
		clean = false;
		switch (rn(5)) {
		case 0: vec[i].iov_base = (void *)(uintptr_t)wild_ptr(1); break;
		case 1: vec[i].iov_len = rnd(); break;
		case 2: vec[i].iov_len = 1ULL << 63; break;
		case 3: vec[i].iov_base = (void *)(uintptr_t)flip_ptr(1); break;
		default: vec[i].iov_base = ro_page; break;
		}
	}
	msg.type = BUS1_MESSAGE_TYPE_USER;
	msg.n_transfers = n_tr;
	msg.n_data = n_data;
	msg.n_data_vecs = n_vec;
	if (pm(20)) { msg.flags = pick_flags(1000); clean = false; }
	if (pm(20)) { msg.type = rn(2) ? 1 + rn(3) : rnd(); clean = false; }
	if (pm(20)) { msg.n_data = pick_count(n_data, 1000); clean = false; }
	if (pm(20)) { msg.n_data_vecs = pick_count(n_vec, 1000); clean = false; }
	if (pm(20)) { msg.n_transfers = pick_count(n_tr, 1000); clean = false; }

	mvec = pick_pmode(15);
	mtr = pick_pmode(20);
	mdst = pick_pmode(15);
	merr = pick_pmode(20);
	/*
	 * A SEND whose vectors or sizes were damaged may still succeed (a
	 * damaged vector can point at readable memory), but what it delivers
	 * is no longer the bytes the header describes: take the header's
	 * magic away so that receivers do not check it.
	 */
	if (data && n_data >= HDR && (!clean || mvec != P_GOOD)) {
		uint64_t m = ~MAGIC;

		memcpy(data, &m, sizeof(m));
	}
	msg.ptr_data_vecs = place(mvec, sizeof(vec[0]), n_vec, vec);
	msg.ptr_transfers = place(mtr, sizeof(tr[0]), n_tr, tr);
	cmd.n_destinations = pick_count(n_dst, 10);
	cmd.ptr_destinations = place(mdst, 8, n_dst, dst);
	cmd.ptr_errors = place(merr, 4, n_dst, NULL);
	cmd.ptr_message = pm(10) ? wild_ptr(sizeof(msg)) :
			  place(pm(10) ? P_RO : P_GOOD, sizeof(msg), 1, &msg);
	if (pm(15)) {
		cmd.flags = pick_flags(1000);
		expect = EINVAL;
	}
	if (pm(8)) {
		arg = wild_ptr(sizeof(cmd));
		expect = wild_is_bad(arg, sizeof(cmd)) ? EFAULT : 0;
	} else {
		arg = place(P_GOOD, sizeof(cmd), 1, &cmd);
	}
	r = issue(C_SEND, s->fd, BUS1_CMD_SEND, arg, expect);
	if (r)
		return;
	used(s);
	{
		struct fuzz_send_rec *l = &st->sends[op_no % FUZZ_SEND_LOG];

		l->op = op_no;
		l->n_data = msg.n_data;
		l->n_dst = (uint32_t)n_dst;
		l->n_tr = (uint32_t)n_tr;
		l->n_vec = (uint32_t)n_vec;
		l->shared = !s->private;
		l->damaged = !clean || mvec != P_GOOD;
		for (i = 0; i < n_vec; ++i)
			if ((uint8_t *)vec[i].iov_base >= flip &&
			    (uint8_t *)vec[i].iov_base < flip + PAGE)
				l->damaged |= 2;
	}
	if (!clean || mvec != P_GOOD || mtr != P_GOOD || mdst != P_GOOD ||
	    merr != P_GOOD || cmd.n_destinations != n_dst ||
	    cmd.ptr_message < (uintptr_t)scratch ||
	    cmd.ptr_message >= (uintptr_t)ro_page)
		return;

	/* CREATE write-backs, errors[], and what is now in flight */
	for (j = 0; j < n_tr; ++j) {
		struct bus1_transfer *t = (struct bus1_transfer *)(uintptr_t)msg.ptr_transfers + j;

		if (!(tr[j].flags & BUS1_TRANSFER_FLAG_CREATE)) {
			if (memcmp(t, &tr[j], sizeof(*t)))
				violation("SEND wrote to the non-CREATE transfers[%llu]",
					  (unsigned long long)j);
			continue;
		}
		if (t->flags || !id_ok(t->id)) {
			violation("SEND succeeded but CREATE transfers[%llu] = {%llx, %llu}",
				  (unsigned long long)j,
				  (unsigned long long)t->flags,
				  (unsigned long long)t->id);
			return;
		}
		tr_rec[j] = id_add(s, t->id, K_NODE);
	}
	errs = (int32_t *)(uintptr_t)cmd.ptr_errors;
	for (i = 0; i < n_dst; ++i)
		if (errs[i]) {
			violation("SEND succeeded but errors[%llu] = %d",
				  (unsigned long long)i, errs[i]);
			break;
		}
	if (n_dst && errs[n_dst] != (int32_t)0xa5a5a5a5)
		violation("SEND wrote past errors[n_destinations - 1]");
	if (n_dst && n_tr)
		st->depth[D_SEND_HANDLES]++;

	/* in-flight marks: a handle to a node of ours queued at a private peer */
	for (i = 0; i < n_dst; ++i) {
		struct idrec *d = dst_rec[i];
		struct slot *p;

		if (!d || d->id != dst[i] || d->owner < 0)
			continue;
		p = &slots[d->owner];
		if (p->fd < 0 || p->gen != d->owner_gen || !p->private)
			continue;
		for (j = 0; j < n_tr; ++j) {
			struct idrec *node;

			if (tr[j].flags & BUS1_TRANSFER_FLAG_CREATE)
				node = tr_rec[j];
			else if (tr_rec[j] && tr_rec[j]->owner == si &&
				 tr_rec[j]->owner_gen == s->gen)
				node = id_find(s, tr_rec[j]->node_id);
			else
				node = NULL;
			if (!node || node->kind != K_NODE)
				continue;
			node->mark = d->owner;
			node->mark_gen = p->gen;
			node->mark_epoch = p->epoch;
		}
	}
}

/* ---- RECV ---- */

static void print_send(unsigned int w, const struct fuzz_send_rec *l)
{
	char line[200];
	int n;

	n = snprintf(line, sizeof(line),
		     "#   worker %u operation %llu: SEND of %llu bytes in %u vectors to %u destinations with %u transfers%s%s%s\n",
		     w, (unsigned long long)l->op, (unsigned long long)l->n_data,
		     l->n_vec, l->n_dst, l->n_tr,
		     l->shared ? " on a shared peer" : "",
		     l->damaged & 1 ? ", damaged" : "",
		     l->damaged & 2 ? ", reading the flip page" : "");
	if (n > 0 && write(1, line, (size_t)n) < 0)
		st->internal++;
}

/* After a payload mismatch: the SEND the header names, and SENDs of the
 * delivered size (one of them is the message actually received). */
static void explain_payload(uint64_t w, uint64_t op, uint64_t d)
{
	unsigned int i, k, shown = 0;

	if (logged > LOG_MAX || !cfg->all)
		return;
	if (w < cfg->workers) {
		const struct fuzz_send_rec *l =
			&cfg->all[w].sends[op % FUZZ_SEND_LOG];

		if (l->op == op)
			print_send((unsigned int)w, l);
	}
	/* the named worker's damaged SENDs first, then the others */
	for (i = 0; i <= cfg->workers; ++i) {
		unsigned int x = (unsigned int)((w + i) % cfg->workers);

		for (k = 0; k < FUZZ_SEND_LOG && shown < 8; ++k) {
			const struct fuzz_send_rec *l = &cfg->all[x].sends[k];
			bool first = x == w && l->damaged;

			if (l->n_data == d && l->op && first == (i == 0)) {
				print_send(x, l);
				shown++;
			}
		}
	}
}

/*
 * A payload that starts with our header must be exactly what its sender
 * (worker and operation number in the header) put in.
 */
static void check_payload(const uint8_t *buf, uint64_t d)
{
	uint64_t h[4];

	if (d < HDR)
		return;
	memcpy(h, buf, sizeof(h));
	if (h[0] != MAGIC)
		return;
	if (h[1] != d || h[2] != (fnv(buf + HDR, d - HDR) ^ h[3])) {
		violation("RECV delivered %llu payload bytes that differ from what worker %llu sent in operation %llu (header says %llu bytes)",
			  (unsigned long long)d,
			  (unsigned long long)(h[3] >> 48),
			  (unsigned long long)(h[3] & 0xffffffffffffULL),
			  (unsigned long long)h[1]);
		explain_payload(h[3] >> 48, h[3] & 0xffffffffffffULL, d);
	} else {
		st->depth[D_RECV_DATA]++;
	}
}

/*
 * EMSGSIZE writes back the metadata and the message struct with the sizes
 * the entry needs (spec 5.4, D9): check them against the capacities
 * passed in @in (total iovec length @cap_data). On a private peer the
 * next RECV normally gets the same message.
 */
static void check_emsgsize(struct slot *s, const struct bus1_message *in,
			   uint64_t cap_data, uint64_t arg)
{
	const struct bus1_cmd_recv *cmd = (void *)(uintptr_t)arg;
	const struct bus1_message *out = (void *)(uintptr_t)cmd->ptr_message;
	const struct bus1_metadata *meta = (void *)(uintptr_t)cmd->ptr_metadata;

	if (out->flags || out->type != BUS1_MESSAGE_TYPE_USER ||
	    out->ptr_transfers != in->ptr_transfers ||
	    out->n_data_vecs != in->n_data_vecs ||
	    out->ptr_data_vecs != in->ptr_data_vecs ||
	    meta->flags || !id_ok(meta->id) || meta->account == BUS1_INVALID ||
	    (out->n_transfers <= in->n_transfers && out->n_data <= in->n_data &&
	     cap_data >= in->n_data)) {
		violation("RECV EMSGSIZE wrote message {%llx, type %llu, k %llu, d %llu} metadata {%llx, id %llu, account %llu} for capacities k %llu, d %llu, iovecs %llu",
			  (unsigned long long)out->flags,
			  (unsigned long long)out->type,
			  (unsigned long long)out->n_transfers,
			  (unsigned long long)out->n_data,
			  (unsigned long long)meta->flags,
			  (unsigned long long)meta->id,
			  (unsigned long long)meta->account,
			  (unsigned long long)in->n_transfers,
			  (unsigned long long)in->n_data,
			  (unsigned long long)cap_data);
		return;
	}
	if (s->private) {
		s->emsgsize = true;
		s->emsg_k = out->n_transfers;
		s->emsg_d = out->n_data;
		s->emsg_id = meta->id;
	}
}

/* RECV with buffers that fit most messages; returns the errno. */
static int recv_on(int si, bool zero_caps, uint64_t *type_out)
{
	struct slot *s = &slots[si];
	struct bus1_cmd_recv cmd = {};
	struct bus1_message msg = {}, in;
	struct bus1_metadata *meta;
	struct bus1_transfer *tr;
	struct iovec vec[4];
	uint64_t cap_tr = 64, cap_data, i, arg;
	size_t n_vec;
	int expect = 0, r;
	enum pmode mtr, mvec, mmeta;
	bool clean = true, retry;
	uint8_t *buf = big;

	s->epoch++;
	n_vec = zero_caps ? 0 : pm(100) ? rn(4) : 1;
	cap_data = 0;
	for (i = 0; i < n_vec; ++i) {
		vec[i].iov_base = buf + cap_data;
		vec[i].iov_len = pm(100) ? rn(512) : (BIG_PAGES * PAGE - 64) / 4;
		cap_data += vec[i].iov_len;
	}
	if (zero_caps)
		cap_tr = 0;
	msg.type = BUS1_INVALID;
	msg.n_transfers = !zero_caps && pm(50) ? pick_count(rn(4), 1000) : cap_tr;
	msg.n_data = !zero_caps && pm(50) ? pick_count(rn(cap_data + 1), 1000) :
		     cap_data;
	msg.n_data_vecs = n_vec;
	if (!zero_caps) {
		if (pm(20)) { msg.flags = pick_flags(1000); clean = false; }
		if (pm(20)) { msg.type = rn(3); clean = false; }
		if (pm(20)) { msg.n_data_vecs = pick_count(n_vec, 1000); clean = false; }
		for (i = 0; i < n_vec && pm(20); ++i) {
			clean = false;
			switch (rn(3)) {
			case 0: vec[i].iov_base = (void *)(uintptr_t)wild_ptr(1); break;
			case 1:
				/*
				 * Misaligned on purpose: a payload received
				 * here must not leave a header where a
				 * damaged SEND reads the flip page (at
				 * multiples of 8), or a later receiver would
				 * check stale bytes as if they were sent.
				 */
				vec[i].iov_base = (void *)(uintptr_t)(flip_ptr(1) | 3);
				break;
			default: vec[i].iov_len = rnd(); break;
			}
		}
	}
	mtr = zero_caps ? P_GOOD : pick_pmode(20);
	mvec = zero_caps ? P_GOOD : pick_pmode(15);
	mmeta = zero_caps ? P_GOOD : pick_pmode(20);
	msg.ptr_transfers = place(mtr, sizeof(*tr), 64, NULL);
	msg.ptr_data_vecs = place(mvec, sizeof(vec[0]), n_vec, vec);
	cmd.ptr_metadata = place(mmeta, sizeof(*meta), 1, NULL);
	in = msg;
	cmd.ptr_message = !zero_caps && pm(10) ? wild_ptr(sizeof(msg)) :
			  place(!zero_caps && pm(10) ? P_RO : P_GOOD,
				sizeof(msg), 1, &msg);
	if (!zero_caps && pm(15)) {
		cmd.flags = pick_flags(1000);
		expect = EINVAL;
	}
	if (!zero_caps && pm(8)) {
		arg = wild_ptr(sizeof(cmd));
		expect = wild_is_bad(arg, sizeof(cmd)) ? EFAULT : 0;
	} else {
		arg = place(P_GOOD, sizeof(cmd), 1, &cmd);
	}
	r = issue(C_RECV, s->fd, BUS1_CMD_RECV, arg, expect);
	retry = s->emsgsize;
	s->emsgsize = false;
	if (!clean || mtr != P_GOOD || mvec != P_GOOD || mmeta != P_GOOD ||
	    cmd.ptr_message < (uintptr_t)scratch ||
	    cmd.ptr_message >= (uintptr_t)ro_page) {
		if (!r)
			used(s);
		return r;
	}
	if (r == EMSGSIZE)
		check_emsgsize(s, &in, cap_data, arg);
	if (r)
		return r;
	used(s);

	/* a delivered entry: check its shape */
	{
		struct bus1_message *out = (void *)(uintptr_t)cmd.ptr_message;

		meta = (void *)(uintptr_t)cmd.ptr_metadata;
		tr = (void *)(uintptr_t)msg.ptr_transfers;
		if (type_out)
			*type_out = out->type;
		if (out->flags || meta->flags || out->type > 2 ||
		    out->ptr_transfers != in.ptr_transfers ||
		    out->n_data_vecs != in.n_data_vecs ||
		    out->ptr_data_vecs != in.ptr_data_vecs || !id_ok(meta->id)) {
			violation("RECV returned 0 with message {%llx, type %llu, ...} metadata {%llx, id %llu}",
				  (unsigned long long)out->flags,
				  (unsigned long long)out->type,
				  (unsigned long long)meta->flags,
				  (unsigned long long)meta->id);
			return r;
		}
		if (out->type != BUS1_MESSAGE_TYPE_USER) {
			if (out->n_transfers || out->n_data ||
			    meta->account != BUS1_INVALID)
				violation("RECV: notification with k %llu, d %llu, account %llu",
					  (unsigned long long)out->n_transfers,
					  (unsigned long long)out->n_data,
					  (unsigned long long)meta->account);
			if (out->type == BUS1_MESSAGE_TYPE_NODE_RELEASE) {
				st->depth[D_NODE_RELEASE]++;
				id_del(s, meta->id);
			} else {
				/*
				 * No in-flight mark counts here: a handle
				 * in flight keeps the node's last handle
				 * alive, so this node had none any more.
				 */
				st->depth[D_HANDLE_RELEASE]++;
				id_del(s, meta->id);
			}
			return r;
		}
		if (out->n_transfers > in.n_transfers || out->n_data > in.n_data ||
		    meta->account == BUS1_INVALID) {
			violation("RECV: user message k %llu d %llu above capacities %llu/%llu, account %llu",
				  (unsigned long long)out->n_transfers,
				  (unsigned long long)out->n_data,
				  (unsigned long long)in.n_transfers,
				  (unsigned long long)in.n_data,
				  (unsigned long long)meta->account);
			return r;
		}
		for (i = 0; i < out->n_transfers && i < 64; ++i) {
			if (tr[i].flags || !id_ok(tr[i].id)) {
				violation("RECV: transfers[%llu] = {%llx, %llu}",
					  (unsigned long long)i,
					  (unsigned long long)tr[i].flags,
					  (unsigned long long)tr[i].id);
				break;
			}
			id_add(s, tr[i].id, K_HANDLE);
		}
		if (out->n_transfers)
			st->depth[D_RECV_HANDLES]++;
		if (retry && out->n_transfers == s->emsg_k &&
		    out->n_data == s->emsg_d && meta->id == s->emsg_id)
			st->depth[D_EMSGSIZE_RETRY]++;
		if (n_vec == 1 || (n_vec && vec[0].iov_len >= out->n_data)) {
			check_payload(vec[0].iov_base, out->n_data);
		} else if (n_vec) {
			/* gather the scattered bytes to check them */
			static uint8_t tmp[BIG_PAGES * PAGE];
			uint64_t off = 0;

			for (i = 0; i < n_vec && off < out->n_data; ++i) {
				uint64_t l = vec[i].iov_len;

				if (l > out->n_data - off)
					l = out->n_data - off;
				memcpy(tmp + off, vec[i].iov_base, l);
				off += l;
			}
			check_payload(tmp, out->n_data);
		}
	}
	return r;
}

static void op_recv(void)
{
	int si = pick_slot();

	if (si >= 0)
		recv_on(si, false, NULL);
}

/* ---- peers: open, close, dup, pass ---- */

static void op_open(void)
{
	static const int modes[] = { O_RDWR, O_RDWR, O_RDONLY, O_WRONLY,
				     O_RDWR | O_NONBLOCK };
	int i = free_slot(), fd;

	if (i < 0)
		return;
	fd = open(cfg->dev, modes[rn(5)] | O_CLOEXEC);
	if (fd < 0) {
		violation("open %s: %s", cfg->dev, strerror(errno));
		return;
	}
	slot_init(i, fd, true, ((uint64_t)me << 48) | peer_next++);
}

static void op_close(void)
{
	int si = pick_slot(), k;
	struct slot *s;
	size_t i;
	bool queued = false;

	if (si < 0 || n_used_slots() < 2)
		return;
	s = &slots[si];
	if (s->private) {
		/* closing releases every node: in-flight marks count */
		for (i = 0; i < s->n_ids; ++i)
			check_inflight_mark(&s->ids[i]);
		/* a user message waiting? zero capacities never take one */
		for (k = 0; k < 3 && !queued; ++k) {
			uint64_t type = BUS1_INVALID;
			int r = recv_on(si, true, &type);

			if (r == EMSGSIZE)
				queued = true;
			else if (r)
				break;
		}
		if (queued)
			st->depth[D_CLOSE_QUEUED]++;
	}
	last_closed = s->fd;
	if (close(s->fd))
		violation("close of a bus1 fd: %s", strerror(errno));
	s->fd = -1;
}

static void op_dup(void)
{
	int si = pick_slot(), i = free_slot(), fd;

	if (si < 0 || i < 0)
		return;
	fd = dup(slots[si].fd);
	if (fd < 0)
		return;
	slot_share(&slots[si]);
	slot_init(i, fd, false, slots[si].peer);
	memcpy(slots[i].ids, slots[si].ids, sizeof(slots[i].ids));
	slots[i].n_ids = slots[si].n_ids;
	for (size_t k = 0; k < slots[i].n_ids; ++k)
		slots[i].ids[k].mark = -1, slots[i].ids[k].owner = -1;
}

struct pass_msg {
	uint64_t n;
	uint64_t ids[8];
	uint8_t kinds[8];
};

static void op_pass(void)
{
	int si = pick_slot();
	struct pass_msg pmsg = {};
	char ctl[CMSG_SPACE(sizeof(int))] = {};
	struct iovec v = { &pmsg, sizeof(pmsg) };
	struct msghdr mh = {
		.msg_iov = &v, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	size_t i;

	if (si < 0 || sock_out < 0)
		return;
	for (i = 0; i < slots[si].n_ids && pmsg.n < 8; ++i) {
		pmsg.ids[pmsg.n] = slots[si].ids[i].id;
		pmsg.kinds[pmsg.n++] = slots[si].ids[i].kind;
	}
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &slots[si].fd, sizeof(int));
	if (sendmsg(sock_out, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(pmsg))
		slot_share(&slots[si]);
}

static void op_take(void)
{
	struct pass_msg pmsg = {};
	char ctl[CMSG_SPACE(sizeof(int))] = {};
	struct iovec v = { &pmsg, sizeof(pmsg) };
	struct msghdr mh = {
		.msg_iov = &v, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;
	int fd = -1, i;
	uint64_t k;

	if (sock_in < 0 ||
	    recvmsg(sock_in, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
		return;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0)
		return;
	i = free_slot();
	if (i < 0) {
		close(fd);
		return;
	}
	slot_init(i, fd, false, ((uint64_t)me << 48) | peer_next++);
	slots[i].passed = true;
	for (k = 0; k < pmsg.n && k < 8; ++k)
		id_add(&slots[i], pmsg.ids[k], pmsg.kinds[k] <= K_HANDLE ?
		       pmsg.kinds[k] : K_UNKNOWN);
}

static void op_poll(void)
{
	int si = pick_slot();
	struct pollfd p;

	if (si < 0)
		return;
	p.fd = slots[si].fd;
	p.events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | POLLPRI;
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT) ||
	    (p.revents & (POLLERR | POLLHUP | POLLNVAL | POLLPRI)))
		violation("poll on a bus1 fd: revents 0x%x", p.revents);
}

static void op_unknown(void)
{
	int si = pick_slot();
	unsigned long cmd;
	void *arg = salloc(256);

	if (si < 0)
		return;
	do {
		cmd = ((unsigned long)rn(4) << 30) |
		      ((unsigned long)(pm(500) ? 8 * rn(8) : rn(1 << 14)) << 16) |
		      (BUS1_IOCTL_MAGIC << 8) | (pm(700) ? rn(8) : rn(256));
	} while (cmd == BUS1_CMD_TRANSFER || cmd == BUS1_CMD_RELEASE ||
		 cmd == BUS1_CMD_SEND || cmd == BUS1_CMD_RECV);
	issue(C_UNKNOWN, slots[si].fd, cmd,
	      pm(500) ? (uintptr_t)arg : wild_ptr(64), ENOTTY);
}

/*
 * A child shares every peer and issues long commands until it is killed:
 * commands interrupted by a fatal signal must roll back cleanly.
 */
static void op_victim(void)
{
	static struct bus1_transfer src[4096], dst[4096];
	pid_t pid;
	int status, i;

	for (i = 0; i < 4096; ++i) {
		src[i].flags = BUS1_TRANSFER_FLAG_CREATE;
		src[i].id = BUS1_INVALID;
	}
	if (!victim_st) {
		victim_st = mmap(NULL, sizeof(*victim_st), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (victim_st == MAP_FAILED) {
			victim_st = NULL;
			st->internal++;
			return;
		}
	}
	memset(victim_st, 0, sizeof(*victim_st));
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		/*
		 * The child's mix is not counted (it stops at a random
		 * point), but what it finds is: its violations reach the
		 * parent through the shared block.
		 */
		st = victim_st;
		for (;;) {
			int si = pick_slot();
			struct bus1_cmd_transfer t = {
				.to = BUS1_INVALID,
				.n_transfers = 1 + rn(4096),
				.ptr_src = (uintptr_t)src,
				.ptr_dst = (uintptr_t)dst,
			};

			if (si < 0)
				_exit(0);
			arena_reset();
			switch (rn(4)) {
			case 0:
				ioctl(slots[si].fd, BUS1_CMD_TRANSFER, &t);
				break;
			case 1: op_send(); break;
			case 2: op_recv(); break;
			default: op_release(); break;
			}
		}
	}
	usleep((useconds_t)rn(3000));
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid) {
		st->internal++;
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		st->depth[D_KILLED]++;
	} else if (WIFSIGNALED(status) || WEXITSTATUS(status)) {
		/* anything but our SIGKILL or running out of slots */
		violation("a child issuing commands died %s %d",
			  WIFSIGNALED(status) ? "of signal" : "with status",
			  WIFSIGNALED(status) ? WTERMSIG(status) :
			  WEXITSTATUS(status));
	}
	st->violations += victim_st->violations;
	st->internal += victim_st->internal;
	/* it may have received anything: no in-flight claim survives */
	for (i = 0; i < MAX_SLOTS; ++i)
		slots[i].epoch++;
}

/* ---- the loop ---- */

static void (*const ops_table[O_N])(void) = {
	[O_OPEN] = op_open, [O_CLOSE] = op_close, [O_DUP] = op_dup,
	[O_PASS] = op_pass, [O_TAKE] = op_take, [O_POLL] = op_poll,
	[O_UNKNOWN] = op_unknown, [O_TRANSFER] = op_transfer,
	[O_RELEASE] = op_release, [O_SEND] = op_send, [O_RECV] = op_recv,
	[O_VICTIM] = op_victim,
};

static void op_account(int kind, const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	st->op_n[kind]++;
	st->op_ns[kind] += (uint64_t)((t1.tv_sec - t0->tv_sec) * 1000000000LL +
				      (t1.tv_nsec - t0->tv_nsec));
}

void fuzz_worker(const struct fuzz_config *config, unsigned int index,
		 int shared_fds[], unsigned int n_shared, int out, int in,
		 struct fuzz_stats *stats, uint64_t ops)
{
	struct timespec t0, t, o0;
	unsigned int i, kind;
	int sv[2];

	cfg = config;
	st = stats;
	me = index;
	rng = cfg->seed * 0x9e3779b97f4a7c15ULL + index + 1;
	sock_out = out;
	sock_in = in;
	for (i = 0; i < MAX_SLOTS; ++i)
		slots[i].fd = -1;
	if (arena_init()) {
		st->internal++;
		return;
	}
	junk_fds[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (pipe2(sv, O_CLOEXEC) == 0) {
		junk_fds[1] = sv[0];
		junk_fds[2] = sv[1];
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0)
		junk_fds[3] = sv[0];
	junk_fds[4] = open(cfg->dev, O_PATH | O_CLOEXEC);
	junk_fds[5] = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < n_shared && (int)i < MAX_SLOTS; ++i)
		slot_init((int)i, shared_fds[i], false, 0xfff0000 + i);
	if (cfg->flip) {
		flipper_running = !pthread_create(&flipper, NULL, flipper_main,
						  (void *)(uintptr_t)(rnd() | 1));
		if (!flipper_running)
			st->internal++;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (op_no = 0; op_no < ops; ++op_no) {
		unsigned int t_op = (unsigned int)rn(1000);

		st->ops++;
		arena_reset();
		clock_gettime(CLOCK_MONOTONIC, &o0);
		if (n_used_slots() < 3 || (t_op < 12 && n_used_slots() < MAX_SLOTS))
			kind = O_OPEN;
		else if (t_op < 20)
			kind = O_CLOSE;
		else if (t_op < 23)
			kind = O_DUP;
		else if (t_op < 28)
			kind = O_PASS;
		else if (t_op < 36)
			kind = O_TAKE;
		else if (t_op < 50)
			kind = O_POLL;
		else if (t_op < 56)
			kind = O_UNKNOWN;
		else if (t_op < 270)
			kind = O_TRANSFER;
		else if (t_op < 410)
			kind = O_RELEASE;
		else if (t_op < 700)
			kind = O_SEND;
		else
			kind = O_RECV;
		ops_table[kind]();
		op_account(kind, &o0);
		if (kind == O_OPEN)
			continue;
		if (!(op_no % 5000) && op_no) {
			clock_gettime(CLOCK_MONOTONIC, &o0);
			op_victim();
			op_account(O_VICTIM, &o0);
		}
		if (cfg->verbose && !me && ops >= 10 && !(op_no % (ops / 10)) && op_no) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			printf("# worker 0: %llu operations after %.1f s\n",
			       (unsigned long long)op_no,
			       (double)(t.tv_sec - t0.tv_sec) +
			       (double)(t.tv_nsec - t0.tv_nsec) / 1e9);
		}
		if (!(op_no & 1023) && cfg->max_seconds > 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((double)(t.tv_sec - t0.tv_sec) +
			    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >
			    cfg->max_seconds)
				break;
		}
	}
	if (flipper_running) {
		flipper_stop = true;
		pthread_join(flipper, NULL);
	}
	for (i = 0; i < MAX_SLOTS; ++i)
		if (slots[i].fd >= 0)
			close(slots[i].fd);
}
