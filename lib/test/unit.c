// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Host-side unit test of libbus1's buffer and table logic, built with
 * AddressSanitizer and UndefinedBehaviorSanitizer. The library's object
 * layer is compiled in directly; the command layer (the only part that talks
 * to the kernel) is replaced by a small in-memory stand-in that follows the
 * RECV/SEND/RELEASE rules of bus1(7) that the object layer relies on:
 * capacities, EMSGSIZE write-back, the type reset on retry, CREATE
 * write-back, all-or-nothing RELEASE. The same paths run against the real
 * module in the VM tests.
 *
 * Output is TAP; the exit status is non-zero if any check failed.
 */

#include <stdarg.h>
#include <stdio.h>

#include "../src/util.c"
#include "../src/builder.c"
#include "../src/msg.c"
#include "../src/dispatcher.c"

/* ---- reporting ---------------------------------------------------------- */

static int n_checks, n_failed;

#define CHECK(_cond) check((_cond), #_cond, __FILE__, __LINE__)

static bool check(bool ok, const char *what, const char *file, int line)
{
	++n_checks;
	if (!ok) {
		++n_failed;
		printf("# FAILED %s:%d: %s\n", file, line, what);
	}
	return ok;
}

static void section(const char *name, int failed_before)
{
	static int n;

	printf("%sok %d %s\n", n_failed > failed_before ? "not " : "", ++n, name);
}

/* ---- the stand-in command layer ----------------------------------------- */

#define FAKE_FD 100
#define MAX_ENTRIES 64
#define MAX_LIVE 4096

struct fake_entry {
	uint64_t type, id, account;
	unsigned char *data;
	size_t n_data;
	uint64_t transfers[128];
	size_t n_transfers;
	bool stale_after_emsgsize;	/* becomes stale once it was too big */
	bool always_emsgsize;		/* a broken kernel: never fits */
	bool stale;
};

static struct {
	struct fake_entry e[MAX_ENTRIES];
	size_t head, n;
	uint64_t next_id;
	uint64_t live[MAX_LIVE];	/* installed IDs */
	size_t n_live;
	int recv_calls, send_calls, release_calls;

	/* last SEND */
	unsigned char sent[1 << 16];
	size_t n_sent;
	size_t n_sent_vecs;
	struct bus1_transfer sent_transfers[64];
	size_t n_sent_transfers;
	int send_error;			/* injected */
} fake;

static void fake_reset(void)
{
	size_t i;

	for (i = 0; i < fake.n; ++i)
		free(fake.e[i].data);
	memset(&fake, 0, sizeof(fake));
	fake.next_id = 1001;
}

static bool fake_is_live(uint64_t id)
{
	size_t i;

	for (i = 0; i < fake.n_live; ++i)
		if (fake.live[i] == id)
			return true;
	return false;
}

static void fake_install(uint64_t id)
{
	if (fake.n_live < MAX_LIVE)
		fake.live[fake.n_live++] = id;
}

static struct fake_entry *fake_push(uint64_t type, uint64_t id, size_t n_data,
				    size_t n_transfers)
{
	struct fake_entry *e = &fake.e[fake.n++];
	size_t i;

	*e = (struct fake_entry){ .type = type, .id = id,
				  .account = type ? BUS1_INVALID : 1000,
				  .n_data = n_data, .n_transfers = n_transfers };
	e->data = malloc(n_data ? n_data : 1);
	for (i = 0; i < n_data; ++i)
		e->data[i] = (unsigned char)(i * 13 + n_data);
	for (i = 0; i < n_transfers; ++i)
		e->transfers[i] = fake.next_id, fake.next_id += 2;
	return e;
}

int bus1_peer_new(void)
{
	return FAKE_FD;
}

void bus1_peer_closep(int *fdp)
{
	*fdp = -1;
}

