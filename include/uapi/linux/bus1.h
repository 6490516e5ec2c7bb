/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_LINUX_BUS1_H
#define _UAPI_LINUX_BUS1_H

/**
 * DOC: bus1 - capability-based IPC
 *
 * Opening /dev/bus1 creates a peer. A peer owns nodes (receiving ends) and
 * handles (sending capabilities, each referring to one node). Messages are
 * sent through handles and may carry further handles. All structures consist
 * of __u64 fields only and have the same layout for 32-bit and 64-bit user
 * space. Pointers are passed as __u64 (see BUS1_FROM_PTR()).
 *
 * Every command returns 0 on success or -1 with errno set. The complete
 * semantics are described in bus1(7).
 */

#include <linux/ioctl.h>
#include <linux/types.h>

#define BUS1_FROM_PTR(_p) ((__u64)(unsigned long)(const void *)(_p))
#define BUS1_TO_PTR(_v) ((void *)(unsigned long)(__u64)(_v))

#define BUS1_IOCTL_MAGIC 0x97

/* "No ID"; as TRANSFER @to: the calling peer itself. */
#define BUS1_INVALID ((__u64)-1)

/* Set in every kernel-allocated ID; even IDs are never valid. */
#define BUS1_MANAGED ((__u64)0x1)

/* bus1_transfer.flags: create a new node instead of naming a handle. */
#define BUS1_TRANSFER_FLAG_CREATE (((__u64)1) << 0)

/*
 * The message type is transported in a __u64 field; this enum only names the
 * values (no fixed underlying type, so the header stays C99).
 */
enum bus1_message_type {
	BUS1_MESSAGE_TYPE_USER = 0,
	BUS1_MESSAGE_TYPE_NODE_RELEASE = 1,
	BUS1_MESSAGE_TYPE_HANDLE_RELEASE = 2,
	_BUS1_MESSAGE_TYPE_N = 3,
};

/**
 * struct bus1_transfer - one node or handle being transferred
 * @flags:	BUS1_TRANSFER_FLAG_* (in); 0 when written back
 * @id:		handle ID (in), BUS1_INVALID with CREATE; resulting ID (out)
 */
struct bus1_transfer {
	__u64 flags;
	__u64 id;
} __attribute__((__aligned__(8)));

/**
 * struct bus1_metadata - describes a received entry
 * @flags:	always 0
 * @id:		the receiving node (USER, HANDLE_RELEASE) or handle (NODE_RELEASE)
 * @account:	the sender's UID in the receiver's user namespace (USER);
 *		BUS1_INVALID for notifications
 */
struct bus1_metadata {
	__u64 flags;
	__u64 id;
	__u64 account;
} __attribute__((__aligned__(8)));

/**
 * struct bus1_message - a message to send, or the buffers to receive into
 * @flags:		must be 0
 * @type:		BUS1_MESSAGE_TYPE_USER (SEND); BUS1_INVALID in, type out (RECV)
 * @n_transfers:	number of transfers (SEND); capacity in, count out (RECV)
 * @ptr_transfers:	array of struct bus1_transfer
 * @n_data:		payload size (SEND); capacity in, size out (RECV)
 * @n_data_vecs:	number of struct iovec, at most 1024
 * @ptr_data_vecs:	array of the caller's native struct iovec
 */
struct bus1_message {
	__u64 flags;
	__u64 type;
	__u64 n_transfers;
	__u64 ptr_transfers;
	__u64 n_data;
	__u64 n_data_vecs;
	__u64 ptr_data_vecs;
} __attribute__((__aligned__(8)));

/**
 * struct bus1_cmd_transfer - BUS1_CMD_TRANSFER argument
 * @flags:		must be 0
 * @to:			fd of the destination peer, or BUS1_INVALID for self
 * @n_transfers:	number of elements of @ptr_src and @ptr_dst
 * @ptr_src:		struct bus1_transfer array: handles or CREATE requests
 * @ptr_dst:		struct bus1_transfer array: new handles in @to (out)
 */
struct bus1_cmd_transfer {
	__u64 flags;
	__u64 to;
	__u64 n_transfers;
	__u64 ptr_src;
	__u64 ptr_dst;
} __attribute__((__aligned__(8)));

/**
 * struct bus1_cmd_release - BUS1_CMD_RELEASE argument
 * @flags:	must be 0
 * @n_ids:	number of IDs
 * @ptr_ids:	__u64 array of node and handle IDs to release
 */
struct bus1_cmd_release {
	__u64 flags;
	__u64 n_ids;
	__u64 ptr_ids;
} __attribute__((__aligned__(8)));

/**
 * struct bus1_cmd_send - BUS1_CMD_SEND argument
 * @flags:		must be 0
 * @n_destinations:	number of destination handles
 * @ptr_destinations:	__u64 array of handle IDs
 * @ptr_errors:		__s32 array, one per destination, written on success
 * @ptr_message:	struct bus1_message to send
 */
struct bus1_cmd_send {
	__u64 flags;
	__u64 n_destinations;
	__u64 ptr_destinations;
	__u64 ptr_errors;
	__u64 ptr_message;
} __attribute__((__aligned__(8)));

/**
 * struct bus1_cmd_recv - BUS1_CMD_RECV argument
 * @flags:		must be 0
 * @ptr_metadata:	struct bus1_metadata (out)
 * @ptr_message:	struct bus1_message with receive capacities (in/out)
 */
struct bus1_cmd_recv {
	__u64 flags;
	__u64 ptr_metadata;
	__u64 ptr_message;
} __attribute__((__aligned__(8)));

/**
 * BUS1_CMD_TRANSFER - create nodes and handles between two peers
 * BUS1_CMD_RELEASE - release nodes and handles in one transaction
 * BUS1_CMD_SEND - send one message to many handles in one transaction
 * BUS1_CMD_RECV - receive the next queued entry, never blocks
 */
#define BUS1_CMD_TRANSFER _IOWR(BUS1_IOCTL_MAGIC, 0x00, struct bus1_cmd_transfer)
#define BUS1_CMD_RELEASE _IOWR(BUS1_IOCTL_MAGIC, 0x01, struct bus1_cmd_release)
#define BUS1_CMD_SEND _IOWR(BUS1_IOCTL_MAGIC, 0x02, struct bus1_cmd_send)
#define BUS1_CMD_RECV _IOWR(BUS1_IOCTL_MAGIC, 0x03, struct bus1_cmd_recv)

#endif /* _UAPI_LINUX_BUS1_H */
