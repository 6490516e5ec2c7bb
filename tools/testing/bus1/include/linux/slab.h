/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: kmalloc family backed by the counting allocator of shim.c. */
#ifndef BUS1_TEST_LINUX_SLAB_H
#define BUS1_TEST_LINUX_SLAB_H

#include <linux/types.h>
#include "../../shim.h"

#ifndef GFP_KERNEL
#define GFP_KERNEL 0u
#endif

static inline void *kmalloc(size_t size, unsigned int gfp)
{
	(void)gfp;
	return shim_alloc(size, false);
}

static inline void *kzalloc(size_t size, unsigned int gfp)
{
	(void)gfp;
	return shim_alloc(size, true);
}

static inline void kfree(const void *p)
{
	shim_free(p);
}

#endif
