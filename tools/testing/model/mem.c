// SPDX-License-Identifier: GPL-2.0
/*
 * The checker's user memory: a fixed arena with known page protections and
 * the shadow copy the model writes its predictions into. See mem.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mem.h"

enum { P_NONE, P_RO, P_RW };

#define ZONE_R_FIRST	MEM_SCRATCH_PAGES
#define ZONE_W_FIRST	(ZONE_R_FIRST + 2 * MEM_ZONES_R)
#define BIG_FIRST	(ZONE_W_FIRST + 2 * MEM_ZONES_W)
#define N_PAGES		(BIG_FIRST + MEM_BIG_PAGES)
#define ARENA_END	(MEM_BASE + N_PAGES * MEM_PAGE)

static unsigned char prot[N_PAGES];
static size_t scratch_used;
static unsigned int zones_r_used, zones_w_used;

int mem_init(void)
{
	void *p;
	size_t i;

	p = mmap((void *)MEM_BASE, N_PAGES * MEM_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)MEM_BASE)
		return -1;
	for (i = 0; i < N_PAGES; ++i)
		prot[i] = P_RW;
	for (i = 0; i < MEM_ZONES_R; ++i)
		prot[ZONE_R_FIRST + 2 * i + 1] = P_NONE;
	for (i = 0; i < MEM_ZONES_W; ++i)
		prot[ZONE_W_FIRST + 2 * i + 1] = P_RO;
	for (i = 0; i < N_PAGES; ++i) {
		int pr = prot[i] == P_RW ? PROT_READ | PROT_WRITE :
			 prot[i] == P_RO ? PROT_READ : PROT_NONE;

		if (mprotect((void *)(MEM_BASE + i * MEM_PAGE), MEM_PAGE, pr))
			return -1;
	}
	return 0;
}

void mem_reset(void)
{
	scratch_used = 0;
	zones_r_used = 0;
	zones_w_used = 0;
}

uint64_t mem_scratch(size_t size)
{
	uint64_t addr;

	size = (size + 15) & ~(size_t)15;
	if (scratch_used + size > MEM_SCRATCH_PAGES * MEM_PAGE) {
		fprintf(stderr, "model: scratch memory exhausted\n");
		abort();
	}
	addr = MEM_BASE + scratch_used;
	scratch_used += size;
	return addr;
}

uint64_t mem_zone_r(void)
{
	if (zones_r_used >= MEM_ZONES_R)
		return 0;
	return MEM_BASE + (ZONE_R_FIRST + 2 * zones_r_used++ + 1) * MEM_PAGE;
}

uint64_t mem_zone_w(void)
{
	if (zones_w_used >= MEM_ZONES_W)
		return 0;
	return MEM_BASE + (ZONE_W_FIRST + 2 * zones_w_used++ + 1) * MEM_PAGE;
}

uint64_t mem_big(void)
{
	return MEM_BASE + BIG_FIRST * MEM_PAGE;
}

size_t mem_big_size(void)
{
	return MEM_BIG_PAGES * MEM_PAGE;
}

void mem_store(uint64_t addr, const void *buf, size_t len)
{
	uint64_t first, last, pg;

	if (!len)
		return;
	if (addr < MEM_BASE || addr + len > ARENA_END || addr + len < addr) {
		fprintf(stderr, "model: store outside the arena\n");
		abort();
	}
	first = (addr - MEM_BASE) / MEM_PAGE;
	last = (addr + len - 1 - MEM_BASE) / MEM_PAGE;
	for (pg = first; pg <= last; ++pg) {
		if (prot[pg] == P_NONE) {
			fprintf(stderr, "model: store into a guard page\n");
			abort();
		}
		if (prot[pg] == P_RO)
			mprotect((void *)(MEM_BASE + pg * MEM_PAGE), MEM_PAGE,
				 PROT_READ | PROT_WRITE);
	}
	memcpy((void *)addr, buf, len);
	for (pg = first; pg <= last; ++pg)
		if (prot[pg] == P_RO)
			mprotect((void *)(MEM_BASE + pg * MEM_PAGE), MEM_PAGE,
				 PROT_READ);
}

static bool mem_access(uint64_t addr, uint64_t len, int need)
{
	uint64_t pg, last;

	if (!len)
		return true;
	if (addr < MEM_BASE || addr >= ARENA_END || len > ARENA_END - addr)
		return false;
	last = (addr + len - 1 - MEM_BASE) / MEM_PAGE;
	for (pg = (addr - MEM_BASE) / MEM_PAGE; pg <= last; ++pg)
		if (prot[pg] < need)
			return false;
	return true;
}

bool mem_readable(uint64_t addr, uint64_t len)
{
	return mem_access(addr, len, P_RO);
}

bool mem_writable(uint64_t addr, uint64_t len)
{
	return mem_access(addr, len, P_RW);
}

bool mem_user_range(uint64_t addr, uint64_t len)
{
	return addr <= MEM_USER_TOP && len <= MEM_USER_TOP - addr;
}

bool mem_read(uint64_t addr, void *buf, size_t len)
{
	if (!mem_readable(addr, len))
		return false;
	if (len)
		memcpy(buf, (const void *)addr, len);
	return true;
}

bool mem_elem(uint64_t base, uint64_t i, uint64_t size, uint64_t *addr)
{
	uint64_t off, a;

	if (i && size > UINT64_MAX / i)
		return false;
	off = i * size;
	a = base + off;
	if (a < base || a + size < a)
		return false;
	*addr = a;
	return true;
}

/* ---- shadow ---- */

