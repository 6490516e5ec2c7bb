// SPDX-License-Identifier: GPL-2.0
/*
 * bus1-fault-sweep: systematic allocation-failure injection into the bus1
 * module (spec 11.7 and 12.12 item 146; decisions D6/D7).
 *
 * README
 *
 * Build and run (host): tools/testing/fault/run.sh, or make -C
 * tools/testing/fault check. It builds this program (static), bus1.ko for
 * the debug kernel with debug information (same code), the call-site map
 * (gen-sites.sh, which also checks alloc-sites.txt against the module) and
 * runs payload fault.sh in the VM. The last line is "N passed, N failed".
 *
 * What it does. Every scenario (scenarios.c) sets up peers, nodes, handles
 * and queued entries, then issues one call under test with
 * /proc/thread-self/fail-nth = 1, 2, 3, ... until the call completes
 * without reaching the injected failure. failslab and fail_page_alloc
 * count sleeping, highmem and order-0 allocations too, and a stack filter
 * restricts counting to allocations made under the module's code (its text
 * range, from /sys/module/<module>/sections). At every step the call must
 * either succeed with its full effect, or fail with ENOMEM and leave
 * nothing user space can observe: the scenario probes the state through
 * the API (queues, IDs written by the failed call, the next ID, every
 * node's handle count through HANDLE_RELEASE) and the engine compares the
 * debugfs object counters and accounting dump with their values before
 * the call. Every peer is then closed with fail-nth = 1: close must never
 * reach an allocation; afterwards every counter must be 0 again.
 *
 * Attribution. Each injected failure prints a stack trace (verbose = 2);
 * the innermost frame in the module gives the call site, which the site
 * map ties to an entry of alloc-sites.txt. Sites marked "filtered" there
 * are swept again with the stack filter narrowed to their exact return
 * address, with fail-nth and with the first N slab or page allocations
 * failing: their allocations pass __GFP_NOWARN (no trace), or the
 * allocator absorbs one failure (xarray retries, kvmalloc falls back to
 * vmalloc). The sweep fails if an inventory site on a command's path is
 * never reached, or an injection hits a call site not in the inventory.
 *
 * The kernel log is read from /dev/kmsg throughout: every record outside
 * an injected failure's own report is matched against the harness's list
 * of fatal patterns. The console is quieted during the sweep (the traces
 * would take minutes on a serial line) and the log buffer is cleared at the
 * end, after every record has been checked, so that the expected traces do
 * not fail the harness's own scan.
 *
 * Output: TAP (one line per scenario, per filtered site, per command's
 * coverage and per global check) and a summary table as TAP comments.
 *
 * Usage: bus1-fault-sweep [--map FILE] [--patterns FILE] [--module NAME]
 *        [--device PATH] [--only SCENARIO] [--budget SECONDS] [--verbose]
 * The defaults are the paths the VM payload (fault.sh) installs; the
 * environment variables BUS1_FAULT_ONLY and BUS1_FAULT_VERBOSE=1 stand in
 * for --only and --verbose there (run.sh -e BUS1_FAULT_ONLY=send-unicast);
 * BUS1_FAULT_SITES=NAME,... also sweeps these traced sites filtered.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "fault.h"

const char *const cmd_names[CMD_N] = {
	[CMD_OPEN] = "open",
	[CMD_TRANSFER] = "TRANSFER",
	[CMD_RELEASE] = "RELEASE",
	[CMD_SEND] = "SEND",
	[CMD_RECV] = "RECV",
	[CMD_CLOSE] = "close",
};

static const char *const stat_names[STAT_N] = {
	"peers", "nodes", "handles", "messages", "payloads", "transactions",
};

const char *dev_path = "/dev/bus1";
const char *mod_name = "bus1";
static const char *map_path = "/etc/bus1-fault/sites.map";
static const char *patterns_path = "/etc/bus1-fault/kernel-log-patterns";
static const char *only;
static const char *extra_sites;	/* also sweep these traced sites filtered */
static int budget = 540;
static bool verbose;
static time_t t_start;

#define MAX_STEPS 400

/* bounded string copy; truncation is intended where it is used */
static void scopy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* ---- TAP ------------------------------------------------------------- */

static unsigned int tap_n, tap_failed;

static void __attribute__((format(printf, 2, 3)))
tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

static void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* multi-line text as TAP comments */
static void diag_text(const char *label, const char *text)
{
	const char *p = text, *nl;

	diag("%s", label);
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		printf("#   %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(1);
}

/* ---- small file helpers --------------------------------------------- */

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (!n)
			break;
		total += n;
	}
	close(fd);
	buf[total] = 0;
	return total;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

/* ---- the site map ---------------------------------------------------- */

#define MAXSECT	16
#define MAXSYM	512
#define MAXCALL	2048
#define MAXSITE	64
#define MAXPATH	16

struct section {
	char name[32];
	uint64_t size;
	uint64_t base;
	bool loaded;
};

struct sym {
	bool dup;		/* the name is not unique (e.g. KASAN ctors) */
	int sect;
	uint64_t off;
	uint64_t size;
	char name[96];
};

struct call {
	int sect;
	uint64_t ret;
	char kind[8];
	char callee[64];
	int site;
	char chain[512];
};

struct site {
	char name[32];
	char fn[64];
	char api[40];
	bool filtered;
	char paths[256];
	int npaths;
	struct {
		int cmd;
		char via[64];
		bool reached;
	} path[MAXPATH];
	bool never;		/* declared "none" */
	unsigned int hits[CMD_N];
};

static struct section sects[MAXSECT];
static int nsects;
static struct sym syms[MAXSYM];
static int nsyms;
static struct call calls[MAXCALL];
static int ncalls;
static struct site sites[MAXSITE];
static int nsites;

static int sect_find(const char *name)
{
	int i;

	for (i = 0; i < nsects; ++i)
		if (!strcmp(sects[i].name, name))
			return i;
	return -1;
}

static int cmd_find(const char *name)
{
	int i;

	for (i = 0; i < CMD_N; ++i)
		if (!strcmp(cmd_names[i], name))
			return i;
	return -1;
}

static void site_parse_paths(struct site *s)
{
	char buf[256], *tok, *save, *colon;
	int cmd;

	scopy(buf, sizeof(buf), s->paths);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "none")) {
			s->never = true;
			continue;
		}
		if (!strcmp(tok, "init") || !strcmp(tok, "debugfs"))
			continue;
		colon = strchr(tok, ':');
		if (colon)
			*colon++ = 0;
		cmd = cmd_find(tok);
		if (cmd < 0 || s->npaths >= MAXPATH)
			bail("site %s: bad path '%s'", s->name, tok);
		s->path[s->npaths].cmd = cmd;
		snprintf(s->path[s->npaths].via, sizeof(s->path[0].via), "%s",
			 colon ? colon : "");
		s->npaths++;
	}
}

static int site_find(const char *name)
{
	int i;

	for (i = 0; i < nsites; ++i)
		if (!strcmp(sites[i].name, name))
			return i;
	return -1;
}

