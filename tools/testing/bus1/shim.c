// SPDX-License-Identifier: GPL-2.0
/*
 * Counting allocator with failure injection, lock-rule checks, WARN counter
 * and seq_file output for the user-space tests of ipc/bus1/acct.c.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seq_file.h>
#include <linux/uidgid.h>
#include "shim.h"

struct user_namespace init_user_ns;

static atomic_long live_objects;
static atomic_ulong alloc_calls;
static atomic_ulong fail_countdown;
static atomic_ulong warnings;
static _Thread_local unsigned int mutexes_held;

long shim_live_objects(void)
{
	return atomic_load(&live_objects);
}

unsigned long shim_alloc_calls(void)
{
	return atomic_load(&alloc_calls);
}

void shim_fail_nth(unsigned long n)
{
	atomic_store(&fail_countdown, n);
}

bool shim_fail_pending(void)
{
	return atomic_load(&fail_countdown) != 0;
}

/* true if this attempt is the armed one */
static bool shim_should_fail(void)
{
	unsigned long n = atomic_load(&fail_countdown);

	while (n) {
		if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1))
			return n == 1;
	}
	return false;
}

void *shim_alloc(size_t size, bool zero)
{
	void *p;

	atomic_fetch_add(&alloc_calls, 1);
	if (shim_should_fail())
		return NULL;
	p = zero ? calloc(1, size) : malloc(size);
	if (!p) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	atomic_fetch_add(&live_objects, 1);
	return p;
}

void shim_free(const void *p)
{
	if (!p)
		return;
	atomic_fetch_sub(&live_objects, 1);
	free((void *)p);
}

unsigned long shim_warnings(void)
{
	return atomic_load(&warnings);
}

void shim_warn(const char *file, int line, const char *cond)
{
	atomic_fetch_add(&warnings, 1);
	fprintf(stderr, "# WARNING at %s:%d: %s\n", file, line, cond);
}

unsigned int shim_mutexes_held(void)
{
	return mutexes_held;
}

void shim_mutex_taken(void)
{
	++mutexes_held;
}

void shim_mutex_dropped(void)
{
	--mutexes_held;
}

void shim_lock_violation(const char *what, const char *file, int line)
{
	fprintf(stderr, "Bail out! lock rule broken at %s:%d: %s\n",
		file, line, what);
	fflush(NULL);
	abort();
}

static void seq_reserve(struct seq_file *m, size_t n)
{
	size_t want = m->count + n + 1;

	if (want <= m->size)
		return;
	m->size = want * 2;
	m->buf = realloc(m->buf, m->size);
	if (!m->buf) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
}

void seq_printf(struct seq_file *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	seq_reserve(m, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(m->buf + m->count, (size_t)n + 1, fmt, ap);
	va_end(ap);
	m->count += (size_t)n;
}

void seq_puts(struct seq_file *m, const char *s)
{
	seq_printf(m, "%s", s);
}