int bus1_cmd_recv(int fd, struct bus1_metadata *meta, struct bus1_message *m)
{
	const struct iovec *iov = BUS1_TO_PTR(m->ptr_data_vecs);
	struct bus1_transfer *t = BUS1_TO_PTR(m->ptr_transfers);
	struct fake_entry *e;
	size_t i, total = 0, off = 0;

	++fake.recv_calls;
	if (fd != FAKE_FD)
		return -EBADF;
	if (m->flags || m->type != BUS1_INVALID)
		return -EINVAL;

	while (fake.head < fake.n && fake.e[fake.head].stale)
		++fake.head;
	if (fake.head >= fake.n)
		return -EAGAIN;
	e = &fake.e[fake.head];

	*meta = (struct bus1_metadata){ 0, e->id, e->account };
	if (e->type == BUS1_MESSAGE_TYPE_USER) {
		for (i = 0; i < m->n_data_vecs; ++i)
			total += iov[i].iov_len;
		if (e->n_transfers > m->n_transfers || e->n_data > m->n_data ||
		    total < m->n_data || e->always_emsgsize) {
			m->type = e->type;
			m->n_transfers = e->n_transfers;
			m->n_data = e->n_data;
			if (e->stale_after_emsgsize)
				e->stale = true;
			return -EMSGSIZE;
		}
		for (i = 0; i < e->n_transfers; ++i) {
			t[i] = (struct bus1_transfer){ 0, e->transfers[i] };
			fake_install(e->transfers[i]);
		}
		for (i = 0; off < e->n_data; ++i) {
			size_t n = iov[i].iov_len;

			if (n > e->n_data - off)
				n = e->n_data - off;
			memcpy(iov[i].iov_base, e->data + off, n);
			off += n;
		}
	}
	m->type = e->type;
	m->n_transfers = e->type ? 0 : e->n_transfers;
	m->n_data = e->type ? 0 : e->n_data;
	++fake.head;
	return 0;
}

int bus1_cmd_release(int fd, size_t n, const uint64_t *ids)
{
	size_t i, j;

	++fake.release_calls;
	if (fd != FAKE_FD)
		return -EBADF;
	for (i = 0; i < n; ++i)
		if (!fake_is_live(ids[i]))
			return -EBADRQC;
	for (i = 0; i < n; ++i)
		for (j = 0; j < fake.n_live; ++j)
			if (fake.live[j] == ids[i]) {
				fake.live[j] = fake.live[--fake.n_live];
				break;
			}
	return 0;
}

int bus1_cmd_send(int fd, size_t n_dest, const uint64_t *dest, int32_t *errors,
		  struct bus1_message *m)
{
	const struct iovec *iov = BUS1_TO_PTR(m->ptr_data_vecs);
	struct bus1_transfer *t = BUS1_TO_PTR(m->ptr_transfers);
	size_t i, total = 0, off = 0;

	++fake.send_calls;
	if (fd != FAKE_FD)
		return -EBADF;
	if (m->flags || m->type != BUS1_MESSAGE_TYPE_USER)
		return -EINVAL;
	if (m->n_data_vecs > 1024)
		return -EINVAL;
	for (i = 0; i < m->n_data_vecs; ++i)
		total += iov[i].iov_len;
	if (total < m->n_data)
		return -EMSGSIZE;
	for (i = 0; i < m->n_transfers; ++i) {
		if (t[i].flags & ~BUS1_TRANSFER_FLAG_CREATE)
			return -EINVAL;
		if ((t[i].flags & BUS1_TRANSFER_FLAG_CREATE) &&
		    t[i].id != BUS1_INVALID)
			return -EINVAL;
		if (!(t[i].flags & BUS1_TRANSFER_FLAG_CREATE) &&
		    !(t[i].id & BUS1_MANAGED))
			return -EBADRQC;
	}
	for (i = 0; i < n_dest; ++i)
		if (!(dest[i] & BUS1_MANAGED))
			return -EBADRQC;
	if (fake.send_error)
		return fake.send_error;

