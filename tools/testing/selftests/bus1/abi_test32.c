// SPDX-License-Identifier: GPL-2.0
/*
 * ABI of <linux/bus1.h> for 32-bit user space on a 64-bit kernel (the
 * compat path): the same layout, and every command with 8-byte iovecs.
 */
#include "abi-common.h"

_Static_assert(sizeof(void *) == 4, "abi_test32 must be built with -m32");
_Static_assert(sizeof(struct iovec) == 8, "compat iovec is 8 bytes");

/*
 * The upper half of a pointer field is not ignored for 32-bit callers:
 * such an address is not one of theirs, so the access faults.
 */
TEST(pointer_with_upper_bits_set_is_efault)
{
	struct bus1_transfer src = { BUS1_TRANSFER_FLAG_CREATE, BUS1_INVALID };
	struct bus1_transfer dst;
	struct bus1_cmd_transfer tc = {
		.to = BUS1_INVALID,
		.n_transfers = 1,
		.ptr_src = BUS1_FROM_PTR(&src) | (1ULL << 32),
		.ptr_dst = BUS1_FROM_PTR(&dst),
	};
	struct bus1_cmd_release rc = { .n_ids = 1 };
	uint64_t id;
	int fd;

	fd = t_open();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EFAULT, t_ioctl(fd, BUS1_CMD_TRANSFER, &tc));
	/* Nothing was created: the first CREATE still gets IDs 1 and 3. */
	ASSERT_EQ(0, t_node(fd, -1, &id, NULL));
	EXPECT_EQ(1, id);

	rc.ptr_ids = BUS1_FROM_PTR(&id) | (1ULL << 32);
	EXPECT_EQ(-EFAULT, t_ioctl(fd, BUS1_CMD_RELEASE, &rc));
	/* Node 1 is still there. */
	EXPECT_EQ(0, t_release1(fd, 1));
}

TEST_HARNESS_MAIN
