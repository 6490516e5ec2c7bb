/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: atomic64_t on C11 atomics. */
#ifndef BUS1_TEST_LINUX_ATOMIC_H
#define BUS1_TEST_LINUX_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct {
	_Atomic int64_t counter;
} atomic64_t;

static inline void atomic64_set(atomic64_t *v, int64_t i)
{
	atomic_store(&v->counter, i);
}

static inline int64_t atomic64_read(atomic64_t *v)
{
	return atomic_load(&v->counter);
}

static inline int64_t atomic64_inc_return(atomic64_t *v)
{
	return atomic_fetch_add(&v->counter, 1) + 1;
}

#endif