static void map_load(const char *path)
{
	char line[2048], a[64], b[64], c[64], d[96], e[64], f[1024], g[16];
	FILE *fp = fopen(path, "re");
	unsigned long long x, y;
	int i, k;

	if (!fp)
		bail("cannot open the site map %s: %m", path);
	/* sites first: calls refer to them */
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "site %63s %63s %39s %15s %255s", a, b, c, g,
			   f) == 5) {
			struct site *s = &sites[nsites];

			if (nsites >= MAXSITE)
				bail("too many sites");
			scopy(s->name, sizeof(s->name), a);
			scopy(s->fn, sizeof(s->fn), b);
			scopy(s->api, sizeof(s->api), c);
			s->filtered = !strcmp(g, "filtered");
			scopy(s->paths, sizeof(s->paths), f);
			site_parse_paths(s);
			nsites++;
		}
	}
	rewind(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "section %31s %llx", a, &x) == 2) {
			if (nsects >= MAXSECT)
				bail("too many sections");
			scopy(sects[nsects].name, sizeof(sects[0].name), a);
			sects[nsects++].size = x;
		} else if (sscanf(line, "sym %63s %llx %llx %95s", a, &x, &y,
				  d) == 4) {
			if (nsyms >= MAXSYM)
				bail("too many symbols");
			syms[nsyms].sect = sect_find(a);
			syms[nsyms].off = x;
			syms[nsyms].size = y;
			scopy(syms[nsyms].name, sizeof(syms[0].name), d);
			nsyms++;
		} else if (sscanf(line, "call %63s %llx %7s %63s %63s %1023s",
				  a, &x, b, c, e, f) == 6) {
			struct call *cl = &calls[ncalls];

			if (ncalls >= MAXCALL)
				bail("too many calls");
			cl->sect = sect_find(a);
			cl->ret = x;
			scopy(cl->kind, sizeof(cl->kind), b);
			scopy(cl->callee, sizeof(cl->callee), c);
			cl->site = strcmp(e, "-") ? site_find(e) : -1;
			scopy(cl->chain, sizeof(cl->chain), f);
			ncalls++;
		}
	}
	fclose(fp);
	for (i = 0; i < nsyms; ++i)
		for (k = i + 1; k < nsyms; ++k)
			if (!strcmp(syms[i].name, syms[k].name))
				syms[i].dup = syms[k].dup = true;
	if (!nsects || !nsyms || !ncalls || !nsites)
		bail("site map %s is incomplete", path);
	for (i = 0; i < nsites; ++i) {
		for (k = 0; k < ncalls; ++k)
			if (calls[k].site == i)
				break;
		if (k == ncalls)
			bail("site %s has no call in the map", sites[i].name);
	}
}

static struct sym *sym_by_name(const char *name)
{
	int i;

	for (i = 0; i < nsyms; ++i)
		if (!syms[i].dup && !strcmp(syms[i].name, name))
			return &syms[i];
	return NULL;
}

static struct call *call_at(int sect, uint64_t ret)
{
	int i;

	for (i = 0; i < ncalls; ++i)
		if (calls[i].sect == sect && calls[i].ret == ret)
			return &calls[i];
	return NULL;
}

/* ---- the loaded module ----------------------------------------------- */

static uint64_t text_start, text_end;
/* the instrumentation's own allocations under the module's calls */
static uint64_t slab_rej_start, slab_rej_end, depot_start, depot_end;
static const char *slab_rej_name = "none";

/* start and end of kernel function @name from /proc/kallsyms */
static void ksym_range(const char *name, uint64_t *start, uint64_t *end)
{
	unsigned long long addr, best = ~0ULL, s = 0;
	char line[512], type, sym[256];
	FILE *fp = fopen("/proc/kallsyms", "re");

	*start = *end = 0;
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, name) && !strchr(line, '['))
			s = addr;
	if (!s) {
		fclose(fp);
		return;
	}
	rewind(fp);
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%llx", &addr) == 1 && addr > s && addr < best)
			best = addr;
	fclose(fp);
	*start = s;
	*end = best;
}

/*
 * Section bases from sysfs; every symbol of the map must sit at its offset
 * in /proc/kallsyms, so the map is the one of the loaded module.
 */
static void module_resolve(void)
{
	char path[512], buf[64], line[512], name[256], mod[128], type;
	unsigned long long addr;
	int i, checked = 0, wrong = 0;
	struct sym *s;
	FILE *fp;

	text_start = ~0ULL;
	text_end = 0;
	for (i = 0; i < nsects; ++i) {
		snprintf(path, sizeof(path), "/sys/module/%.64s/sections/%.31s",
			 mod_name, sects[i].name);
		if (read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		sects[i].base = strtoull(buf, NULL, 16);
		sects[i].loaded = strcmp(sects[i].name, ".init.text") != 0;
		if (!sects[i].loaded || !sects[i].size)
			continue;
		if (sects[i].base < text_start)
			text_start = sects[i].base;
		if (sects[i].base + sects[i].size > text_end)
			text_end = sects[i].base + sects[i].size;
	}
	if (text_start == ~0ULL)
		bail("module %s is not loaded (no /sys/module/%s/sections)",
		     mod_name, mod_name);

	fp = fopen("/proc/kallsyms", "re");
	if (!fp)
		bail("cannot read /proc/kallsyms: %m");
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name,
			   mod) != 4 || strcmp(mod, mod_name))
			continue;
		s = sym_by_name(name);
		if (!s || s->sect < 0 || !sects[s->sect].loaded)
			continue;
		checked++;
		if (sects[s->sect].base + s->off != addr) {
			if (wrong++ < 5)
				diag("%s at %#llx, the map says %#llx", name, addr,
				     (unsigned long long)(sects[s->sect].base +
							  s->off));
		}
	}
	fclose(fp);
	tap(checked > 10 && !wrong,
	    "the site map belongs to the loaded module (%d symbols checked, text %#llx-%#llx)",
	    checked, (unsigned long long)text_start,
	    (unsigned long long)text_end);
	if (wrong || checked <= 10)
		bail("site map and module do not match");
	if (text_end - text_start > (16 << 20))
		bail("implausible module text range");

	/*
	 * debugobjects refills its pool now and then from call_rcu() (xarray
	 * nodes, credentials), under whatever frees; kmemleak's metadata
	 * comes with every allocation. Only one range can be rejected: the
	 * former, which would make the count of a step vary between runs.
	 */
	ksym_range("fill_pool", &slab_rej_start, &slab_rej_end);
	if (slab_rej_start)
		slab_rej_name = "debugobjects' fill_pool";
	ksym_range("stack_depot_save_flags", &depot_start, &depot_end);
}

/* ---- fault injection control ---------------------------------------- */

static const char *const fault_attrs[] = { "failslab", "fail_page_alloc" };
static bool have_filter;

#define MAXSAVE 64
static struct {
	char path[128];
	char val[64];
} saved[MAXSAVE];
static int nsaved;

static void dbg_set(const char *attr, const char *file, const char *val)
{
	char path[128], old[64];
	int r, i;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", attr, file);
	for (i = 0; i < nsaved; ++i)
		if (!strcmp(saved[i].path, path))
			break;
	if (i == nsaved && nsaved < MAXSAVE &&
	    read_file(path, old, sizeof(old)) > 0) {
		old[strcspn(old, "\n")] = 0;
		scopy(saved[nsaved].path, sizeof(saved[0].path), path);
		scopy(saved[nsaved].val, sizeof(saved[0].val), old);
		nsaved++;
	}
	r = write_file(path, val);
	if (r)
		bail("cannot write '%s' to %s: %s", val, path, strerror(-r));
}

static void dbg_restore(void)
{
	int i;

	for (i = nsaved - 1; i >= 0; --i)
		write_file(saved[i].path, saved[i].val);
	nsaved = 0;
}

/*
 * The stack filter of one fault attribute: count only allocations with a
 * return address in [start, end) on the stack (require) and none in the
 * reject range.
 */
static struct {
	uint64_t start, end;
	bool set;
} cur_range[2][2];

