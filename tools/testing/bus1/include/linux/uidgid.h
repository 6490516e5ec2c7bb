/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in: kuid_t as a wrapped uid_t, as in the kernel. */
#ifndef BUS1_TEST_LINUX_UIDGID_H
#define BUS1_TEST_LINUX_UIDGID_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
	uid_t val;
} kuid_t;

struct user_namespace {
	int level;
};

extern struct user_namespace init_user_ns;

#define KUIDT_INIT(value) ((kuid_t){ value })

static inline uid_t __kuid_val(kuid_t uid)
{
	return uid.val;
}

static inline bool uid_eq(kuid_t a, kuid_t b)
{
	return a.val == b.val;
}

static inline bool uid_lt(kuid_t a, kuid_t b)
{
	return a.val < b.val;
}

static inline bool uid_gt(kuid_t a, kuid_t b)
{
	return a.val > b.val;
}

/* every global kuid maps to itself in the initial namespace */
static inline uid_t from_kuid(struct user_namespace *ns, kuid_t uid)
{
	(void)ns;
	return uid.val;
}

#endif