	/* only the first n_data bytes count */
	fake.n_sent_vecs = m->n_data_vecs;
	for (i = 0; off < m->n_data; ++i) {
		size_t n = iov[i].iov_len;

		if (n > m->n_data - off)
			n = m->n_data - off;
		if (off + n <= sizeof(fake.sent))
			memcpy(fake.sent + off, iov[i].iov_base, n);
		off += n;
	}
	fake.n_sent = m->n_data;
	fake.n_sent_transfers = m->n_transfers;
	for (i = 0; i < m->n_transfers && i < 64; ++i)
		fake.sent_transfers[i] = t[i];
	for (i = 0; i < m->n_transfers; ++i)
		if (t[i].flags & BUS1_TRANSFER_FLAG_CREATE)
			t[i] = (struct bus1_transfer){ 0, fake.next_id },
			fake.next_id += 2;
	for (i = 0; i < n_dest; ++i)
		errors[i] = 0;
	return 0;
}

/* ---- builder ------------------------------------------------------------ */

static void test_builder(void)
{
	int before = n_failed;
	struct bus1_msg_builder *b = NULL;
	static unsigned char ref[40000], expect[1 << 16];
	size_t n_expect = 0, i;
	uint64_t node1 = 0, node2 = 0, dest = 7;

	fake_reset();
	for (i = 0; i < sizeof(ref); ++i)
		ref[i] = (unsigned char)(i * 31);

	CHECK(bus1_msg_builder_new(&b) == 0);

	/* random mix of copies and references; the arena moves while growing */
	srand(1);
	for (i = 0; i < 800; ++i) {
		size_t off = (size_t)rand() % 30000, len = (size_t)rand() % 17;

		if (rand() % 2)
			CHECK(bus1_msg_builder_add_data(b, ref + off, len) == 0);
		else
			CHECK(bus1_msg_builder_add_data_ref(b, ref + off, len) == 0);
		memcpy(expect + n_expect, ref + off, len);
		n_expect += len;
	}
	CHECK(b->n_data == n_expect);
	CHECK(bus1_msg_builder_send(b, FAKE_FD, 1, &dest) == 0);
	CHECK(fake.n_sent == n_expect && !memcmp(fake.sent, expect, n_expect));
	CHECK(fake.n_sent_vecs == b->n_segs && b->n_segs < 800);

	/* adjacent copies and adjacent references merge */
	bus1_msg_builder_reset(b);
	CHECK(bus1_msg_builder_add_data(b, "ab", 2) == 0);
	CHECK(bus1_msg_builder_add_data(b, "cd", 2) == 0);
	CHECK(bus1_msg_builder_add_data_ref(b, ref, 10) == 0);
	CHECK(bus1_msg_builder_add_data_ref(b, ref + 10, 10) == 0);
	CHECK(bus1_msg_builder_add_data_ref(b, ref + 30, 1) == 0);
	CHECK(bus1_msg_builder_add_data(b, "e", 1) == 0);
	CHECK(b->n_segs == 4);
	CHECK(bus1_msg_builder_send(b, FAKE_FD, 1, &dest) == 0);
	CHECK(fake.n_sent == 26 && fake.n_sent_vecs == 4);
	CHECK(!memcmp(fake.sent, "abcd", 4));
	CHECK(!memcmp(fake.sent + 4, ref, 20));
	CHECK(fake.sent[24] == ref[30] && fake.sent[25] == 'e');

	/* handles and CREATE: the recipe survives a send */
	bus1_msg_builder_reset(b);
	CHECK(bus1_msg_builder_add_handle(b, 5) == 0);
	CHECK(bus1_msg_builder_add_node(b, &node1) == 0);
	CHECK(bus1_msg_builder_add_node(b, NULL) == 0);
	CHECK(bus1_msg_builder_add_node(b, &node2) == 0);
	CHECK(bus1_msg_builder_send(b, FAKE_FD, 1, &dest) == 0);
	CHECK(fake.n_sent_transfers == 4);
	CHECK(fake.sent_transfers[0].flags == 0 && fake.sent_transfers[0].id == 5);
	CHECK(fake.sent_transfers[1].flags == BUS1_TRANSFER_FLAG_CREATE &&
	      fake.sent_transfers[1].id == BUS1_INVALID);
	CHECK(node1 == 1001 && node2 == 1005);
	CHECK(bus1_msg_builder_send(b, FAKE_FD, 1, &dest) == 0);
	CHECK(fake.sent_transfers[1].flags == BUS1_TRANSFER_FLAG_CREATE);
	CHECK(node1 == 1007 && node2 == 1011);

	/* a failed send writes nothing back */
	fake.send_error = -EDQUOT;
	CHECK(bus1_msg_builder_send(b, FAKE_FD, 1, &dest) == -EDQUOT);
	CHECK(node1 == 1007 && node2 == 1011);
	fake.send_error = 0;

	/* many destinations: the errors array grows */
	{
		static uint64_t dests[5000];

		for (i = 0; i < 5000; ++i)
			dests[i] = 2 * i + 1;
		CHECK(bus1_msg_builder_send(b, FAKE_FD, 5000, dests) == 0);
		CHECK(b->cap_errors >= 5000);
		CHECK(bus1_msg_builder_send(b, FAKE_FD, 0, NULL) == 0);
	}

	/* huge sizes are refused before anything overflows */
	bus1_msg_builder_reset(b);
	CHECK(bus1_msg_builder_add_data_ref(b, ref, SIZE_MAX - 1) == 0);
	CHECK(bus1_msg_builder_add_data_ref(b, ref, 2) == -EMSGSIZE);
	CHECK(bus1_msg_builder_add_data(b, "xy", 2) == -EMSGSIZE);
	CHECK(b->n_data == SIZE_MAX - 1);

	bus1_msg_builder_free(b);
	section("builder", before);
}