static void attr_range(unsigned int attr, unsigned int reject,
		       uint64_t start, uint64_t end)
{
	const char *which = reject ? "reject" : "require";
	char s[32], e[32], f[64];

	if (!have_filter)
		return;
	if (cur_range[attr][reject].set && cur_range[attr][reject].start == start &&
	    cur_range[attr][reject].end == end)
		return;
	snprintf(s, sizeof(s), "%#llx", (unsigned long long)start);
	snprintf(e, sizeof(e), "%#llx", (unsigned long long)end);
	snprintf(f, sizeof(f), "%s-start", which);
	dbg_set(fault_attrs[attr], f, "0");	/* keep start <= end */
	snprintf(f, sizeof(f), "%s-end", which);
	dbg_set(fault_attrs[attr], f, e);
	snprintf(f, sizeof(f), "%s-start", which);
	dbg_set(fault_attrs[attr], f, s);
	cur_range[attr][reject].start = start;
	cur_range[attr][reject].end = end;
	cur_range[attr][reject].set = true;
}

/*
 * What counts, per phase:
 *
 *   the module (commands, open, close): slab allocations under the
 *     module's text. Page allocations do not count: under the module's
 *     calls they are the slab's own new pages (failing one is failing the
 *     slab allocation at the same call, and whether one is needed depends
 *     on the slab's state, which would make the count of a step vary
 *     between runs), kmalloc's and vmalloc's pages behind kvmalloc (the
 *     filtered sweeps below count those), and now and then the
 *     instrumentation's own: stack depot pools and the slab pages behind
 *     debugobjects' pool refills, also under the module's frees in close.
 *     The module calls no page allocator directly: gen-sites.sh would have
 *     listed any call of one (alloc_pages, __get_free_pages, vmalloc, ...).
 *   one call site (filtered sites): slab and page allocations under that
 *     exact return address, so vmalloc's pages and page tables count too.
 *
 * Always rejected: debugobjects' pool refills (slab) and the stack depot's
 * pools (pages), the instrumentation's own bookkeeping, which happens now
 * and then under whatever frees or allocates, so that counting it would make
 * the count of a step vary between runs; user space cannot observe its
 * failure. kmemleak's metadata (one slab allocation behind every one of
 * the module's) does count: it comes with every allocation, so it shifts
 * nothing, and its failure falls back to kmemleak's own pool.
 */
enum mode { MODE_MODULE, MODE_SITE };
static enum mode base_mode = MODE_MODULE;
static uint64_t base_addr;

static void fault_mode(enum mode m, uint64_t a)
{
	attr_range(0, 1, slab_rej_start, slab_rej_end);
	attr_range(1, 1, depot_start, depot_end);
	if (m == MODE_MODULE) {
		attr_range(0, 0, text_start, text_end);
		attr_range(1, 0, 0, 0);
	} else {
		attr_range(0, 0, a, a + 1);
		attr_range(1, 0, a, a + 1);
	}
}

static void fault_base(enum mode m, uint64_t a)
{
	base_mode = m;
	base_addr = a;
	fault_mode(m, a);
}

static void fault_setup(void)
{
	char path[128];
	unsigned int i;

	snprintf(path, sizeof(path), "/sys/kernel/debug/failslab/require-start");
	have_filter = access(path, F_OK) == 0;
	for (i = 0; i < 2; ++i) {
		const char *a = fault_attrs[i];

		snprintf(path, sizeof(path), "/sys/kernel/debug/%s", a);
		if (access(path, F_OK))
			bail("%s is missing: the kernel lacks FAULT_INJECTION_DEBUG_FS or %s",
			     path, i ? "FAIL_PAGE_ALLOC" : "FAILSLAB");
		/*
		 * fail-nth is per task and takes precedence over the rest.
		 * The first-N modes use probability 100 with a budget of
		 * times = N for this task only (make-it-fail); between calls
		 * times is 0, which stops every such failure.
		 */
		dbg_set(a, "times", "0");
		dbg_set(a, "probability", "100");
		dbg_set(a, "interval", "1");
		dbg_set(a, "space", "0");
		dbg_set(a, "task-filter", "Y");
		/* a stack trace for every injected failure */
		dbg_set(a, "verbose", "2");
		dbg_set(a, "verbose_ratelimit_interval_ms", "0");
		/* by default sleeping allocations are never failed */
		dbg_set(a, "ignore-gfp-wait", "N");
		if (have_filter)
			dbg_set(a, "stacktrace-depth", "32");
	}
	dbg_set("failslab", "cache-filter", "N");
	/* vmalloc'ed pages carry __GFP_HIGHMEM and are order 0 */
	dbg_set("fail_page_alloc", "ignore-gfp-highmem", "N");
	dbg_set("fail_page_alloc", "min-order", "0");
	if (write_file("/proc/thread-self/make-it-fail", "1"))
		bail("cannot write /proc/thread-self/make-it-fail");
	fault_base(MODE_MODULE, 0);
	diag("fault injection: failslab and fail_page_alloc count sleeping, highmem and order-0 allocations, print a trace each; %s",
	     have_filter ? "stack filter on the module's text" :
	     "no stack filter (FAULT_INJECTION_STACKTRACE_FILTER=n): every allocation of the task counts");
	if (have_filter)
		diag("module text %#llx-%#llx; rejected: %s %#llx-%#llx (slab), stack depot %#llx-%#llx (pages)",
		     (unsigned long long)text_start,
		     (unsigned long long)text_end, slab_rej_name,
		     (unsigned long long)slab_rej_start,
		     (unsigned long long)slab_rej_end,
		     (unsigned long long)depot_start,
		     (unsigned long long)depot_end);
}

/*
 * How the call under test gets its failures:
 *   INJ_NTH         fail-nth = N: the Nth counted allocation fails
 *   INJ_SLAB_FIRST  failslab times = N: the first N counted slab
 *                   allocations fail (probability 100, this task only)
 *   INJ_PAGE_FIRST  the same for fail_page_alloc
 * The last two reach what a single failure cannot: the allocators retry
 * (xarray: a non-sleeping attempt, then a sleeping one) or fall back
 * (kvmalloc: kmalloc, then vmalloc), so only several failures make them
 * return NULL.
 */
enum inj { INJ_NTH, INJ_SLAB_FIRST, INJ_PAGE_FIRST, INJ_N };
static const char *const inj_names[INJ_N] = {
	"fail-nth", "first-N slab", "first-N page",
};
static enum inj inj_kind = INJ_NTH;

static void first_n_arm(unsigned int attr, unsigned int n)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", n);
	dbg_set(fault_attrs[attr], "times", num);
}

/* disarm; returns how many of the N failures were not used */
static unsigned int first_n_disarm(unsigned int attr)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/times",
		 fault_attrs[attr]);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		bail("cannot read %s", path);
	dbg_set(fault_attrs[attr], "times", "0");
	return (unsigned int)strtoul(buf, NULL, 10);
}

static int fail_nth_fd = -1;

int fail_nth_open(void)
{
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	return fail_nth_fd;
}

void inject_arm(unsigned int nth)
{
	char num[32];

	snprintf(num, sizeof(num), "%u", nth);
	if (pwrite(fail_nth_fd, num, strlen(num), 0) < 0)
		bail("cannot write fail-nth: %m");
}

/* disarm; true if the armed failure was injected */
bool inject_disarm(void)
{
	char num[32];
	ssize_t n;

	n = pread(fail_nth_fd, num, sizeof(num) - 1, 0);
	if (n <= 0)
		bail("cannot read fail-nth: %m");
	num[n] = 0;
	if (pwrite(fail_nth_fd, "0", 1, 0) != 1)
		bail("cannot reset fail-nth: %m");
	return strtoul(num, NULL, 10) == 0;
}

/* ---- the kernel log -------------------------------------------------- */

#define MAXPAT 64
static regex_t pats[MAXPAT];
static int npats;
static int kmsg_fd = -1;
static unsigned long kmsg_records, kmsg_lost, kmsg_bad;

