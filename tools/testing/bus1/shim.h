/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-ins for the kernel services used by ipc/bus1/acct.c:
 * a counting allocator that can fail on demand, mutexes that check the
 * accounting lock rules, and a WARN counter.
 */
#ifndef BUS1_TEST_SHIM_H
#define BUS1_TEST_SHIM_H

#include <stdbool.h>
#include <stddef.h>

/* live objects allocated through kmalloc()/kzalloc() and not yet freed */
long shim_live_objects(void);
/* number of allocation attempts so far (failed ones included) */
unsigned long shim_alloc_calls(void);
/* make the n-th allocation attempt from now fail (1 = the next); 0 disarms */
void shim_fail_nth(unsigned long n);
/* true while an armed failure has not been consumed yet */
bool shim_fail_pending(void);

void *shim_alloc(size_t size, bool zero);
void shim_free(const void *p);

/* WARN_ON*() conditions that fired so far */
unsigned long shim_warnings(void);
void shim_warn(const char *file, int line, const char *cond);

/* number of mutexes the calling thread holds */
unsigned int shim_mutexes_held(void);
/* report a broken locking rule and abort */
void shim_lock_violation(const char *what, const char *file, int line)
	__attribute__((noreturn));
void shim_mutex_taken(void);
void shim_mutex_dropped(void);

#endif
