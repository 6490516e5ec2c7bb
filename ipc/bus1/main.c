// SPDX-License-Identifier: GPL-2.0
/*
 * bus1: capability-based IPC. Module set-up and tear-down, parameters and
 * the debugfs view used by the tests.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/bus1.h>
#include "acct.h"
#include "main.h"
#include "message.h"
#include "node.h"
#include "peer.h"
#include "tx.h"

/* read once at load; per UID and per instance (spec §9.8) */
unsigned long bus1_max_objects = 1UL << 20;
module_param_named(max_objects, bus1_max_objects, ulong, 0444);
MODULE_PARM_DESC(max_objects, "Objects one UID may pin (default 1048576)");

static unsigned long bus1_max_bytes = 1UL << 30;
module_param_named(max_bytes, bus1_max_bytes, ulong, 0444);
MODULE_PARM_DESC(max_bytes, "Payload bytes one UID may pin (default 1 GiB)");

atomic_long_t bus1_stats[_BUS1_STAT_N];
struct bus1_acct *bus1_acct;
static struct dentry *bus1_debugfs;

static const char * const bus1_stat_names[_BUS1_STAT_N] = {
	[BUS1_STAT_PEERS]	= "peers",
	[BUS1_STAT_NODES]	= "nodes",
	[BUS1_STAT_HANDLES]	= "handles",
	[BUS1_STAT_MESSAGES]	= "messages",
	[BUS1_STAT_PAYLOADS]	= "payloads",
	[BUS1_STAT_TXS]		= "transactions",
};

static int bus1_objects_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	for (i = 0; i < _BUS1_STAT_N; ++i)
		seq_printf(m, "%s %ld\n", bus1_stat_names[i],
			   atomic_long_read(&bus1_stats[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bus1_objects);

static int bus1_acct_show(struct seq_file *m, void *unused)
{
	bus1_acct_dump(m, bus1_acct);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bus1_acct);

/* Compile-time check of the ABI (spec §2.3). */
static void __init bus1_assert_abi(void)
{
	BUILD_BUG_ON(sizeof(struct bus1_transfer) != 16);
	BUILD_BUG_ON(sizeof(struct bus1_metadata) != 24);
	BUILD_BUG_ON(sizeof(struct bus1_message) != 56);
	BUILD_BUG_ON(sizeof(struct bus1_cmd_transfer) != 40);
	BUILD_BUG_ON(sizeof(struct bus1_cmd_release) != 24);
	BUILD_BUG_ON(sizeof(struct bus1_cmd_send) != 40);
	BUILD_BUG_ON(sizeof(struct bus1_cmd_recv) != 24);
	BUILD_BUG_ON(offsetof(struct bus1_message, ptr_data_vecs) != 48);
	BUILD_BUG_ON(offsetof(struct bus1_cmd_transfer, ptr_dst) != 32);
	BUILD_BUG_ON(offsetof(struct bus1_cmd_send, ptr_message) != 32);
	BUILD_BUG_ON(offsetof(struct bus1_cmd_recv, ptr_message) != 16);
	BUILD_BUG_ON(offsetof(struct bus1_metadata, account) != 16);
	BUILD_BUG_ON(BUS1_CMD_TRANSFER != 0xC0289700);
	BUILD_BUG_ON(BUS1_CMD_RELEASE != 0xC0189701);
	BUILD_BUG_ON(BUS1_CMD_SEND != 0xC0289702);
	BUILD_BUG_ON(BUS1_CMD_RECV != 0xC0189703);
}

static int __init bus1_modinit(void)
{
	int r;

	bus1_assert_abi();

	bus1_acct = bus1_acct_new(bus1_max_objects, bus1_max_bytes);
	if (IS_ERR(bus1_acct))
		return PTR_ERR(bus1_acct);

	r = bus1_handle_cache_init();
	if (r)
		goto err_acct;

	/* optional: without debugfs the module works, tests cannot inspect */
	bus1_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("objects", 0444, bus1_debugfs, NULL,
			    &bus1_objects_fops);
	debugfs_create_file("acct", 0444, bus1_debugfs, NULL,
			    &bus1_acct_fops);

	r = bus1_cdev_init();
	if (r)
		goto err_debugfs;

	return 0;

err_debugfs:
	debugfs_remove_recursive(bus1_debugfs);
	bus1_handle_cache_deinit();
err_acct:
	bus1_acct_free(bus1_acct);
	return r;
}

static void __exit bus1_modexit(void)
{
	bus1_cdev_deinit();
	debugfs_remove_recursive(bus1_debugfs);
	bus1_handle_cache_deinit();
	bus1_acct_free(bus1_acct);
}

module_init(bus1_modinit);
module_exit(bus1_modexit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Capability-based IPC");