#define MAXFRAMES 96
struct trace {
	char kind[32];
	int nframes;
	char frames[MAXFRAMES][160];
};

static struct trace cur_trace;
static bool in_trace;

/* injections collected since the last kmsg_collect() */
#define MAXINJ 16
static struct trace injs[MAXINJ];
static int ninjs, ninjs_dropped;

static void patterns_load(const char *path)
{
	char line[512];
	FILE *fp = fopen(path, "re");

	if (!fp)
		bail("cannot open the kernel log patterns %s: %m", path);
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		if (npats >= MAXPAT || regcomp(&pats[npats], line,
					       REG_EXTENDED | REG_NOSUB))
			bail("bad pattern '%s'", line);
		npats++;
	}
	fclose(fp);
	if (!npats)
		bail("no patterns in %s", path);
}

static void record_plain(const char *text)
{
	int i;

	for (i = 0; i < npats; ++i)
		if (!regexec(&pats[i], text, 0, NULL, 0)) {
			if (kmsg_bad++ < 40)
				printf("# kernel: %s\n", text);
			return;
		}
	if (verbose && getenv("BUS1_FAULT_KMSG"))
		printf("# kernel (ok): %s\n", text);
}

static void trace_end(void)
{
	in_trace = false;
	if (ninjs < MAXINJ)
		injs[ninjs++] = cur_trace;
	else
		ninjs_dropped++;
}

static bool trace_header(const char *t)
{
	return !strncmp(t, "CPU: ", 5) || !strncmp(t, "Tainted: ", 9) ||
	       !strncmp(t, "Hardware name: ", 15) ||
	       !strcmp(t, "Call Trace:") || !strcmp(t, " <TASK>");
}

/* the user-space registers dump_stack() prints for a task in a syscall */
static bool trace_regs(const char *t)
{
	static const char *const prefix[] = {
		"RIP: ", "Code: ", "RSP: ", "RAX: ", "RDX: ", "RBP: ", "R10: ",
		"R13: ",
	};
	unsigned int i;

	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); ++i)
		if (!strncmp(t, prefix[i], strlen(prefix[i])))
			return true;
	return false;
}

static bool trace_frame(const char *t)
{
	/* " func+0x1/0x2" with an optional " [module]", or " ? ..." */
	return t[0] == ' ' && strstr(t, "+0x") && strchr(t, '/');
}

static void record(const char *text)
{
	const char *p;

	kmsg_records++;
	if (!strncmp(text, "FAULT_INJECTION: forcing a failure.", 35)) {
		if (in_trace)
			trace_end();
		memset(&cur_trace, 0, sizeof(cur_trace));
		p = strstr(text, "name ");
		if (p)
			sscanf(p + 5, "%31[^,]", cur_trace.kind);
		in_trace = true;
		return;
	}
	if (in_trace) {
		if (!strcmp(text, " </TASK>")) {
			trace_end();
			return;
		}
		if (trace_header(text) || trace_regs(text))
			return;
		if (trace_frame(text)) {
			if (cur_trace.nframes < MAXFRAMES)
				snprintf(cur_trace.frames[cur_trace.nframes++],
					 sizeof(cur_trace.frames[0]), "%s",
					 text + 1);
			return;
		}
	}
	record_plain(text);
}

/* read every record the kernel has; collects injection traces */
static void kmsg_poll(void)
{
	char buf[8192], text[8192], *p, *q;
	ssize_t n;
	size_t k;

	for (;;) {
		n = read(kmsg_fd, buf, sizeof(buf) - 1);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			if (errno == EPIPE) {
				kmsg_lost++;
				continue;
			}
			if (errno == EINTR)
				continue;
			bail("reading /dev/kmsg: %m");
		}
		buf[n] = 0;
		p = strchr(buf, ';');
		if (!p)
			continue;
		p++;
		q = strchr(p, '\n');
		if (q)
			*q = 0;
		/* unescape \xNN; an embedded newline ends the first line */
		for (k = 0; *p && k < sizeof(text) - 1; ++p) {
			if (p[0] == '\\' && p[1] == 'x' && isxdigit(p[2]) &&
			    isxdigit(p[3])) {
				char hex[3] = { p[2], p[3], 0 };

				text[k++] = (char)strtoul(hex, NULL, 16);
				p += 3;
			} else {
				text[k++] = *p;
			}
		}
		text[k] = 0;
		/* the report's second line ("name failslab, ...") is kept
		 * with the first; other multi-line records are split */
		if (!strncmp(text, "FAULT_INJECTION", 15)) {
			record(text);
			continue;
		}
		for (p = text; p; p = q) {
			q = strchr(p, '\n');
			if (q)
				*q++ = 0;
			if (*p)
				record(p);
		}
	}
}

static void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		bail("cannot open /dev/kmsg: %m");
	/* from the first record still in the buffer: check the boot too;
	 * reports of an earlier sweep in this boot are no injections of ours */
	kmsg_poll();
	if (in_trace)
		trace_end();
	ninjs = 0;
}

/* ---- attribution ----------------------------------------------------- */

struct attrib {
	char point[128];	/* innermost module frame, "fn+0xoff" */
	int site;		/* -1: not an inventory site */
	bool known;		/* the call site is in the map */
	char callee[64];
	char chain[1024];	/* source functions, innermost first */
	bool in_module;
};

static void chain_append(char *chain, size_t size, const char *src)
{
	char buf[512], *tok, *save, *at;

	scopy(buf, sizeof(buf), src);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		at = strchr(tok, '@');
		if (at)
			*at = 0;
		if (strlen(chain) + strlen(tok) + 2 < size) {
			if (chain[0])
				strcat(chain, ",");
			strcat(chain, tok);
		}
	}
}

static void attribute(const struct trace *t, struct attrib *a)
{
	char tag[160], name[128];
	unsigned long long off;
	bool first = true;
	struct call *cl;
	struct sym *s;
	int i;

	memset(a, 0, sizeof(*a));
	a->site = -1;
	snprintf(tag, sizeof(tag), " [%s]", mod_name);
	for (i = 0; i < t->nframes; ++i) {
		const char *f = t->frames[i];

		if (!strncmp(f, "? ", 2) || !strstr(f, tag))
			continue;
		if (sscanf(f, "%127[^+]+%llx", name, &off) != 2)
			continue;
		s = sym_by_name(name);
		cl = s && s->sect >= 0 ? call_at(s->sect, s->off + off) : NULL;
		if (first) {
			first = false;
			a->in_module = true;
			snprintf(a->point, sizeof(a->point), "%.96s+%#llx", name, off);
			if (cl) {
				a->known = true;
				a->site = cl->site;
				snprintf(a->callee, sizeof(a->callee), "%s",
					 cl->callee);
			}
		}
		if (cl)
			chain_append(a->chain, sizeof(a->chain), cl->chain);
		else
			chain_append(a->chain, sizeof(a->chain), name);
	}
	if (!a->in_module)
		snprintf(a->point, sizeof(a->point), "outside %s: %s", mod_name,
			 t->nframes > 2 ? t->frames[2] : "?");
}

/* ---- statistics ------------------------------------------------------ */

#define MAXPOINT 256
static struct point {
	int cmd;
	char where[128];
	int site;
	bool traced;		/* reached with a stack trace */
	bool filtered;		/* reached by a filtered sweep */
	unsigned int hits;
	char chain[160];
} points[MAXPOINT];
static int npoints;

static unsigned int cmd_steps[CMD_N], cmd_injected[CMD_N], cmd_enomem[CMD_N],
	cmd_absorbed[CMD_N], cmd_silent[CMD_N];
static unsigned int close_checked, close_reached;
static unsigned long reserve_only_diffs;

