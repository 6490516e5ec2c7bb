/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: fls64(), the 1-based index of the highest set bit (0 for 0). */
#ifndef BUS1_TEST_LINUX_BITOPS_H
#define BUS1_TEST_LINUX_BITOPS_H

#include <linux/types.h>

static inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

#endif
