/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: refcount_t on C11 atomics; misuse counts as a WARN. */
#ifndef BUS1_TEST_LINUX_REFCOUNT_H
#define BUS1_TEST_LINUX_REFCOUNT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <linux/mutex.h>
#include "../../shim.h"

typedef struct {
	atomic_uint refs;
} refcount_t;

static inline void refcount_set(refcount_t *r, unsigned int n)
{
	atomic_store(&r->refs, n);
}

static inline unsigned int refcount_read(refcount_t *r)
{
	return atomic_load(&r->refs);
}

static inline void refcount_inc(refcount_t *r)
{
	if (!atomic_fetch_add(&r->refs, 1))
		shim_warn(__FILE__, __LINE__, "refcount_inc() on 0");
}

static inline bool refcount_dec_and_test(refcount_t *r)
{
	unsigned int old = atomic_fetch_sub(&r->refs, 1);

	if (!old)
		shim_warn(__FILE__, __LINE__, "refcount underflow");
	return old == 1;
}

/* decrement unless the count is 1; true if it decremented */
static inline bool refcount_dec_not_one(refcount_t *r)
{
	unsigned int old = atomic_load(&r->refs);

	do {
		if (old == 1)
			return false;
		if (!old) {
			shim_warn(__FILE__, __LINE__, "refcount underflow");
			return true;
		}
	} while (!atomic_compare_exchange_weak(&r->refs, &old, old - 1));
	return true;
}

static inline bool refcount_dec_and_mutex_lock(refcount_t *r, struct mutex *l)
{
	if (refcount_dec_not_one(r))
		return false;
	mutex_lock(l);
	if (!refcount_dec_and_test(r)) {
		mutex_unlock(l);
		return false;
	}
	return true;
}

#endif
