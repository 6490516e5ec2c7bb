/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: 64-bit division helpers. */
#ifndef BUS1_TEST_LINUX_MATH64_H
#define BUS1_TEST_LINUX_MATH64_H

#include <linux/types.h>

static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}

#endif
