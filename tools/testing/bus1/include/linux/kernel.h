/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: the few kernel.h helpers acct.c and the kernel rbtree use. */
#ifndef BUS1_TEST_LINUX_KERNEL_H
#define BUS1_TEST_LINUX_KERNEL_H

#include <stddef.h>
#include <linux/compiler.h>
#include <linux/types.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define U64_MAX ((u64)~0ULL)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
