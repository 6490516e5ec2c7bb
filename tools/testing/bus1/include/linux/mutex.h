/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in: pthread mutexes that know their owner. All mutexes of the code
 * under test are accounting locks (lock level 3), so taking one while the
 * thread already holds another is a violation and aborts the test.
 */
#ifndef BUS1_TEST_LINUX_MUTEX_H
#define BUS1_TEST_LINUX_MUTEX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include "../../shim.h"

struct mutex {
	pthread_mutex_t m;
	pthread_t owner;
	atomic_bool held;
};

#define mutex_init(l) do {					\
	pthread_mutex_init(&(l)->m, NULL);			\
	atomic_store(&(l)->held, false);			\
} while (0)

#define mutex_lock(l) do {					\
	if (shim_mutexes_held())				\
		shim_lock_violation("nested accounting lock",	\
				    __FILE__, __LINE__);	\
	pthread_mutex_lock(&(l)->m);				\
	(l)->owner = pthread_self();				\
	atomic_store(&(l)->held, true);				\
	shim_mutex_taken();					\
} while (0)

#define mutex_is_mine(l)					\
	(atomic_load(&(l)->held) &&				\
	 pthread_equal((l)->owner, pthread_self()))

#define mutex_unlock(l) do {					\
	if (!mutex_is_mine(l))					\
		shim_lock_violation("unlock of a mutex not held", \
				    __FILE__, __LINE__);	\
	atomic_store(&(l)->held, false);			\
	shim_mutex_dropped();					\
	pthread_mutex_unlock(&(l)->m);				\
} while (0)

#define mutex_destroy(l) do {					\
	if (atomic_load(&(l)->held))				\
		shim_lock_violation("destroy of a held mutex",	\
				    __FILE__, __LINE__);	\
	pthread_mutex_destroy(&(l)->m);				\
} while (0)

#endif