static void point_add(int cmd, const char *where, int site, bool traced,
		      const char *chain)
{
	struct point *pt;
	int i;

	for (i = 0; i < npoints; ++i)
		if (points[i].cmd == cmd && !strcmp(points[i].where, where))
			break;
	if (i == MAXPOINT)
		return;
	pt = &points[i];
	if (i == npoints) {
		npoints++;
		pt->cmd = cmd;
		scopy(pt->where, sizeof(pt->where), where);
		pt->site = site;
	}
	pt->hits++;
	pt->traced |= traced;
	pt->filtered |= !traced;
	/* a trace knows the callers too */
	if (strlen(chain) > strlen(pt->chain))
		scopy(pt->chain, sizeof(pt->chain), chain);
}

/*
 * Mark the site's path entries for @cmd reached by an injection. False if
 * the site is not declared on this path (given the call @chain).
 */
static bool site_reached(int si, int cmd, const char *chain)
{
	struct site *s = &sites[si];
	char buf[1024], *tok, *save;
	int i, nearest = -1;
	bool declared = false;

	s->hits[cmd]++;
	/* the nearest declared FN on the chain decides */
	scopy(buf, sizeof(buf), chain ? chain : "");
	for (tok = strtok_r(buf, ",", &save); tok && nearest < 0;
	     tok = strtok_r(NULL, ",", &save))
		for (i = 0; i < s->npaths; ++i)
			if (s->path[i].via[0] && !strcmp(s->path[i].via, tok)) {
				nearest = i;
				break;
			}
	for (i = 0; i < s->npaths; ++i) {
		if (s->path[i].cmd != cmd)
			continue;
		if (!s->path[i].via[0] ||
		    (nearest >= 0 && !strcmp(s->path[i].via,
					     s->path[nearest].via))) {
			s->path[i].reached = true;
			declared = true;
		}
	}
	return declared;
}

/* ---- state snapshots ------------------------------------------------- */

void snapshot_take(struct ctx *c, struct snapshot *snap)
{
	char path[128], buf[1024], name[64], *line, *save;
	long val;
	int i;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/objects", mod_name);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		fail(c, "cannot read %s", path);
	for (i = 0; i < STAT_N; ++i)
		snap->stat[i] = -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %ld", name, &val) != 2)
			continue;
		for (i = 0; i < STAT_N; ++i)
			if (!strcmp(name, stat_names[i]))
				snap->stat[i] = val;
	}
	for (i = 0; i < STAT_N; ++i)
		if (snap->stat[i] < 0)
			fail(c, "%s has no counter '%s'", path, stat_names[i]);
	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/acct", mod_name);
	if (read_file(path, snap->acct, sizeof(snap->acct)) < 0)
		fail(c, "cannot read %s", path);
}

bool acct_has_user(struct ctx *c, uid_t uid)
{
	struct snapshot s;
	char pat[32];

	snapshot_take(c, &s);
	snprintf(pat, sizeof(pat), "\nuser %u ", uid);
	return !strncmp(s.acct, pat + 1, strlen(pat + 1)) ||
	       strstr(s.acct, pat) != NULL;
}

/*
 * The accounting dump with what a charge reverted by a failed call may
 * legitimately leave changed (spec 5.0 rule 1c) taken out: a quota keeps
 * a reserve of what its traces use, so its claimed and available amounts
 * and the user's available amount may move together. What is in use (a
 * quota's claimed minus available, every trace's claim) and which users,
 * quotas and traces exist must be identical.
 */
static void acct_normalize(const char *in, char *out, size_t size)
{
	unsigned long long c1, c2, a1, a2;
	char buf[16384], *line, *save;
	unsigned int u;
	size_t n = 0;

	scopy(buf, sizeof(buf), in);
	out[0] = 0;
	for (line = strtok_r(buf, "\n", &save); line && n < size;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "user %u", &u) == 1)
			n += snprintf(out + n, size - n, "user %u\n", u);
		else if (sscanf(line, " quota %u claimed %llu %llu available %llu %llu",
				&u, &c1, &c2, &a1, &a2) == 5)
			n += snprintf(out + n, size - n, " quota %u used %llu %llu\n",
				      u, c1 - a1, c2 - a2);
		else
			n += snprintf(out + n, size - n, "%s\n", line);
	}
}

static void snapshot_compare(struct ctx *c, const struct snapshot *a,
			     const struct snapshot *b, const long *delta)
{
	static char na[16384], nb[16384];
	int i;

	for (i = 0; i < STAT_N; ++i)
		check(c, b->stat[i] == a->stat[i] + delta[i],
		      "object counter '%s' is %ld after the failed call, %ld expected (%ld before)",
		      stat_names[i], b->stat[i], a->stat[i] + delta[i],
		      a->stat[i]);
	if (c->fail_acct_changes)
		return;
	if (!strcmp(a->acct, b->acct))
		return;
	acct_normalize(a->acct, na, sizeof(na));
	acct_normalize(b->acct, nb, sizeof(nb));
	if (strcmp(na, nb)) {
		diag_text("accounting before the call:", a->acct);
		diag_text("after:", b->acct);
		fail(c, "the accounting state changed (see the dumps above)");
	}
	if (!reserve_only_diffs++) {
		diag("example of a failed call that left only a quota's reserve changed (%s):",
		     c->s ? c->s->name : "?");
		diag_text("before:", a->acct);
		diag_text("after:", b->acct);
	}
}

/* ---- the engine ------------------------------------------------------ */

/* the first failure of a step is the one reported; later ones are added */
void fail(struct ctx *c, const char *fmt, ...)
{
	size_t n = strlen(c->failure);
	va_list ap;

	if (n && n + 8 < sizeof(c->failure)) {
		strcat(c->failure, "; then: ");
		n += 8;
	}
	va_start(ap, fmt);
	vsnprintf(c->failure + n, sizeof(c->failure) - n, fmt, ap);
	va_end(ap);
	longjmp(c->abort, 1);
}

/*
 * Close @fd with fail-nth = 1: close must not reach any allocation. The
 * attributes' times count down on every failure, also fail-nth's: a known
 * start value tells which kind of allocation it was (probability 0 keeps
 * it from failing anything else meanwhile).
 */
#define CLOSE_TIMES 1000000

static unsigned int times_read(unsigned int attr)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/times",
		 fault_attrs[attr]);
	return read_file(path, buf, sizeof(buf)) > 0 ?
	       (unsigned int)strtoul(buf, NULL, 10) : 0;
}

static void close_one(struct ctx *c, int fd)
{
	char num[16];
	unsigned int i, left[2];
	bool reached;

	fault_mode(MODE_MODULE, 0);
	snprintf(num, sizeof(num), "%u", CLOSE_TIMES);
	for (i = 0; i < 2; ++i) {
		dbg_set(fault_attrs[i], "probability", "0");
		dbg_set(fault_attrs[i], "times", num);
	}
	inject_arm(1);
	close(fd);
	reached = inject_disarm();
	for (i = 0; i < 2; ++i) {
		left[i] = times_read(i);
		dbg_set(fault_attrs[i], "times", "0");
		dbg_set(fault_attrs[i], "probability", "100");
	}
	fault_mode(base_mode, base_addr);
	close_checked++;
	if (reached) {
		close_reached++;
		if (!c->failure[0])
			snprintf(c->failure, sizeof(c->failure),
				 "close of a peer reached an allocation (%s)",
				 left[0] != CLOSE_TIMES ? "slab" :
				 left[1] != CLOSE_TIMES ? "page" : "?");
	}
}

struct step {
	bool reached;
	unsigned int ninjected;
	int ret;
	int ninj;
	struct attrib at[MAXINJ];
};

