// SPDX-License-Identifier: GPL-2.0
/*
 * The character device: file operations and command dispatch.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/bus1.h>
#include "main.h"
#include "message.h"
#include "node.h"
#include "peer.h"

static int bus1_fop_open(struct inode *inode, struct file *file)
{
	struct bus1_peer *peer;

	peer = bus1_peer_new(file->f_cred);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	file->private_data = peer;
	return nonseekable_open(inode, file);
}

static int bus1_fop_release(struct inode *inode, struct file *file)
{
	bus1_peer_close(file->private_data);
	return 0;
}

static __poll_t bus1_fop_poll(struct file *file, poll_table *wait)
{
	struct bus1_peer *peer = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &peer->waitq, wait);
	/*
	 * Order the waitqueue insertion before reading the count; pairs with
	 * the barrier in wq_has_sleeper() in bus1_peer_wake(), which skips the
	 * wake-up when it sees no waiter.
	 */
	smp_mb();
	if (bus1_peer_readable(peer))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static long bus1_fop_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct bus1_peer *peer = file->private_data;

	switch (cmd) {
	case BUS1_CMD_TRANSFER:
		return bus1_cmd_transfer(peer, arg);
	case BUS1_CMD_RELEASE:
		return bus1_cmd_release(peer, arg);
	case BUS1_CMD_SEND:
		return bus1_cmd_send(peer, arg);
	case BUS1_CMD_RECV:
		return bus1_cmd_recv(peer, arg);
	}
	return -ENOTTY;
}

#ifdef CONFIG_COMPAT
/* All structures have one layout; only iovecs differ (see import_iovec()). */
static long bus1_fop_compat_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	return bus1_fop_ioctl(file, cmd, (unsigned long)compat_ptr(arg));
}
#endif

static const struct file_operations bus1_fops = {
	.owner		= THIS_MODULE,
	.open		= bus1_fop_open,
	.release	= bus1_fop_release,
	.poll		= bus1_fop_poll,
	.unlocked_ioctl	= bus1_fop_ioctl,
#ifdef CONFIG_COMPAT
	.compat_ioctl	= bus1_fop_compat_ioctl,
#endif
};

static struct miscdevice bus1_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KBUILD_MODNAME,
	.fops	= &bus1_fops,
	.mode	= 0666,
};

/**
 * bus1_cdev_peer() - the peer behind a file of this device instance
 * @file:	any file
 *
 * Return: the peer, or NULL if @file is not a peer of this instance.
 */
struct bus1_peer *bus1_cdev_peer(struct file *file)
{
	return file->f_op == &bus1_fops ? file->private_data : NULL;
}

/**
 * bus1_cdev_init() - register the device
 *
 * Return: 0 or a negative errno.
 */
int bus1_cdev_init(void)
{
	return misc_register(&bus1_misc);
}

/**
 * bus1_cdev_deinit() - unregister the device
 */
void bus1_cdev_deinit(void)
{
	misc_deregister(&bus1_misc);
}
