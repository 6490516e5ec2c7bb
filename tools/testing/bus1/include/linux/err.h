/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: error values encoded in pointers, as in the kernel. */
#ifndef BUS1_TEST_LINUX_ERR_H
#define BUS1_TEST_LINUX_ERR_H

#include <errno.h>
#include <stdbool.h>

#define MAX_ERRNO 4095

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return (unsigned long)ptr >= (unsigned long)-MAX_ERRNO;
}

#endif
