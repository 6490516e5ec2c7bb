/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: the compiler helpers used by acct.c and the kernel rbtree. */
#ifndef BUS1_TEST_LINUX_COMPILER_H
#define BUS1_TEST_LINUX_COMPILER_H

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#ifndef __always_inline
#define __always_inline	inline __attribute__((always_inline))
#endif

#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val) \
	do { *(volatile __typeof__(x) *)&(x) = (val); } while (0)

#endif
