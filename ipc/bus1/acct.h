/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __BUS1_ACCT_H
#define __BUS1_ACCT_H

/**
 * DOC: Resource accounting
 *
 * Every device instance owns one &struct bus1_acct: the two per-user limits
 * (slot BUS1_ACCT_OBJECTS counts objects, slot BUS1_ACCT_BYTES counts payload
 * bytes) and the table of users. A user (&struct bus1_acct_user) exists per
 * effective UID (global kuid value) while some peer or some charge refers to
 * it, and starts with its whole limit available.
 *
 * A charge is made against a user on behalf of a claimant actor (the peer
 * whose operation causes it). Inside the charged user, the claim is recorded
 * in a quota per claimant UID and, below it, in a trace per claimant actor.
 * A claimant UID may use only a quasi-linearly shrinking share of what the
 * user has left (the more UIDs hold charges, the smaller each share), and a
 * claimant actor only half of what its quota has left plus its own share.
 * Quotas and traces exist exactly as long as a charge references them.
 *
 * A charge is the triple {trace, objects, bytes}: bus1_acct_charge() returns
 * the trace and the caller keeps the amounts; bus1_acct_discharge() with the
 * same triple returns them. A charge stays valid after the claimant and all
 * peers of the charged user are gone.
 *
 * Locking: the root has a mutex protecting its user table, every user a
 * mutex protecting the user and all of its quotas and traces. Both are
 * leaves: no other lock is ever taken while one is held, and at most one of
 * them is held at a time. Both may sleep.
 */

#include <linux/types.h>
#include <linux/uidgid.h>

struct seq_file;

/* accounting slots; a charge has one amount per slot */
enum {
	BUS1_ACCT_OBJECTS,
	BUS1_ACCT_BYTES,
	BUS1_ACCT_N,
};

struct bus1_acct;
struct bus1_acct_user;
struct bus1_acct_trace;

/**
 * struct bus1_acct_actor - claimant identity of one peer
 * @user:	the user of the peer's UID (holds a reference)
 * @id:		actor ID, unique per device instance and never reused
 *
 * Embedded in every peer. Charges caused by the peer name it as claimant;
 * its own objects are charged to @user.
 */
struct bus1_acct_actor {
	struct bus1_acct_user *user;
	u64 id;
};

struct bus1_acct *bus1_acct_new(u64 max_objects, u64 max_bytes);
void bus1_acct_free(struct bus1_acct *acct);

int bus1_acct_actor_init(struct bus1_acct_actor *actor, struct bus1_acct *acct,
			 kuid_t uid);
void bus1_acct_actor_deinit(struct bus1_acct_actor *actor);

int bus1_acct_charge(struct bus1_acct_user *user,
		     struct bus1_acct_actor *claimant,
		     u64 objects, u64 bytes, struct bus1_acct_trace **tracep);
void bus1_acct_discharge(struct bus1_acct_trace *trace, u64 objects, u64 bytes);

void bus1_acct_dump(struct seq_file *m, struct bus1_acct *acct);

#endif /* __BUS1_ACCT_H */
