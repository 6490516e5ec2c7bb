/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: the kernel's fixed-width types (u64 is unsigned long long). */
#ifndef BUS1_TEST_LINUX_TYPES_H
#define BUS1_TEST_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned long long u64;
typedef long long s64;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint16_t u16;
typedef uint8_t u8;

#endif