#define SHADOW_MAX 32

struct shadow {
	uint64_t addr;
	size_t len;
	unsigned char *orig, *pred;
	unsigned char *ignore;
};

static struct shadow shadows[SHADOW_MAX];
static size_t n_shadows;

/* the prefix log (see mem.h): runs of bytes, in order */
struct log_run {
	uint64_t addr;
	size_t len, off;	/* bytes log_val[off, off + len) */
};

static struct log_run *log_runs;
static size_t n_runs, cap_runs;
static unsigned char *log_val;
static size_t n_log, cap_log;

void shadow_begin(void)
{
	size_t i;

	for (i = 0; i < n_shadows; ++i) {
		free(shadows[i].orig);
		free(shadows[i].pred);
		free(shadows[i].ignore);
	}
	n_shadows = 0;
	n_runs = 0;
	n_log = 0;
}

/* Bytes the test cannot read (guard pages) are never compared. */
static void shadow_base_ignore(struct shadow *s)
{
	uint64_t a = s->addr, end = s->addr + s->len, next;

	while (a < end) {
		next = (a & ~(MEM_PAGE - 1)) + MEM_PAGE;
		if (next > end || next < a)
			next = end;
		memset(s->ignore + (a - s->addr), !mem_readable(a, 1),
		       next - a);
		a = next;
	}
}

void shadow_region(uint64_t addr, size_t len)
{
	struct shadow *s;
	uint64_t a, end, next;

	if (!len || n_shadows >= SHADOW_MAX)
		return;
	s = &shadows[n_shadows++];
	s->addr = addr;
	s->len = len;
	s->orig = calloc(1, len);
	s->pred = calloc(1, len);
	s->ignore = calloc(1, len);
	if (!s->orig || !s->pred || !s->ignore)
		abort();
	shadow_base_ignore(s);
	for (a = addr, end = addr + len; a < end; a = next) {
		next = (a & ~(MEM_PAGE - 1)) + MEM_PAGE;
		if (next > end)
			next = end;
		if (!s->ignore[a - addr])
			memcpy(s->orig + (a - addr), (const void *)a, next - a);
	}
	memcpy(s->pred, s->orig, len);
}

/* Intersect [addr, addr + len) with region @s: offsets into both. */
static bool shadow_clip(const struct shadow *s, uint64_t addr, size_t len,
			size_t *roff, size_t *boff, size_t *n)
{
	uint64_t lo = addr > s->addr ? addr : s->addr;
	uint64_t hi = addr + len < s->addr + s->len ? addr + len :
						      s->addr + s->len;

	if (lo >= hi)
		return false;
	*roff = lo - s->addr;
	*boff = lo - addr;
	*n = hi - lo;
	return true;
}

void shadow_write(uint64_t addr, const void *buf, size_t len)
{
	size_t i, roff, boff, n;

	for (i = 0; i < n_shadows; ++i)
		if (shadow_clip(&shadows[i], addr, len, &roff, &boff, &n))
			memcpy(shadows[i].pred + roff,
			       (const unsigned char *)buf + boff, n);
}

void shadow_reset(void)
{
	size_t i;

	for (i = 0; i < n_shadows; ++i) {
		memcpy(shadows[i].pred, shadows[i].orig, shadows[i].len);
		shadow_base_ignore(&shadows[i]);
	}
	n_runs = 0;
	n_log = 0;
}

