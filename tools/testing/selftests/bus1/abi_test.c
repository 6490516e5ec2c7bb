// SPDX-License-Identifier: GPL-2.0
/*
 * ABI of <linux/bus1.h> for native (64-bit) user space: sizes, offsets,
 * command words, constants, and a round trip with 16-byte iovecs.
 */
#include "abi-common.h"

TEST_HARNESS_MAIN