/* ---- received messages -------------------------------------------------- */

static bool entry_matches(const struct bus1_msg *m, const struct fake_entry *e)
{
	size_t size, i;
	const unsigned char *d = bus1_msg_get_data(m, &size);

	if (bus1_msg_get_type(m) != e->type || bus1_msg_get_id(m) != e->id ||
	    bus1_msg_get_account(m) != e->account)
		return false;
	if (e->type != BUS1_MESSAGE_TYPE_USER)
		return size == 0 && bus1_msg_get_n_handles(m) == 0 && d && !d[0];
	if (size != e->n_data || memcmp(d, e->data, size) || d[size] != 0)
		return false;
	if (bus1_msg_get_n_handles(m) != e->n_transfers)
		return false;
	for (i = 0; i < e->n_transfers; ++i)
		if (bus1_msg_get_handle(m, i) != e->transfers[i])
			return false;
	return true;
}

static void test_recv(void)
{
	static const size_t sizes[] = { 0, 1, 2047, 2048, 2049, 100000 };
	static const size_t counts[] = { 0, 1, 8, 9, 128 };
	int before = n_failed;
	struct bus1_msg *m;
	struct fake_entry *e;
	size_t i, j;
	int calls;

	/* every size against the inline buffer's limits */
	for (i = 0; i < BUS1_ARRAY_SIZE(sizes); ++i) {
		for (j = 0; j < BUS1_ARRAY_SIZE(counts); ++j) {
			fake_reset();
			e = fake_push(BUS1_MESSAGE_TYPE_USER, 3, sizes[i],
				      counts[j]);
			CHECK(bus1_msg_recv(FAKE_FD, &m) == 0);
			CHECK(entry_matches(m, e));
			/* one call if it fits inline, two otherwise */
			calls = sizes[i] <= 2048 && counts[j] <= 8 ? 1 : 2;
			CHECK(fake.recv_calls == calls);
			CHECK(fake.n_live == counts[j]);
			bus1_msg_free(m);
			/* freeing released exactly the installed handles */
			CHECK(fake.n_live == 0);
			CHECK(bus1_msg_recv(FAKE_FD, &m) == -EAGAIN);
		}
	}

	/* the head turns stale after EMSGSIZE; the next entry is bigger */
	fake_reset();
	fake_push(BUS1_MESSAGE_TYPE_USER, 3, 5000, 0)->stale_after_emsgsize = true;
	e = fake_push(BUS1_MESSAGE_TYPE_USER, 5, 9000, 20);
	e->stale_after_emsgsize = false;
	CHECK(bus1_msg_recv(FAKE_FD, &m) == 0);
	CHECK(entry_matches(m, e));
	CHECK(fake.recv_calls == 3);
	bus1_msg_free(m);

	/* ... or smaller: received into the larger allocation */
	fake_reset();
	fake_push(BUS1_MESSAGE_TYPE_USER, 3, 5000, 0)->stale_after_emsgsize = true;
	e = fake_push(BUS1_MESSAGE_TYPE_USER, 5, 10, 1);
	CHECK(bus1_msg_recv(FAKE_FD, &m) == 0);
	CHECK(entry_matches(m, e));
	bus1_msg_free(m);

	/* EMSGSIZE although the buffers are big enough: no endless loop */
	fake_reset();
	fake_push(BUS1_MESSAGE_TYPE_USER, 3, 10, 0)->always_emsgsize = true;
	m = (struct bus1_msg *)&m;
	CHECK(bus1_msg_recv(FAKE_FD, &m) == -EMSGSIZE);
	CHECK(m == (struct bus1_msg *)&m);
	CHECK(fake.recv_calls == 1);
	fake.e[0].n_data = 5000;
	CHECK(bus1_msg_recv(FAKE_FD, &m) == -EMSGSIZE);
	CHECK(fake.recv_calls == 3);

	/* notifications */
	fake_reset();
	e = fake_push(BUS1_MESSAGE_TYPE_NODE_RELEASE, 9, 0, 0);
	CHECK(bus1_msg_recv(FAKE_FD, &m) == 0);
	CHECK(entry_matches(m, e));
	CHECK(bus1_msg_is_node_release(m, NULL));
	bus1_msg_free(m);
	CHECK(fake.release_calls == 0);

	/* take keeps a handle; free releases the others in one call */
	fake_reset();
	e = fake_push(BUS1_MESSAGE_TYPE_USER, 3, 1, 4);
	CHECK(bus1_msg_recv(FAKE_FD, &m) == 0);
	CHECK(bus1_msg_take_handle(m, 2) == e->transfers[2]);
	CHECK(bus1_msg_get_handle(m, 2) == BUS1_INVALID);
	bus1_msg_free(m);
	CHECK(fake.release_calls == 1);
	CHECK(fake.n_live == 1 && fake.live[0] == e->transfers[2]);

	/* one released behind the message's back: one by one */
	fake_reset();
	e = fake_push(BUS1_MESSAGE_TYPE_USER, 3, 1, 3);
	CHECK(bus1_msg_recv(FAKE_FD, &m) == 0);
	CHECK(bus1_cmd_release(FAKE_FD, 1, &e->transfers[1]) == 0);
	bus1_msg_free(m);
	CHECK(fake.n_live == 0);
	CHECK(fake.release_calls == 1 + 1 + 3);

	fake_reset();
	section("recv", before);
}

