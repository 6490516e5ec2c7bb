// SPDX-License-Identifier: GPL-2.0
/*
 * Compile test of the bus1 UAPI header (spec 12.1 item 5). Compiled, not
 * run, under every C standard and word size user space may use: it must
 * build without a single warning. Layouts are asserted by the API tests.
 */
#include <linux/bus1.h>
#include <linux/bus1.h>	/* the include guard must make this harmless */

/* Expanding every macro checks the expressions behind them, too. */
unsigned long bus1_header_test_cmds[] = {
	BUS1_CMD_TRANSFER,
	BUS1_CMD_RELEASE,
	BUS1_CMD_SEND,
	BUS1_CMD_RECV,
};

__u64 bus1_header_test_consts[] = {
	BUS1_INVALID,
	BUS1_MANAGED,
	BUS1_TRANSFER_FLAG_CREATE,
	BUS1_IOCTL_MAGIC,
	BUS1_MESSAGE_TYPE_USER,
	BUS1_MESSAGE_TYPE_NODE_RELEASE,
	BUS1_MESSAGE_TYPE_HANDLE_RELEASE,
	_BUS1_MESSAGE_TYPE_N,
};

struct bus1_transfer bus1_header_test_transfer;
struct bus1_metadata bus1_header_test_metadata;
struct bus1_message bus1_header_test_message;
struct bus1_cmd_transfer bus1_header_test_cmd_transfer;
struct bus1_cmd_release bus1_header_test_cmd_release;
struct bus1_cmd_send bus1_header_test_cmd_send;
struct bus1_cmd_recv bus1_header_test_cmd_recv;

void *bus1_header_test_ptr(void *p);

void *bus1_header_test_ptr(void *p)
{
	enum bus1_message_type type = BUS1_MESSAGE_TYPE_USER;

	bus1_header_test_message.type = type;
	bus1_header_test_message.ptr_data_vecs = BUS1_FROM_PTR(p);
	return BUS1_TO_PTR(bus1_header_test_message.ptr_data_vecs);
}