/* the call site a filtered sweep is restricted to, as a point */
static char filtered_point[128], filtered_chain[160];

/* "fn+0xoff" of an offset into a section */
static void sym_at(int sect, uint64_t off, char *out, size_t size)
{
	const struct sym *best = NULL;
	int i;

	for (i = 0; i < nsyms; ++i)
		if (syms[i].sect == sect && syms[i].off <= off &&
		    off < syms[i].off + syms[i].size)
			best = &syms[i];
	if (best)
		snprintf(out, size, "%.96s+%#llx", best->name,
			 (unsigned long long)(off - best->off));
	else
		snprintf(out, size, "%.31s+%#llx", sects[sect].name,
			 (unsigned long long)off);
}

/* unexpected injections outside an armed call, unknown call sites */
static unsigned int stray_injections;

static void collect(struct ctx *c, struct step *st, int cmd, bool armed,
		    int filtered_site)
{
	struct attrib a;
	int i;

	kmsg_poll();
	for (i = 0; i < ninjs; ++i) {
		attribute(&injs[i], &a);
		if (!armed) {
			stray_injections++;
			if (!c->failure[0])
				snprintf(c->failure, sizeof(c->failure),
					 "an injected failure outside the call under test at %s",
					 a.point);
			continue;
		}
		if (st->ninj < MAXINJ)
			st->at[st->ninj++] = a;
		if (!a.in_module && !have_filter) {
			/* counted without a stack filter: must be handled too */
			point_add(cmd, "(outside the module)", -1, true, "");
			continue;
		}
		if (!a.in_module || !a.known || a.site < 0) {
			if (!c->failure[0])
				snprintf(c->failure, sizeof(c->failure),
					 "injection at %s (call of %s, chain %.600s) is not an inventory site",
					 a.point, a.callee[0] ? a.callee : "?",
					 a.chain);
			point_add(cmd, a.point, -1, true, a.chain);
			continue;
		}
		if (filtered_site >= 0 && a.site != filtered_site &&
		    !c->failure[0])
			snprintf(c->failure, sizeof(c->failure),
				 "filtered on site %s, the injection hit %s",
				 sites[filtered_site].name, sites[a.site].name);
		if (sites[a.site].never && !c->failure[0])
			snprintf(c->failure, sizeof(c->failure),
				 "site %s is declared never to allocate, but %s reached it",
				 sites[a.site].name, a.point);
		point_add(cmd, a.point, a.site, true, a.chain);
		if (!site_reached(a.site, cmd, a.chain) && !c->failure[0])
			snprintf(c->failure, sizeof(c->failure),
				 "site %s reached in %s through %.600s, a path alloc-sites.txt does not declare for it",
				 sites[a.site].name, cmd_names[cmd], a.chain);
	}
	ninjs = 0;
}

static void ctx_reset(struct ctx *c, const struct scen *s)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->new_fd = -1;
}

static void teardown(struct ctx *c)
{
	struct snapshot after;
	int i;

	ctx_teardown_peers(c, close_one);
	/* the peers are gone: nothing may be left */
	if (setjmp(c->abort))
		return;
	snapshot_take(c, &after);
	for (i = 0; i < STAT_N; ++i)
		check(c, after.stat[i] == 0,
		      "object counter '%s' is %ld after closing every peer",
		      stat_names[i], after.stat[i]);
	check(c, !after.acct[0], "accounting not empty after closing every peer:\n%s",
	      after.acct);
}

/*
 * One step: set up, run the call with the @nth allocation failing, check.
 * Returns false once the call no longer reaches the injected failure.
 */
static bool run_step(const struct scen *s, unsigned int nth, int filtered_site,
		     struct step *st, char *failure, size_t fsize)
{
	static struct ctx c;
	struct snapshot after;
	int r, err, i;

	memset(st, 0, sizeof(*st));
	ctx_reset(&c, s);
	collect(&c, st, s->cmd, false, -1);
	if (setjmp(c.abort))
		goto out;

	s->setup(&c);
	snapshot_take(&c, &c.before);
	collect(&c, st, s->cmd, false, -1);
	if (c.failure[0])
		goto out;

	c.nth = nth;
	if (s->cmd == CMD_CLOSE)
		fault_mode(MODE_MODULE, 0);
	if (s->self_inject) {
		r = s->call(&c);
		c.ninjected = c.reached;
	} else if (inj_kind == INJ_NTH) {
		inject_arm(nth);
		r = s->call(&c);
		c.reached = inject_disarm();
		c.ninjected = c.reached;
	} else {
		unsigned int attr = inj_kind == INJ_PAGE_FIRST, left;

		first_n_arm(attr, nth);
		r = s->call(&c);
		left = first_n_disarm(attr);
		c.reached = !left;
		c.ninjected = nth - left;
	}
	err = r;
	if (s->cmd == CMD_CLOSE)
		fault_mode(base_mode, base_addr);
	collect(&c, st, s->cmd, true, filtered_site);
	st->reached = c.reached;
	st->ninjected = c.ninjected;
	st->ret = r;
	if (c.failure[0])
		goto out;

	if (s->cmd == CMD_CLOSE)
		check(&c, !c.ninjected, "close reached an allocation (fail-nth %u)", nth);
	if (!c.ninjected)
		check(&c, !r, "the call failed with %s and no injected failure",
		      strerror(-r));
	/* only an allocator with a fallback (a filtered site) may absorb */
	for (i = 0; !r && i < st->ninj; ++i)
		check(&c, !st->at[i].in_module || st->at[i].site < 0 ||
		      sites[st->at[i].site].filtered,
		      "the call succeeded although the allocation at %s (site %s, which has no fallback) failed",
		      st->at[i].point, sites[st->at[i].site].name);
	if (!r) {
		s->ok(&c);
		verify_state(&c);
	} else {
		check(&c, err == -ENOMEM,
		      "the call failed with %s, not ENOMEM, at injected failure %u",
		      strerror(-err), nth);
		snapshot_take(&c, &after);
		snapshot_compare(&c, &c.before, &after, c.fail_delta);
		if (s->fail)
			s->fail(&c);
		verify_state(&c);
	}
out:
	teardown(&c);
	collect(&c, st, s->cmd, false, -1);
	snprintf(failure, fsize, "%s", c.failure);
	return st->reached;
}

static bool over_budget(void)
{
	return time(NULL) - t_start > budget;
}

struct sweep_result {
	unsigned int steps, injected, enomem, absorbed, traced, silent;
	int npts;
	char pts[32][128];
	char failure[1100];
};

static void sweep(const struct scen *s, int filtered_site,
		  struct sweep_result *res)
{
	struct step st;
	unsigned int nth;
	bool more;
	int i, k;