/* ---- dispatcher --------------------------------------------------------- */

static int count_fn(struct bus1_dispatcher *d, struct bus1_msg *m, void *u)
{
	(void)d;
	(void)m;
	++*(int *)u;
	return 0;
}

static void test_dispatcher_table(void)
{
	enum { N = 20000 };
	static bool present[N];
	int before = n_failed, dummy = 0, r;
	struct bus1_dispatcher *d;
	size_t i, n = 0;

	CHECK(bus1_dispatcher_new(&d, -1) == 0);
	CHECK(bus1_dispatcher_get_fd(d) == FAKE_FD);

	/* random adds and removes checked against a reference set */
	srand(2);
	for (i = 0; i < 400000; ++i) {
		size_t k = (size_t)rand() % N;
		/* sequential IDs and scattered large ones */
		uint64_t id = k % 2 ? 2 * k + 1 : (((uint64_t)k << 40) | 1);

		if (rand() % 3) {
			r = bus1_dispatcher_add_node(d, id, count_fn, &dummy);
			CHECK(r == (present[k] ? -EEXIST : 0));
			if (!present[k])
				++n;
			present[k] = true;
		} else {
			r = bus1_dispatcher_remove(d, id);
			CHECK(r == (present[k] ? 0 : -ENOENT));
			if (present[k])
				--n;
			present[k] = false;
		}
	}
	CHECK(d->n_regs == n);
	for (i = 0; i < N; ++i) {
		uint64_t id = i % 2 ? 2 * i + 1 : (((uint64_t)i << 40) | 1);

		CHECK((bus1_reg_find(d, id) != NULL) == present[i]);
	}
	bus1_dispatcher_free(d);

	/* small tables, where probe runs wrap around the end all the time */
	for (i = 0; i < 3000; ++i) {
		uint64_t ids[8];
		bool in[8] = { false };
		size_t k, op;

		CHECK(bus1_dispatcher_new(&d, -1) == 0);
		for (k = 0; k < 8; ++k)
			ids[k] = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 1) ^ 1;
		for (op = 0; op < 100; ++op) {
			k = (size_t)rand() % 8;
			if (rand() % 2) {
				CHECK(bus1_dispatcher_add_node(d, ids[k], count_fn,
							       &dummy) ==
				      (in[k] ? -EEXIST : 0));
				in[k] = true;
			} else {
				CHECK(bus1_dispatcher_remove(d, ids[k]) ==
				      (in[k] ? 0 : -ENOENT));
				in[k] = false;
			}
			for (k = 0; k < 8; ++k)
				CHECK((bus1_reg_find(d, ids[k]) != NULL) == in[k]);
		}
		bus1_dispatcher_free(d);
	}
	section("dispatcher table", before);
}

