/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An external program built against an installed libbus1, with nothing but
 * `cc prog.c $(pkg-config --cflags --libs libbus1)`. It uses only the
 * installed <libbus1.h> (which brings the installed <linux/bus1.h>).
 *
 *   link_test          round trip through /dev/bus1 (run in the VM), TAP
 *   link_test --probe  no device needed: checks that the library loads and
 *                      resolves, for the host-side check of a shared link
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libbus1.h>

static int failed;

static void check(int n, int ok, const char *what)
{
	printf("%sok %d %s\n", ok ? "" : "not ", n, what);
	if (!ok)
		failed = 1;
}

static int on_request(struct bus1_dispatcher *d, struct bus1_msg *m,
		      void *userdata)
{
	struct bus1_msg_builder *b = NULL;
	uint64_t reply = bus1_msg_get_handle(m, 0);
	const char *data;
	size_t size;
	int r;

	(void)userdata;
	data = bus1_msg_get_data(m, &size);
	r = bus1_msg_builder_new(&b);
	if (r == 0)
		r = bus1_msg_builder_add_data(b, data, size);
	if (r == 0)
		r = bus1_msg_builder_send(b, bus1_dispatcher_get_fd(d), 1, &reply);
	bus1_msg_builder_free(b);
	return r;
}

int main(int argc, char **argv)
{
	_cleanup_bus1_dispatcher_ struct bus1_dispatcher *service = NULL;
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	_cleanup_bus1_msg_ struct bus1_msg *reply = NULL;
	_cleanup_bus1_peer_ int client = -1;
	uint64_t node, handle, reply_node = BUS1_INVALID;
	int r;

	if (argc > 1 && !strcmp(argv[1], "--probe")) {
		r = bus1_peer_new_at("/nonexistent/bus1");
		printf("libbus1 loaded; bus1_peer_new_at(missing) = %d\n", r);
		return r == -ENOENT ? 0 : 1;
	}

	printf("TAP version 13\n1..4\n");

	r = bus1_dispatcher_new(&service, -1);
	client = bus1_peer_new();
	check(1, r == 0 && client >= 0, "open a service and a client peer");
	if (failed)
		return 1;

	r = bus1_node_create(bus1_dispatcher_get_fd(service), client, &node,
			     &handle);
	if (r == 0)
		r = bus1_dispatcher_add_node(service, node, on_request, NULL);
	check(2, r == 0, "create a node and register it");

	r = bus1_msg_builder_new(&b);
	if (r == 0)
		r = bus1_msg_builder_add_data(b, "linked", 6);
	if (r == 0)
		r = bus1_msg_builder_add_node(b, &reply_node);
	if (r == 0)
		r = bus1_msg_builder_send(b, client, 1, &handle);
	check(3, r == 0 && reply_node != BUS1_INVALID,
	      "send a request with a reply node");

	r = bus1_dispatcher_dispatch(service);
	if (r == 1)
		r = bus1_msg_recv(client, &reply);
	check(4, r == 0 && bus1_msg_get_id(reply) == reply_node &&
		 !strcmp(bus1_msg_get_data(reply, NULL), "linked"),
	      "the service echoes through the reply handle");

	return failed;
}
