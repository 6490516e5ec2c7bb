/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus1-demo - a transcript of bus1 at work: three processes, three peers.
 *
 *   service  owns objects (nodes) and hands out capabilities (handles)
 *   alice    a client; she gets a counter object from the service
 *   bob      a third process; alice passes her capability on to him
 *
 * The parent opens the three peers, connects them with TRANSFER (it holds
 * all three descriptors), then forks one process per actor and closes its
 * own copies, so that each peer belongs to exactly one process.
 *
 * The parent then directs a fixed script: it tells one actor at a time to do
 * its next step and waits until that step is done. Every line of output is
 * printed inside a step, so the transcript is the same on every run. Actors
 * only learn about each other through bus1; the script merely decides who
 * looks at its queue when. Each step checks that exactly the expected entry
 * arrived; the program exits 0 only if every expected event happened.
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libbus1.h>

enum actor { SERVICE, ALICE, BOB, N_ACTORS };

static const char *const actor_name[N_ACTORS] = { "service", "alice", "bob" };

/*
 * What an actor knows. After fork() each process only uses its own fields;
 * the IDs are those of its own peer.
 */
static struct {
	enum actor me;
	int fd;

	uint64_t session_node;		/* service: alice's session */
	uint64_t counter_node;		/* service: the counter object */
	long counter;

	uint64_t session_handle;	/* alice: her session */
	uint64_t inbox_handle;		/* alice: bob's inbox */
	uint64_t inbox_node;		/* bob: his inbox */
	uint64_t counter_handle;	/* alice, bob: the counter */
	uint64_t reply_node;		/* alice, bob: the current reply node */
} st;

/* ---- output and checks -------------------------------------------------- */