void shadow_log(uint64_t addr, const void *buf, size_t len)
{
	if (!len)
		return;
	if (n_log + len > cap_log) {
		size_t cap = cap_log ? cap_log : 4096;

		while (cap < n_log + len)
			cap *= 2;
		log_val = realloc(log_val, cap);
		if (!log_val)
			abort();
		cap_log = cap;
	}
	if (n_runs == cap_runs) {
		cap_runs = cap_runs ? 2 * cap_runs : 64;
		log_runs = realloc(log_runs, cap_runs * sizeof(*log_runs));
		if (!log_runs)
			abort();
	}
	log_runs[n_runs].addr = addr;
	log_runs[n_runs].len = len;
	log_runs[n_runs++].off = n_log;
	memcpy(log_val + n_log, buf, len);
	n_log += len;
}

void shadow_log_commit(void)
{
	size_t i;

	for (i = 0; i < n_runs; ++i)
		shadow_write(log_runs[i].addr, log_val + log_runs[i].off,
			     log_runs[i].len);
	n_runs = 0;
	n_log = 0;
}

static struct shadow *shadow_find(uint64_t addr)
{
	size_t i;

	for (i = 0; i < n_shadows; ++i)
		if (addr >= shadows[i].addr &&
		    addr - shadows[i].addr < shadows[i].len)
			return &shadows[i];
	return NULL;
}

/*
 * How many bytes of the log the real memory shows. The kernel writes in
 * log order and stops at a fault, so the prefix ends at the first byte
 * that differs, cannot be written or lies outside every region (and could
 * not be checked). Bytes the prefix leaves out are compared like any
 * other; a byte the log agrees on with the expectation before it passes
 * either way, so the longest prefix is the right one to try.
 */
static size_t log_prefix(void)
{
	struct shadow *s = NULL;
	size_t r, j;

	for (r = 0; r < n_runs; ++r) {
		const struct log_run *l = &log_runs[r];

		for (j = 0; j < l->len; ++j) {
			uint64_t a = l->addr + j;

			if (!s || a < s->addr || a - s->addr >= s->len)
				s = shadow_find(a);
			if (!s || !mem_writable(a, 1) ||
			    *(const unsigned char *)(uintptr_t)a !=
			    log_val[l->off + j])
				return l->off + j;
		}
	}
	return n_log;
}

int shadow_compare(char *why, size_t n)
{
	unsigned char *exp[SHADOW_MAX];
	size_t i, j, r, cut = n_runs ? log_prefix() : 0;
	int ret = 0;

	for (i = 0; i < n_shadows; ++i)
		exp[i] = shadows[i].pred;
	/* the expectation: the prediction with the prefix found applied */
	for (r = 0; r < n_runs && log_runs[r].off < cut; ++r) {
		const struct log_run *l = &log_runs[r];
		size_t len = cut - l->off < l->len ? cut - l->off : l->len;

		for (i = 0; i < n_shadows; ++i) {
			size_t roff, boff, m;

			if (!shadow_clip(&shadows[i], l->addr, len, &roff,
					 &boff, &m))
				continue;
			if (exp[i] == shadows[i].pred) {
				exp[i] = malloc(shadows[i].len);
				if (!exp[i])
					abort();
				memcpy(exp[i], shadows[i].pred, shadows[i].len);
			}
			memcpy(exp[i] + roff, log_val + l->off + boff, m);
		}
	}
	for (i = 0; i < n_shadows && !ret; ++i) {
		struct shadow *s = &shadows[i];
		const unsigned char *real = (const unsigned char *)(uintptr_t)s->addr;

		/* fast path; ignored bytes may be unreadable */
		if (!memchr(s->ignore, 1, s->len) &&
		    !memcmp(real, exp[i], s->len))
			continue;
		for (j = 0; j < s->len; ++j) {
			if (s->ignore[j] || real[j] == exp[i][j])
				continue;
			snprintf(why, n,
				 "user memory at 0x%llx (region 0x%llx+%zu, offset %zu): expected 0x%02x, found 0x%02x",
				 (unsigned long long)(s->addr + j),
				 (unsigned long long)s->addr, s->len, j,
				 exp[i][j], real[j]);
			ret = -1;
			break;
		}
	}
	if (ret && n_log) {
		size_t l = strlen(why);

		snprintf(why + l, n - l,
			 " (a fault allows a prefix of the ordered writes; %zu of their %zu bytes found)",
			 cut, n_log);
	}
	for (i = 0; i < n_shadows; ++i)
		if (exp[i] != shadows[i].pred)
			free(exp[i]);
	return ret;
}