	memset(res, 0, sizeof(*res));
	for (nth = 1; nth <= MAX_STEPS; ++nth) {
		if (over_budget()) {
			snprintf(res->failure, sizeof(res->failure),
				 "time budget of %d s exhausted at step %u",
				 budget, nth);
			return;
		}
		more = run_step(s, nth, filtered_site, &st, res->failure,
				sizeof(res->failure));
		res->steps++;
		cmd_steps[s->cmd]++;
		if (st.ninjected) {
			res->injected++;
			cmd_injected[s->cmd]++;
			if (st.ret) {
				res->enomem++;
				cmd_enomem[s->cmd]++;
			} else {
				res->absorbed++;
				cmd_absorbed[s->cmd]++;
			}
			if (st.ninj) {
				res->traced++;
			} else {
				res->silent++;
				cmd_silent[s->cmd]++;
				if (filtered_site >= 0) {
					point_add(s->cmd, filtered_point,
						  filtered_site, false,
						  filtered_chain);
					site_reached(filtered_site, s->cmd, NULL);
				}
			}
		}
		for (i = 0; i < st.ninj; ++i) {
			for (k = 0; k < res->npts; ++k)
				if (!strcmp(res->pts[k], st.at[i].point))
					break;
			if (k == res->npts && res->npts < 32)
				snprintf(res->pts[res->npts++], sizeof(res->pts[0]),
					 "%s", st.at[i].point);
		}
		if (verbose)
			diag("%s %s %u: %s, %s%s%s", s->name, inj_names[inj_kind], nth,
			     st.reached ? "injected" : st.ninjected ?
			     "injected, budget left" : "not reached",
			     st.ret ? strerror(-st.ret) : "success",
			     st.ninj ? " at " : "",
			     st.ninj ? st.at[0].point : "");
		if (res->failure[0]) {
			char tmp[1100];

			snprintf(tmp, sizeof(tmp), "step %u: %.1000s", nth,
				 res->failure);
			scopy(res->failure, sizeof(res->failure), tmp);
			return;
		}
		if (!more)
			return;
	}
	snprintf(res->failure, sizeof(res->failure),
		 "still reaching injected failures after %u steps", MAX_STEPS);
}

/*
 * The steps close every peer only after verify_state() has drained and
 * released what the model knows of. Close them also in the states the
 * scenario leaves behind: right after the set-up, after the call failed at
 * its first allocation (IDs reserved, stale entries discarded, ...) and
 * after it succeeded (messages, payloads and handles in flight). No close
 * may reach an allocation, and nothing may be left. Returns the number of
 * peers closed; @failure is set on a finding; @phases gets bit 0 for the
 * set-up, bit 1 if the call failed at its first allocation (a fallback may
 * absorb it, or it may not allocate), bit 2 if the call succeeded.
 */
static unsigned int close_populated(const struct scen *s, char *failure,
				    size_t fsize, unsigned int *phases)
{
	static const char *const when[] = {
		"after the set-up", "after the call failed at its first allocation",
		"after the call succeeded",
	};
	static struct ctx c;
	unsigned int closes = close_checked;
	struct step st;
	int phase, r;

	failure[0] = 0;
	*phases = 0;
	for (phase = 0; phase < 3 && !failure[0]; ++phase) {
		/* a self-injecting call runs in a child: set-up state only */
		if (phase && s->self_inject)
			break;
		memset(&st, 0, sizeof(st));
		ctx_reset(&c, s);
		collect(&c, &st, s->cmd, false, -1);
		if (setjmp(c.abort))
			goto out;
		s->setup(&c);
		collect(&c, &st, s->cmd, false, -1);
		if (c.failure[0] || !phase)
			goto out;
		if (s->cmd == CMD_CLOSE)
			fault_mode(MODE_MODULE, 0);
		if (phase == 1)
			inject_arm(1);
		r = s->call(&c);
		if (phase == 1)
			inject_disarm();
		if (s->cmd == CMD_CLOSE)
			fault_mode(base_mode, base_addr);
		collect(&c, &st, s->cmd, phase == 1, -1);
		/* without injection the call must succeed, as in the sweep */
		if (phase == 2 && r && !c.failure[0])
			snprintf(c.failure, sizeof(c.failure),
				 "the call failed with %s without an injected failure",
				 strerror(-r));
		/* a failure absorbed by a fallback leaves a successful call */
		if (phase == 1 && r)
			*phases |= 2;
		if (phase == 2 && !r)
			*phases |= 4;
out:
		if (!phase)
			*phases |= 1;
		teardown(&c);
		collect(&c, &st, s->cmd, false, -1);
		if (c.failure[0])
			snprintf(failure, fsize, "%s: %.1000s", when[phase],
				 c.failure);
	}
	return close_checked - closes;
}

static void run_scenarios(void)
{
	struct sweep_result res;
	char failure[1100];
	unsigned int i, n, phases;
	int k;

	for (i = 0; i < n_scenarios; ++i) {
		const struct scen *s = &scenarios[i];

		if (only && strcmp(only, s->name))
			continue;
		sweep(s, -1, &res);
		tap(!res.failure[0],
		    "%s %s: %u steps, %u injected (%u ENOMEM, %u absorbed by a fallback), %u traced, %u silent, %d points%s%s",
		    cmd_names[s->cmd], s->name, res.steps, res.injected,
		    res.enomem, res.absorbed, res.traced, res.silent, res.npts,
		    res.failure[0] ? ": " : "", res.failure);
		diag("  %s", s->what);
		for (k = 0; k < res.npts; ++k)
			diag("  point %s", res.pts[k]);
		n = close_populated(s, failure, sizeof(failure), &phases);
		tap(!failure[0] && n,
		    "%s %s: %u closes of its peers undrained (after the set-up%s%s), no allocation, nothing left%s%s",
		    cmd_names[s->cmd], s->name, n,
		    phases & 2 ? ", after the call failed" : "",
		    phases & 4 ? ", after it succeeded" : "",
		    failure[0] ? ": " : "", failure);
	}
}

/*
 * Filtered sites: __GFP_NOWARN allocations print no trace, and allocators
 * that retry or fall back absorb a single failure. Narrow the stack filter
 * to the return address of each of the site's calls and sweep every
 * scenario of the site's commands again, with fail-nth and with the first
 * N slab or page allocations failing: every failure injected now is one of
 * that call (or of what it allocates internally).
 */
static void run_filtered_sites(void)
{
	unsigned int steps[INJ_N], injected[INJ_N], i;
	char failure[1100], hit[512];
	struct sweep_result res;
	int si, k, p, kind;

	for (si = 0; si < nsites; ++si) {
		struct site *s = &sites[si];

		if (!s->npaths || (!s->filtered && !(extra_sites &&
						      strstr(extra_sites, s->name))))
			continue;
		memset(steps, 0, sizeof(steps));
		memset(injected, 0, sizeof(injected));
		failure[0] = hit[0] = 0;
		if (!have_filter) {
			tap(false, "filtered site %s: cannot be swept without FAULT_INJECTION_STACKTRACE_FILTER",
			    s->name);
			continue;
		}
		for (k = 0; k < ncalls && !failure[0]; ++k) {
			struct call *cl = &calls[k];

			if (cl->site != si || !sects[cl->sect].loaded)
				continue;
			fault_base(MODE_SITE, sects[cl->sect].base + cl->ret);
			sym_at(cl->sect, cl->ret, filtered_point,
			       sizeof(filtered_point));
			filtered_chain[0] = 0;
			chain_append(filtered_chain, sizeof(filtered_chain),
				     cl->chain);
			for (kind = 0; kind < INJ_N && !failure[0]; ++kind) {
				inj_kind = kind;
				for (i = 0; i < n_scenarios && !failure[0]; ++i) {
					const struct scen *sc = &scenarios[i];
					bool on_path = false;

					if (only && strcmp(only, sc->name))
						continue;
					for (p = 0; p < s->npaths; ++p)
						if (s->path[p].cmd == (int)sc->cmd)
							on_path = true;
					if (!on_path || sc->self_inject)
						continue;
					sweep(sc, si, &res);
					steps[kind] += res.steps;
					injected[kind] += res.injected;
					if (res.injected && !strstr(hit, sc->name) &&
					    strlen(hit) + strlen(sc->name) + 2 < sizeof(hit)) {
						strcat(hit, " ");
						strcat(hit, sc->name);
					}
					if (res.failure[0])
						snprintf(failure, sizeof(failure),
							 "%.60s (%s): %.1000s", sc->name,
							 inj_names[kind], res.failure);
				}
			}
		}
		inj_kind = INJ_NTH;
		fault_base(MODE_MODULE, 0);
		tap(!failure[0],
		    "filtered site %s (%s in %s): fail-nth %u/%u, first-N slab %u/%u, first-N page %u/%u (injected/steps); in:%s%s%s",
		    s->name, s->api, s->fn, injected[INJ_NTH], steps[INJ_NTH],
		    injected[INJ_SLAB_FIRST], steps[INJ_SLAB_FIRST],
		    injected[INJ_PAGE_FIRST], steps[INJ_PAGE_FIRST],
		    hit[0] ? hit : " none", failure[0] ? ": " : "", failure);
	}
}