static void say_as(const char *who, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say_as(const char *who, const char *fmt, ...)
{
	char prefix[16];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "[%s]", who);
	printf("%-10s", prefix);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

#define say(...) say_as(actor_name[st.me], __VA_ARGS__)

static int fail(const char *fmt, ...)
{
	va_list ap;

	printf("[%s] UNEXPECTED: ", actor_name[st.me]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return -1;
}

static const char *type_name(uint64_t type)
{
	switch (type) {
	case BUS1_MESSAGE_TYPE_USER:
		return "message";
	case BUS1_MESSAGE_TYPE_NODE_RELEASE:
		return "NODE_RELEASE";
	case BUS1_MESSAGE_TYPE_HANDLE_RELEASE:
		return "HANDLE_RELEASE";
	}
	return "unknown entry";
}

/*
 * Receive the next entry, waiting up to five seconds for it, and check its
 * type and ID. Returns the message, or NULL after reporting the mismatch.
 */
static struct bus1_msg *expect(uint64_t type, uint64_t id)
{
	struct pollfd p = { .fd = st.fd, .events = POLLIN };
	struct bus1_msg *m = NULL;
	int r;

	if (poll(&p, 1, 5000) != 1) {
		fail("waited for a %s on ID %" PRIu64 ", nothing came",
		     type_name(type), id);
		return NULL;
	}
	r = bus1_msg_recv(st.fd, &m);
	if (r < 0) {
		fail("receiving: %s", strerror(-r));
		return NULL;
	}
	if (bus1_msg_get_type(m) != type || bus1_msg_get_id(m) != id) {
		fail("expected a %s on ID %" PRIu64 ", got a %s on ID %" PRIu64,
		     type_name(type), id, type_name(bus1_msg_get_type(m)),
		     bus1_msg_get_id(m));
		return bus1_msg_free(m);
	}
	return m;
}

static const char *text(const struct bus1_msg *m)
{
	return bus1_msg_get_data(m, NULL);
}

/*
 * Send @data from our peer to @dest, passing on @handle (unless it is
 * BUS1_INVALID) and creating a new node for the receiver (if @new_node).
 */
static int send_msg(uint64_t dest, const char *data, uint64_t handle,
		    uint64_t *new_node)
{
	_cleanup_bus1_msg_builder_ struct bus1_msg_builder *b = NULL;
	int r;

	r = bus1_msg_builder_new(&b);
	if (r >= 0)
		r = bus1_msg_builder_add_data(b, data, strlen(data));
	if (r >= 0 && handle != BUS1_INVALID)
		r = bus1_msg_builder_add_handle(b, handle);
	if (r >= 0 && new_node)
		r = bus1_msg_builder_add_node(b, new_node);
	if (r >= 0)
		r = bus1_msg_builder_send(b, st.fd, 1, &dest);
	return r;
}

static int send_text(uint64_t dest, const char *data, uint64_t handle,
		     uint64_t *new_node)
{
	int r = send_msg(dest, data, handle, new_node);

	return r < 0 ? fail("sending \"%s\": %s", data, strerror(-r)) : 0;
}

/* ---- the steps ---------------------------------------------------------- */

#define STEP_EXIT 1

static int alice_asks_for_a_counter(const char *arg)
{
	if (send_text(st.session_handle, arg, BUS1_INVALID, &st.reply_node))
		return -1;
	say("sends \"%s\" through handle %" PRIu64 " (her session)", arg,
	    st.session_handle);
	say("  the same SEND creates her reply node %" PRIu64
	    " and gives the service a handle to it", st.reply_node);
	return 0;
}

static int service_hands_out_the_counter(const char *arg)
{
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL;
	uint64_t reply;

	m = expect(BUS1_MESSAGE_TYPE_USER, st.session_node);
	if (!m)
		return -1;
	reply = bus1_msg_get_handle(m, 0);
	if (bus1_msg_get_n_handles(m) != 1)
		return fail("the request carries no reply handle");
	say("request on node %" PRIu64 " (alice's session) from uid %" PRIu64
	    ": \"%s\"", bus1_msg_get_id(m), bus1_msg_get_account(m), text(m));
	say("  it carries handle %" PRIu64 ", the way back to alice", reply);

	if (send_text(reply, arg, BUS1_INVALID, &st.counter_node))
		return -1;
	say("replies \"%s\" through handle %" PRIu64 ", creating the counter"
	    " (node %" PRIu64 ") in that SEND", arg, reply, st.counter_node);
	say("  done with the request: freeing it drops reply handle %" PRIu64,
	    reply);
	return 0;
}

static int alice_receives_the_counter(const char *arg)
{
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL, *n = NULL;

	(void)arg;
	m = expect(BUS1_MESSAGE_TYPE_USER, st.reply_node);
	if (!m)
		return -1;
	st.counter_handle = bus1_msg_take_handle(m, 0);
	if (st.counter_handle == BUS1_INVALID)
		return fail("the reply carries no handle");
	say("reply on node %" PRIu64 ": \"%s\"", st.reply_node, text(m));
	say("  she now holds handle %" PRIu64 " to the counter",
	    st.counter_handle);

	n = expect(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, st.reply_node);
	if (!n)
		return -1;
	say("HANDLE_RELEASE for node %" PRIu64 ": no handle to her reply node"
	    " is left; the node is retired", st.reply_node);
	return 0;
}

static int alice_passes_the_counter_to_bob(const char *arg)
{
	if (send_text(st.inbox_handle, arg, st.counter_handle, NULL))
		return -1;
	say("sends \"%s\" through handle %" PRIu64 " (bob's inbox),"
	    " passing on handle %" PRIu64, arg, st.inbox_handle,
	    st.counter_handle);
	return 0;
}

static int bob_receives_the_counter(const char *arg)
{
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL;

	(void)arg;
	m = expect(BUS1_MESSAGE_TYPE_USER, st.inbox_node);
	if (!m)
		return -1;
	st.counter_handle = bus1_msg_take_handle(m, 0);
	if (st.counter_handle == BUS1_INVALID)
		return fail("the message carries no handle");
	say("message on node %" PRIu64 " (his inbox): \"%s\"", st.inbox_node,
	    text(m));
	say("  it brought him his own handle %" PRIu64 " to the counter",
	    st.counter_handle);
	return 0;
}

/* alice or bob: a request through the counter, with a fresh reply node */
static int client_sends_a_request(const char *arg)
{
	if (send_text(st.counter_handle, arg, BUS1_INVALID, &st.reply_node))
		return -1;
	say("sends \"%s\" through handle %" PRIu64 " (the counter),"
	    " with new reply node %" PRIu64, arg, st.counter_handle,
	    st.reply_node);
	return 0;
}

static int service_answers_a_request(const char *arg)
{
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL;
	char answer[64];
	uint64_t reply;
	long add;

	(void)arg;
	m = expect(BUS1_MESSAGE_TYPE_USER, st.counter_node);
	if (!m)
		return -1;
	if (sscanf(text(m), "add %ld", &add) != 1)
		return fail("cannot parse \"%s\"", text(m));
	reply = bus1_msg_get_handle(m, 0);
	st.counter += add;
	say("request on node %" PRIu64 " (the counter) from uid %" PRIu64
	    ": \"%s\"", st.counter_node, bus1_msg_get_account(m), text(m));

	snprintf(answer, sizeof(answer), "counter = %ld", st.counter);
	if (send_text(reply, answer, BUS1_INVALID, NULL))
		return -1;
	say("replies \"%s\" through the handle the request carried (%" PRIu64
	    ")", answer, reply);
	return 0;
}

/* alice or bob: the answer, then the notice that the reply handle is gone */
static int client_gets_the_answer(const char *arg)
{
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL, *n = NULL;

	m = expect(BUS1_MESSAGE_TYPE_USER, st.reply_node);
	if (!m)
		return -1;
	if (strcmp(text(m), arg))
		return fail("expected \"%s\", got \"%s\"", arg, text(m));
	say("reply on node %" PRIu64 ": \"%s\"", st.reply_node, text(m));

	n = expect(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, st.reply_node);
	if (!n)
		return -1;
	say("HANDLE_RELEASE for node %" PRIu64 ": the service dropped the"
	    " reply handle", st.reply_node);
	return 0;
}

static int service_releases_the_counter(const char *arg)
{
	int r;

	(void)arg;
	r = bus1_cmd_release(st.fd, 1, &st.counter_node);
	if (r < 0)
		return fail("releasing node %" PRIu64 ": %s", st.counter_node,
			    strerror(-r));
	say("releases the counter (node %" PRIu64 "); every holder will be"
	    " told", st.counter_node);
	return 0;
}

/* alice or bob: the counter is gone, and the retired ID stays unusable */
static int client_loses_the_counter(const char *arg)
{
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL;
	uint64_t handle;
	int r;

	(void)arg;
	m = expect(BUS1_MESSAGE_TYPE_NODE_RELEASE, st.counter_handle);
	if (!m || !bus1_msg_is_node_release(m, &handle))
		return -1;
	say("NODE_RELEASE for handle %" PRIu64 ": the counter is gone", handle);

	r = send_msg(handle, "add 1", BUS1_INVALID, NULL);
	if (r != -EBADRQC)
		return fail("sending through retired handle %" PRIu64
			    " gave %d", handle, r);
	say("  handle %" PRIu64 " is retired: sending through it fails with"
	    " EBADRQC", handle);
	return 0;
}

static int alice_exits(const char *arg)
{
	(void)arg;
	say("exits; closing her peer drops her handles %" PRIu64 " (session)"
	    " and %" PRIu64 " (bob's inbox)", st.session_handle,
	    st.inbox_handle);
	return STEP_EXIT;
}

/* service or bob: the last handle to one of our nodes went with alice */
static int owner_sees_alice_leave(const char *arg)
{
	uint64_t node = st.me == SERVICE ? st.session_node : st.inbox_node;
	_cleanup_bus1_msg_ struct bus1_msg *m = NULL;

	m = expect(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, node);
	if (!m || !bus1_msg_is_handle_release(m, NULL))
		return -1;
	say("HANDLE_RELEASE for node %" PRIu64 " (%s): its last handle is"
	    " gone, alice has left", node, arg);
	return 0;
}

static int nothing_else_arrived(const char *arg)
{
	struct bus1_msg *m = NULL;
	int r;

	(void)arg;
	r = bus1_msg_recv(st.fd, &m);
	if (r != -EAGAIN) {
		if (r == 0)
			fail("a stray %s on ID %" PRIu64,
			     type_name(bus1_msg_get_type(m)),
			     bus1_msg_get_id(m));
		bus1_msg_free(m);
		return r == 0 ? -1 : fail("receiving: %s", strerror(-r));
	}
	say("queue is empty: nothing else arrived");
	return 0;
}

/* ---- the script --------------------------------------------------------- */

struct step {
	const char *chapter;		/* printed before the step, if set */
	enum actor actor;
	int (*fn)(const char *arg);
	const char *arg;
};

static const struct step script[] = {
	{ "1. The service hands out a capability",
	  ALICE, alice_asks_for_a_counter, "hello, may I have a counter?" },
	{ NULL, SERVICE, service_hands_out_the_counter, "here is your counter" },
	{ NULL, ALICE, alice_receives_the_counter, NULL },

	{ "2. Alice passes it on to a third process",
	  ALICE, alice_passes_the_counter_to_bob, "a counter for you" },
	{ NULL, BOB, bob_receives_the_counter, NULL },

	{ "3. Requests carry their reply node; replies use the carried handle",
	  BOB, client_sends_a_request, "add 5" },
	{ NULL, SERVICE, service_answers_a_request, NULL },
	{ NULL, BOB, client_gets_the_answer, "counter = 5" },
	{ NULL, ALICE, client_sends_a_request, "add 3" },
	{ NULL, SERVICE, service_answers_a_request, NULL },
	{ NULL, ALICE, client_gets_the_answer, "counter = 8" },

	{ "4. The service releases the object: every holder is told",
	  SERVICE, service_releases_the_counter, NULL },
	{ NULL, ALICE, client_loses_the_counter, NULL },
	{ NULL, BOB, client_loses_the_counter, NULL },

	{ "5. A client exits: the owners learn that her handles are gone",
	  ALICE, alice_exits, NULL },
	{ NULL, SERVICE, owner_sees_alice_leave, "alice's session" },
	{ NULL, BOB, owner_sees_alice_leave, "his inbox" },

	{ "6. Nothing else happened",
	  SERVICE, nothing_else_arrived, NULL },
	{ NULL, BOB, nothing_else_arrived, NULL },
};

#define N_STEPS (sizeof(script) / sizeof(script[0]))
#define CMD_QUIT 0xff

/* ---- processes ---------------------------------------------------------- */

/*
 * An actor: read the number of the next step from @cmd, run it, answer with
 * one status byte on @done. Exits when told to, or after an exit step.
 */
static int actor_main(int cmd, int done)
{
	unsigned char i, status;

	while (read(cmd, &i, 1) == 1 && i != CMD_QUIT) {
		int r = i < N_STEPS ? script[i].fn(script[i].arg) : -1;

		status = r < 0 ? 1 : 0;
		if (write(done, &status, 1) != 1 || r < 0)
			return 1;
		if (r == STEP_EXIT)
			return 0;
	}
	return 0;
}

static int setup_peers(int fd[N_ACTORS], uint64_t ids[4])
{
	int r;

	/* alice's session: a node of the service, alice holds a handle */
	r = bus1_node_create(fd[SERVICE], fd[ALICE], &ids[0], &ids[1]);
	if (r < 0)
		return r;
	/* bob's inbox: a node of bob, alice holds a handle */
	return bus1_node_create(fd[BOB], fd[ALICE], &ids[2], &ids[3]);
}

int main(void)
{
	int fd[N_ACTORS], cmd[N_ACTORS][2], done[N_ACTORS][2];
	pid_t pid[N_ACTORS];
	bool alive[N_ACTORS];
	uint64_t ids[4];
	int a, b, r, status, ok = 1;
	size_t i;

	for (a = 0; a < N_ACTORS; ++a) {
		fd[a] = bus1_peer_new();
		if (fd[a] < 0) {
			fprintf(stderr, "bus1-demo: cannot open a peer: %s\n",
				strerror(-fd[a]));
			return 1;
		}
	}
	say_as("setup", "opened three peers: service, alice and bob");
	r = setup_peers(fd, ids);
	if (r < 0) {
		fprintf(stderr, "bus1-demo: TRANSFER failed: %s\n", strerror(-r));
		return 1;
	}
	say_as("setup", "service node %" PRIu64 " is alice's session; alice"
	       " holds handle %" PRIu64 " to it", ids[0], ids[1]);
	say_as("setup", "bob node %" PRIu64 " is bob's inbox; alice holds"
	       " handle %" PRIu64 " to it", ids[2], ids[3]);
	say_as("setup", "(IDs are per peer: equal numbers in two peers name"
	       " unrelated objects)");

	for (a = 0; a < N_ACTORS; ++a) {
		if (pipe(cmd[a]) || pipe(done[a])) {
			perror("bus1-demo: pipe");
			return 1;
		}
	}

	fflush(stdout);
	for (a = 0; a < N_ACTORS; ++a) {
		pid[a] = fork();
		if (pid[a] < 0) {
			perror("bus1-demo: fork");
			return 1;
		}
		if (pid[a] > 0) {
			alive[a] = true;
			continue;
		}

		/* the child keeps its own peer and pipes only */
		for (b = 0; b < N_ACTORS; ++b) {
			if (b != a)
				close(fd[b]);
			close(cmd[b][1]);
			close(done[b][0]);
			if (b != a) {
				close(cmd[b][0]);
				close(done[b][1]);
			}
		}
		st.me = a;
		st.fd = fd[a];
		st.session_node = ids[0];
		st.session_handle = ids[1];
		st.inbox_node = ids[2];
		st.inbox_handle = ids[3];
		exit(actor_main(cmd[a][0], done[a][1]));
	}

	/* the director: no peers, only the other ends of the pipes */
	for (a = 0; a < N_ACTORS; ++a) {
		close(fd[a]);
		close(cmd[a][0]);
		close(done[a][1]);
	}

	for (i = 0; i < N_STEPS && ok; ++i) {
		const struct step *s = &script[i];
		struct pollfd p = { .fd = done[s->actor][0], .events = POLLIN };
		unsigned char n = (unsigned char)i, st_byte = 1;

		if (s->chapter)
			printf("\n== %s ==\n", s->chapter);
		fflush(stdout);

		if (write(cmd[s->actor][1], &n, 1) != 1 ||
		    poll(&p, 1, 10000) != 1 ||
		    read(done[s->actor][0], &st_byte, 1) != 1 || st_byte != 0) {
			ok = 0;
			break;
		}
		if (s->fn == alice_exits) {
			/* her peer is closed once her process is gone */
			if (waitpid(pid[s->actor], &status, 0) != pid[s->actor] ||
			    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
				ok = 0;
			alive[s->actor] = false;
		}
	}

	for (a = 0; a < N_ACTORS; ++a) {
		unsigned char quit = CMD_QUIT;

		if (!alive[a])
			continue;
		if (!ok)
			kill(pid[a], SIGKILL);
		else if (write(cmd[a][1], &quit, 1) != 1)
			ok = 0;
		if (waitpid(pid[a], &status, 0) != pid[a] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ok = 0;
	}

	if (!ok) {
		if (i < N_STEPS)
			printf("\nbus1-demo: FAILED at step %zu of %zu\n", i + 1,
			       N_STEPS);
		else
			printf("\nbus1-demo: FAILED: an actor did not exit cleanly\n");
		return 1;
	}
	printf("\nbus1-demo: all %zu steps happened as expected\n", N_STEPS);
	return 0;
}
