/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: lockdep_assert_held() checks the owner of a stand-in mutex. */
#ifndef BUS1_TEST_LINUX_LOCKDEP_H
#define BUS1_TEST_LINUX_LOCKDEP_H

#include <linux/mutex.h>

#define lockdep_assert_held(l) do {				\
	if (!mutex_is_mine(l))					\
		shim_lock_violation("lock not held",		\
				    __FILE__, __LINE__);	\
} while (0)

#endif
