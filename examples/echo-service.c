/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * echo-service - a request/reply service on the libbus1 dispatcher. Each
 * request carries a reply node, created by the client in the same SEND; the
 * service answers through the handle to it that the request brought along,
 * and exits once no client holds a handle to its node (HANDLE_RELEASE).
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libbus1.h>

/* Send @size bytes to @dest; if @reply_node, create one in the same SEND. */
static int send_data(int fd, uint64_t dest, const void *data, size_t size, uint64_t *reply_node)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	int r = bus1_msg_builder_new(&b);

	if (r >= 0)
		r = bus1_msg_builder_add_data(b, data, size);
	if (r >= 0 && reply_node)
		r = bus1_msg_builder_add_node(b, reply_node);
	return r < 0 ? r : bus1_msg_builder_send(b, fd, 1, &dest);
}

static int on_request(struct bus1_dispatcher *d, struct bus1_msg *m, void *userdata)
{
	size_t size;
	const void *data = bus1_msg_get_data(m, &size);

	(void)userdata;
	if (bus1_msg_is_handle_release(m, NULL)) {
		printf("[echo]   last client gone, exiting\n");
		bus1_dispatcher_exit(d, 0);
		return 0;
	}
	/* answer through the carried handle; freeing the request drops it */
	return send_data(bus1_dispatcher_get_fd(d), bus1_msg_get_handle(m, 0), data, size, NULL);
}

/* Send @text to @service and wait for the answer on a new reply node. */
static int call(int fd, uint64_t service, const char *text)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t reply_node;
	int r = send_data(fd, service, text, strlen(text), &reply_node);

	while ((r >= 0 || r == -EAGAIN) && poll(&p, 1, 5000) == 1) {
		_cleanup_bus1_msg_ struct bus1_msg *m = NULL;
		const char *answer;

		r = bus1_msg_recv(fd, &m);
		/* skip the HANDLE_RELEASE of earlier reply nodes */
		if (!m || bus1_msg_get_type(m) != BUS1_MESSAGE_TYPE_USER)
			continue;
		answer = bus1_msg_get_data(m, NULL);
		printf("[client] \"%s\" -> \"%s\"\n", text, answer);
		return bus1_msg_get_id(m) == reply_node && !strcmp(text, answer) ? 0 : -1;
	}
	return -1;
}

int main(void)
{
	static const char *const words[] = { "hello", "capability", "bus1" };
	int service = bus1_peer_new(), client = bus1_peer_new(), status, failed = 0;
	uint64_t node, handle;
	pid_t pid;

	if (service < 0 || client < 0 || bus1_node_create(service, client, &node, &handle) < 0) {
		fprintf(stderr, "echo-service: cannot set up the peers\n");
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {	/* the service */
		_cleanup_bus1_dispatcher_ struct bus1_dispatcher *d = NULL;

		close(client);
		if (bus1_dispatcher_new(&d, service) < 0 ||
		    bus1_dispatcher_add_node(d, node, on_request, NULL) < 0)
			return 1;
		return bus1_dispatcher_run(d) != 0;
	}
	close(service);

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); ++i)
		failed |= call(client, handle, words[i]) < 0;
	bus1_cmd_release(client, 1, &handle);	/* the service's cue to exit */

	failed |= pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		  WEXITSTATUS(status) != 0;
	printf("echo-service: %s\n", failed ? "FAILED" : "ok");
	return failed;
}
