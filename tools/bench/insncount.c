// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin counting executed guest instructions per translation
 * block start address: "-plugin libinsncount.so,out=FILE".
 *
 * Only instructions inside marked windows count. The guest opens and
 * closes a window by executing "xchg %bx,%bx" (bytes 66 87 db, a no-op
 * nothing else uses): odd executions open, even ones close. At exit FILE
 * gets one line "ADDRESS INSTRUCTIONS" (hex, decimal) per address that ran
 * inside a window; every user-space address is summed into address 0.
 * Without any marker the whole run counts. insnreport.py maps the addresses
 * to kernel functions.
 *
 * A block is counted when it starts, so the block holding an opening
 * marker is not counted and the one holding a closing marker is: a few
 * user-space instructions per window. Concurrent vCPUs may rarely lose an
 * increment.
 *
 * The few plugin API declarations used are written out here, as QEMU's
 * header is not packaged; they follow QEMU's documented plugin API
 * (version 1, QEMU 7.x).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_info_t;

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

/* Kernel addresses start here on x86-64 (canonical upper half). */
#define KERNEL_START 0xffff800000000000ull
#define SLOTS (1u << 22)

struct slot {
	uint64_t addr;		/* block start, 0 = user space; ~0 = free */
	uint64_t insns;		/* instructions executed from such blocks */
};

/* One translated block: where its count goes and its length. */
struct block {
	struct slot *slot;
	uint64_t n_insns;
};

static const unsigned char marker[] = { 0x66, 0x87, 0xdb };

static struct slot *slots;
static unsigned long markers;	/* markers executed so far */
static volatile int counting = 1;	/* until the first marker */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char out_path[4096];

/* Find or claim the slot of @addr; slots never move once handed out. */
static struct slot *slot_get(uint64_t addr)
{
	uint64_t h = addr * 0x9e3779b97f4a7c15ull;
	uint32_t i = (uint32_t)(h >> 42) & (SLOTS - 1), n;

	for (n = 0; n < SLOTS; ++n, i = (i + 1) & (SLOTS - 1)) {
		if (slots[i].addr == addr)
			return &slots[i];
		if (slots[i].addr == ~0ull) {
			slots[i].addr = addr;
			return &slots[i];
		}
	}
	return NULL;
}

static void write_counts(void)
{
	FILE *f = fopen(out_path, "w");
	uint32_t i;

	if (!f) {
		perror(out_path);
		return;
	}
	for (i = 0; i < SLOTS; ++i)
		if (slots[i].addr != ~0ull && slots[i].insns)
			fprintf(f, "%llx %llu\n",
				(unsigned long long)slots[i].addr,
				(unsigned long long)slots[i].insns);
	fclose(f);
}

static void on_marker(unsigned int vcpu, void *userdata)
{
	uint32_t i;

	(void)vcpu;
	(void)userdata;
	pthread_mutex_lock(&lock);
	if (++markers == 1) {
		/* forget everything before the first window */
		for (i = 0; i < SLOTS; ++i)
			slots[i].insns = 0;
	}
	counting = markers & 1;
	pthread_mutex_unlock(&lock);
}

static void on_block(unsigned int vcpu, void *userdata)
{
	struct block *b = userdata;

	(void)vcpu;
	if (counting)
		b->slot->insns += b->n_insns;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t addr = qemu_plugin_tb_vaddr(tb);
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	struct qemu_plugin_insn *insn;
	struct block *b;

	(void)id;
	if (addr < KERNEL_START) {
		addr = 0;
		for (i = 0; i < n; ++i) {
			insn = qemu_plugin_tb_get_insn(tb, i);
			if (qemu_plugin_insn_size(insn) == sizeof(marker) &&
			    !memcmp(qemu_plugin_insn_data(insn), marker,
				    sizeof(marker)))
				qemu_plugin_register_vcpu_insn_exec_cb(
					insn, on_marker,
					QEMU_PLUGIN_CB_NO_REGS, NULL);
		}
	}
	/* blocks are translated again and again: never freed, kept small */
	b = malloc(sizeof(*b));
	if (!b)
		return;
	pthread_mutex_lock(&lock);
	b->slot = slot_get(addr);
	pthread_mutex_unlock(&lock);
	b->n_insns = n;
	if (b->slot)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block,
						     QEMU_PLUGIN_CB_NO_REGS, b);
	else
		free(b);
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
	(void)id;
	(void)userdata;
	pthread_mutex_lock(&lock);
	write_counts();
	pthread_mutex_unlock(&lock);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
			       const struct qemu_info_t *info, int argc,
			       char **argv)
{
	int i;

	(void)info;
	for (i = 0; i < argc; ++i)
		if (!strncmp(argv[i], "out=", 4))
			snprintf(out_path, sizeof(out_path), "%s", argv[i] + 4);
	if (!out_path[0]) {
		fprintf(stderr, "insncount: out=FILE is required\n");
		return -1;
	}
	slots = malloc(SLOTS * sizeof(*slots));
	if (!slots)
		return -1;
	memset(slots, 0xff, SLOTS * sizeof(*slots));
	for (i = 0; i < (int)SLOTS; ++i)
		slots[i].insns = 0;
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