static void report_coverage(void)
{
	char missing[1024], reached[1024];
	int cmd, si, p, n, npts, ntraced;

	for (cmd = 0; cmd < CMD_N; ++cmd) {
		if (cmd == CMD_CLOSE)
			continue;
		missing[0] = reached[0] = 0;
		for (si = 0; si < nsites; ++si) {
			struct site *s = &sites[si];

			for (p = 0; p < s->npaths; ++p) {
				char e[160];

				if (s->path[p].cmd != cmd)
					continue;
				snprintf(e, sizeof(e), " %.31s%s%.63s", s->name,
					 s->path[p].via[0] ? "/" : "",
					 s->path[p].via);
				if (s->path[p].reached) {
					if (strlen(reached) + strlen(e) < sizeof(reached))
						strcat(reached, e);
				} else if (strlen(missing) + strlen(e) < sizeof(missing)) {
					strcat(missing, e);
				}
			}
		}
		npts = ntraced = 0;
		for (n = 0; n < npoints; ++n)
			if (points[n].cmd == cmd) {
				npts++;
				ntraced += points[n].traced;
			}
		tap(!missing[0] && (reached[0] || only),
		    "%s: %d distinct injection points (%d seen in stack traces, %d only through filtered sweeps); inventory sites reached:%s%s%s",
		    cmd_names[cmd], npts, ntraced, npts - ntraced,
		    reached[0] ? reached : " none",
		    missing[0] ? "; NEVER REACHED:" : "", missing);
	}
}

static void summary(void)
{
	int cmd, n, k;

	diag("%s", "");
	diag("summary (distinct injection points = innermost %s frame + call-site offset)",
	     mod_name);
	diag("%-9s %6s %8s %7s %8s %7s %7s", "command", "steps", "injected",
	     "ENOMEM", "absorbed", "silent", "points");
	for (cmd = 0; cmd < CMD_N; ++cmd) {
		k = 0;
		for (n = 0; n < npoints; ++n)
			k += points[n].cmd == cmd;
		diag("%-9s %6u %8u %7u %8u %7u %7d", cmd_names[cmd],
		     cmd_steps[cmd], cmd_injected[cmd], cmd_enomem[cmd],
		     cmd_absorbed[cmd], cmd_silent[cmd], k);
	}
	diag("close: %u closes with fail-nth=1 (every peer of every step), %u reached an allocation",
	     close_checked, close_reached);
	diag("steps whose failed call left only a quota reserve changed: %lu",
	     reserve_only_diffs);
	diag("%s", "");
	diag("%-9s %-40s %-15s %5s  %s", "command", "point", "site", "hits",
	     "source chain, innermost first");
	for (cmd = 0; cmd < CMD_N; ++cmd)
		for (n = 0; n < npoints; ++n)
			if (points[n].cmd == cmd)
				diag("%-9s %-40s %-15s %5u  %s", cmd_names[cmd],
				     points[n].where,
				     points[n].site >= 0 ?
				     sites[points[n].site].name : "(unknown)",
				     points[n].hits, points[n].chain);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "map", required_argument, NULL, 'm' },
		{ "patterns", required_argument, NULL, 'p' },
		{ "module", required_argument, NULL, 'M' },
		{ "device", required_argument, NULL, 'd' },
		{ "only", required_argument, NULL, 'o' },
		{ "budget", required_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{}
	};
	char printk_saved[64] = "", ill_saved[8] = "", dev[128];
	static struct ctx c;
	struct snapshot fin;
	bool clean;
	int o, i;

	while ((o = getopt_long(argc, argv, "m:p:M:d:o:b:v", opts, NULL)) != -1) {
		switch (o) {
		case 'm': map_path = optarg; break;
		case 'p': patterns_path = optarg; break;
		case 'M': mod_name = optarg; break;
		case 'd': dev_path = optarg; break;
		case 'o': only = optarg; break;
		case 'b': budget = atoi(optarg); break;
		case 'v': verbose = true; break;
		default:
			fprintf(stderr, "usage: %s [--map FILE] [--patterns FILE] [--module NAME] [--device PATH] [--only SCENARIO] [--budget SECONDS] [--verbose]\n",
				argv[0]);
			return 2;
		}
	}
	if (!only && getenv("BUS1_FAULT_ONLY") && *getenv("BUS1_FAULT_ONLY"))
		only = getenv("BUS1_FAULT_ONLY");
	extra_sites = getenv("BUS1_FAULT_SITES");
	if (getenv("BUS1_FAULT_VERBOSE") && !strcmp(getenv("BUS1_FAULT_VERBOSE"), "1"))
		verbose = true;
	if (!strcmp(dev_path, "/dev/bus1") && strcmp(mod_name, "bus1")) {
		snprintf(dev, sizeof(dev), "/dev/%s", mod_name);
		dev_path = dev;
	}
	t_start = time(NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");

	/* user memory must never fault inside the module: a page fault
	 * would allocate (and could be failed) under its stack */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		bail("mlockall: %m");

	map_load(map_path);
	patterns_load(patterns_path);
	module_resolve();
	diag("inventory: %d sites; gen-sites.sh checked that every allocating call of the module is listed",
	     nsites);
	if (fail_nth_open() < 0)
		bail("cannot open /proc/thread-self/fail-nth: %m (CONFIG_FAULT_INJECTION?)");

	/* quiet console: the traces stay in the log buffer (read below) */
	read_file("/proc/sys/kernel/printk", printk_saved, sizeof(printk_saved));
	read_file("/sys/module/printk/parameters/ignore_loglevel", ill_saved,
		  sizeof(ill_saved));
	write_file("/sys/module/printk/parameters/ignore_loglevel", "N");
	write_file("/proc/sys/kernel/printk", "4");

	kmsg_open();
	fault_setup();

	run_scenarios();
	run_filtered_sites();
	report_coverage();

	tap(!close_reached && close_checked,
	    "close: %u closes of peers in every state the sweep produced, none reached an allocation",
	    close_checked);

	/* restore, then check every record the kernel wrote */
	dbg_restore();
	kmsg_poll();
	klogctl(5, NULL, 0);	/* SYSLOG_ACTION_CLEAR: all records checked */
	kmsg_poll();
	if (in_trace)
		trace_end();
	ninjs = 0;
	if (ill_saved[0])
		write_file("/sys/module/printk/parameters/ignore_loglevel", ill_saved);
	if (printk_saved[0])
		write_file("/proc/sys/kernel/printk", printk_saved);

	tap(!kmsg_bad && !kmsg_lost && !stray_injections,
	    "kernel log: %lu records checked, %lu match a fatal pattern outside injected-failure reports, %lu lost, %u injections outside a call under test",
	    kmsg_records, kmsg_bad, kmsg_lost, stray_injections);

	ctx_reset(&c, NULL);
	clean = false;
	if (!setjmp(c.abort)) {
		snapshot_take(&c, &fin);
		clean = !fin.acct[0];
		for (i = 0; i < STAT_N; ++i)
			clean &= fin.stat[i] == 0;
	}
	tap(clean, "every object counter is 0 and no accounting user is left at the end");

	summary();
	printf("1..%u\n", tap_n);
	return tap_failed ? 1 : 0;
}