static void test_dispatcher_routing(void)
{
	int before = n_failed, on_node = 0, on_handle = 0, on_fallback = 0;
	struct bus1_dispatcher *d;

	fake_reset();
	CHECK(bus1_dispatcher_new(&d, -1) == 0);
	CHECK(bus1_dispatcher_add_node(d, 3, count_fn, &on_node) == 0);
	CHECK(bus1_dispatcher_add_handle(d, 5, count_fn, &on_handle) == 0);

	fake_push(BUS1_MESSAGE_TYPE_USER, 3, 10, 2);
	fake_push(BUS1_MESSAGE_TYPE_USER, 5, 10, 0);	/* 5 is a handle */
	fake_push(BUS1_MESSAGE_TYPE_NODE_RELEASE, 3, 0, 0);	/* 3 is a node */
	fake_push(BUS1_MESSAGE_TYPE_USER, 7, 0, 1);
	fake_push(BUS1_MESSAGE_TYPE_NODE_RELEASE, 5, 0, 0);
	fake_push(BUS1_MESSAGE_TYPE_HANDLE_RELEASE, 3, 0, 0);
	fake_push(42, 3, 0, 0);				/* unknown type */
	CHECK(bus1_dispatcher_dispatch(d) == 0 + 7);
	CHECK(on_node == 2 && on_handle == 1);
	CHECK(fake.n_live == 0);	/* dropped and routed: all released */
	CHECK(d->n_regs == 0);		/* both notifications retired theirs */

	bus1_dispatcher_set_fallback(d, count_fn, &on_fallback);
	fake_reset();
	fake_push(BUS1_MESSAGE_TYPE_USER, 3, 0, 0);
	fake_push(42, 3, 0, 0);
	CHECK(bus1_dispatcher_dispatch(d) == 2);
	CHECK(on_fallback == 2);

	bus1_dispatcher_free(d);
	fake_reset();
	section("dispatcher routing", before);
}

int main(void)
{
	printf("TAP version 13\n1..4\n");
	test_builder();
	test_recv();
	test_dispatcher_table();
	test_dispatcher_routing();
	printf("# %d checks, %d failed\n", n_checks, n_failed);
	return n_failed ? 1 : 0;
}
