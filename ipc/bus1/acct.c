// SPDX-License-Identifier: GPL-2.0
/*
 * Resource accounting: per-UID limits with a fair share per claimant UID and
 * per claimant peer. See acct.h for the model and
 * Documentation/bus1/accounting.rst for what is charged.
 *
 * Lock order: the root mutex (bus1_acct.lock) and the user mutexes
 * (bus1_acct_user.lock) are leaves. Neither is ever held while the other is
 * taken, and no other lock is taken under them.
 */

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include "acct.h"

/**
 * struct bus1_acct - accounting root of one device instance
 * @lock:	protects @users
 * @users:	users by UID (protected by @lock)
 * @actor_ids:	last actor ID handed out
 * @limits:	initial claim of every user, per slot (constant)
 */
struct bus1_acct {
	struct mutex lock;
	struct rb_root users;
	atomic64_t actor_ids;
	u64 limits[BUS1_ACCT_N];
};

/**
 * struct bus1_acct_user - resource context of one UID
 * @acct:	root this user belongs to (constant; the root outlives it)
 * @ref:	references: one per actor, one per quota
 * @uid:	the UID (constant)
 * @rb:		link in @acct->users (protected by @acct->lock)
 * @lock:	protects everything below and all quotas and traces of the user
 * @available:	what the user has not handed to any quota, per slot
 * @n_quotas:	number of quotas in @quotas
 * @quotas:	quotas by claimant UID
 */
struct bus1_acct_user {
	struct bus1_acct *acct;
	refcount_t ref;
	kuid_t uid;
	struct rb_node rb;
	struct mutex lock;
	u64 available[BUS1_ACCT_N];
	u64 n_quotas;
	struct rb_root quotas;
};

/**
 * struct bus1_acct_quota - claim of one claimant UID on a user
 * @user:	charged user (constant; holds a reference)
 * @uid:	claimant UID (constant)
 * @rb:		link in @user->quotas
 * @claimed:	what the quota got from the user, per slot
 * @available:	part of @claimed no trace holds (the quota's reserve)
 * @n_traces:	number of traces in @traces
 * @traces:	traces by actor ID
 *
 * All fields but the constant ones are protected by @user->lock. The quota
 * exists while it has a trace.
 */
struct bus1_acct_quota {
	struct bus1_acct_user *user;
	kuid_t uid;
	struct rb_node rb;
	u64 claimed[BUS1_ACCT_N];
	u64 available[BUS1_ACCT_N];
	u64 n_traces;
	struct rb_root traces;
};

/**
 * struct bus1_acct_trace - claim of one claimant actor inside a quota
 * @quota:	quota the trace belongs to (constant)
 * @actor_id:	claimant actor ID (constant)
 * @rb:		link in @quota->traces
 * @claimed:	sum of the amounts of all charges on the trace, per slot
 * @n_charges:	number of charges referencing the trace
 *
 * All fields but the constant ones are protected by the user lock. The trace
 * exists while a charge references it; it never keeps spare resources.
 */
struct bus1_acct_trace {
	struct bus1_acct_quota *quota;
	u64 actor_id;
	struct rb_node rb;
	u64 claimed[BUS1_ACCT_N];
	u64 n_charges;
};

/**
 * bus1_acct_ceil_log2() - ceil(log2(v))
 * @v:		value
 *
 * Return: 0 for @v <= 1, else the bit length of @v - 1.
 */
static u64 bus1_acct_ceil_log2(u64 v)
{
	return v <= 1 ? 0 : fls64(v - 1);
}

/**
 * bus1_acct_ql() - quasilinear allocator A_ql(n)
 * @n:		number of quotas of the user, the claimant's included
 * @res:	output: (n + 1) * ceil_log2(n + 1) + (n + 1)
 *
 * A foreign claimant UID may use 1 / A_ql(n) of what the user has left.
 *
 * Return: true on overflow (@res is not written), else false.
 */
static bool bus1_acct_ql(u64 n, u64 *res)
{
	u64 n1, v;

	if (check_add_overflow(n, (u64)1, &n1) ||
	    check_mul_overflow(n1, bus1_acct_ceil_log2(n1), &v) ||
	    check_add_overflow(v, n1, &v))
		return true;
	*res = v;
	return false;
}

/**
 * bus1_acct_reserve() - what a level must have left to grant a request
 * @a:		allocator value at this level
 * @share:	what the claimant already holds at this level
 * @amount:	requested amount
 * @res:	output: (amount + share) * a - share
 *
 * The request passes the level if @res is at most what the level has left,
 * that is, if the claimant's whole share afterwards is at most 1 / @a of
 * what is left plus its share.
 *
 * Return: true on overflow (@res is not written; the caller denies), else
 * false.
 */
static bool bus1_acct_reserve(u64 a, u64 share, u64 amount, u64 *res)
{
	u64 v;

	if (check_add_overflow(amount, share, &v) ||
	    check_mul_overflow(v, a, &v) ||
	    check_sub_overflow(v, share, &v))
		return true;
	*res = v;
	return false;
}

/**
 * bus1_acct_new() - create an accounting root
 * @max_objects:	OBJECTS limit of every user
 * @max_bytes:		BYTES limit of every user
 *
 * Context: process context, may sleep.
 * Return: the new root, or ERR_PTR(-ENOMEM).
 */
struct bus1_acct *bus1_acct_new(u64 max_objects, u64 max_bytes)
{
	struct bus1_acct *acct;

	acct = kzalloc(sizeof(*acct), GFP_KERNEL);
	if (!acct)
		return ERR_PTR(-ENOMEM);

	mutex_init(&acct->lock);
	acct->users = RB_ROOT;
	atomic64_set(&acct->actor_ids, 0);
	acct->limits[BUS1_ACCT_OBJECTS] = max_objects;
	acct->limits[BUS1_ACCT_BYTES] = max_bytes;
	return acct;
}

/**
 * bus1_acct_free() - destroy an accounting root
 * @acct:	root to destroy, or NULL
 *
 * Every actor must have been deinitialised and every charge discharged, so
 * no user is left.
 *
 * Context: process context, may sleep.
 */
void bus1_acct_free(struct bus1_acct *acct)
{
	if (!acct)
		return;

	WARN_ON_ONCE(!RB_EMPTY_ROOT(&acct->users));
	mutex_destroy(&acct->lock);
	kfree(acct);
}

/**
 * bus1_acct_user_ref() - take another reference on a user
 * @user:	user, with a reference held by the caller or under the root
 *		lock while linked
 */
static void bus1_acct_user_ref(struct bus1_acct_user *user)
{
	refcount_inc(&user->ref);
}

/**
 * bus1_acct_user_unref() - drop a user reference
 * @user:	user
 *
 * The last reference unlinks and frees the user; by then it has no quota.
 *
 * Context: process context, no accounting lock held. May take the root lock.
 */
static void bus1_acct_user_unref(struct bus1_acct_user *user)
{
	struct bus1_acct *acct = user->acct;

	/* the root lock keeps lookups from finding a user on its way out */
	if (!refcount_dec_and_mutex_lock(&user->ref, &acct->lock))
		return;

	rb_erase(&user->rb, &acct->users);
	mutex_unlock(&acct->lock);

	WARN_ON_ONCE(!RB_EMPTY_ROOT(&user->quotas));
	mutex_destroy(&user->lock);
	kfree(user);
}

/**
 * bus1_acct_user_acquire() - find or create the user of a UID
 * @acct:	accounting root
 * @uid:	UID
 *
 * Context: process context, no accounting lock held. Takes the root lock.
 * Return: a new reference to the user, or ERR_PTR(-ENOMEM).
 */
static struct bus1_acct_user *bus1_acct_user_acquire(struct bus1_acct *acct,
						     kuid_t uid)
{
	struct rb_node **link, *parent = NULL;
	struct bus1_acct_user *user;
	unsigned int s;

	mutex_lock(&acct->lock);

	link = &acct->users.rb_node;
	while (*link) {
		parent = *link;
		user = rb_entry(parent, struct bus1_acct_user, rb);
		if (uid_lt(uid, user->uid)) {
			link = &parent->rb_left;
		} else if (uid_gt(uid, user->uid)) {
			link = &parent->rb_right;
		} else {
			/* a user in the tree has a reference (see unref) */
			bus1_acct_user_ref(user);
			goto exit;
		}
	}

	user = kzalloc(sizeof(*user), GFP_KERNEL);
	if (!user) {
		user = ERR_PTR(-ENOMEM);
		goto exit;
	}

	user->acct = acct;
	refcount_set(&user->ref, 1);
	user->uid = uid;
	mutex_init(&user->lock);
	for (s = 0; s < BUS1_ACCT_N; ++s)
		user->available[s] = acct->limits[s];
	user->n_quotas = 0;
	user->quotas = RB_ROOT;
	rb_link_node(&user->rb, parent, link);
	rb_insert_color(&user->rb, &acct->users);

exit:
	mutex_unlock(&acct->lock);
	return user;
}

/**
 * bus1_acct_actor_init() - initialise the claimant identity of a peer
 * @actor:	actor to initialise
 * @acct:	accounting root of the device instance
 * @uid:	effective UID of the peer
 *
 * Finds or creates the user of @uid, takes a reference on it and assigns a
 * new actor ID. On failure @actor->user is NULL, so deinitialising it is
 * harmless.
 *
 * Context: process context, may sleep. Takes the root lock.
 * Return: 0 on success, -ENOMEM if a new user cannot be allocated.
 */
int bus1_acct_actor_init(struct bus1_acct_actor *actor, struct bus1_acct *acct,
			 kuid_t uid)
{
	struct bus1_acct_user *user;

	user = bus1_acct_user_acquire(acct, uid);
	if (IS_ERR(user)) {
		actor->user = NULL;
		actor->id = 0;
		return PTR_ERR(user);
	}

	actor->user = user;
	actor->id = atomic64_inc_return(&acct->actor_ids);
	return 0;
}

/**
 * bus1_acct_actor_deinit() - release the claimant identity of a peer
 * @actor:	actor to release
 *
 * Drops the actor's user reference. Charges made by the actor, or charged to
 * its user, stay valid; they keep what they need alive. Calling this twice,
 * or on an actor whose initialisation failed, does nothing.
 *
 * Context: process context, may sleep. May take the root lock.
 */
void bus1_acct_actor_deinit(struct bus1_acct_actor *actor)
{
	if (actor->user) {
		bus1_acct_user_unref(actor->user);
		actor->user = NULL;
	}
}

/**
 * bus1_acct_quota_get() - find or create a quota
 * @user:	charged user (the caller holds a reference and its lock)
 * @uid:	claimant UID
 *
 * A new quota is empty, has no trace and holds a reference on @user.
 *
 * Return: the quota, or ERR_PTR(-ENOMEM).
 */
static struct bus1_acct_quota *bus1_acct_quota_get(struct bus1_acct_user *user,
						   kuid_t uid)
{
	struct rb_node **link, *parent = NULL;
	struct bus1_acct_quota *quota;

	lockdep_assert_held(&user->lock);

	link = &user->quotas.rb_node;
	while (*link) {
		parent = *link;
		quota = rb_entry(parent, struct bus1_acct_quota, rb);
		if (uid_lt(uid, quota->uid))
			link = &parent->rb_left;
		else if (uid_gt(uid, quota->uid))
			link = &parent->rb_right;
		else
			return quota;
	}

	quota = kzalloc(sizeof(*quota), GFP_KERNEL);
	if (!quota)
		return ERR_PTR(-ENOMEM);

	/* the caller holds a user reference, so this is not the first one */
	bus1_acct_user_ref(user);
	quota->user = user;
	quota->uid = uid;
	quota->n_traces = 0;
	quota->traces = RB_ROOT;
	rb_link_node(&quota->rb, parent, link);
	rb_insert_color(&quota->rb, &user->quotas);
	++user->n_quotas;
	return quota;
}

/**
 * bus1_acct_quota_put_unused() - destroy a quota without traces
 * @quota:	quota (the caller holds the user lock)
 *
 * Return: true if @quota had no trace and was destroyed; the caller must
 * then drop the quota's user reference after unlocking the user.
 */
static bool bus1_acct_quota_put_unused(struct bus1_acct_quota *quota)
{
	struct bus1_acct_user *user = quota->user;
	unsigned int s;

	lockdep_assert_held(&user->lock);

	if (quota->n_traces)
		return false;

	/* a quota without traces has given everything back */
	for (s = 0; s < BUS1_ACCT_N; ++s)
		WARN_ON_ONCE(quota->claimed[s] || quota->available[s]);

	rb_erase(&quota->rb, &user->quotas);
	--user->n_quotas;
	kfree(quota);
	return true;
}

/**
 * bus1_acct_trace_get() - find or create a trace
 * @quota:	quota (the caller holds the user lock)
 * @actor_id:	claimant actor ID
 *
 * A new trace is empty and has no charge.
 *
 * Return: the trace, or ERR_PTR(-ENOMEM).
 */
static struct bus1_acct_trace *
bus1_acct_trace_get(struct bus1_acct_quota *quota, u64 actor_id)
{
	struct rb_node **link, *parent = NULL;
	struct bus1_acct_trace *trace;

	lockdep_assert_held(&quota->user->lock);

	link = &quota->traces.rb_node;
	while (*link) {
		parent = *link;
		trace = rb_entry(parent, struct bus1_acct_trace, rb);
		if (actor_id < trace->actor_id)
			link = &parent->rb_left;
		else if (actor_id > trace->actor_id)
			link = &parent->rb_right;
		else
			return trace;
	}

	trace = kzalloc(sizeof(*trace), GFP_KERNEL);
	if (!trace)
		return ERR_PTR(-ENOMEM);

	trace->quota = quota;
	trace->actor_id = actor_id;
	trace->n_charges = 0;
	rb_link_node(&trace->rb, parent, link);
	rb_insert_color(&trace->rb, &quota->traces);
	++quota->n_traces;
	return trace;
}

/**
 * bus1_acct_trace_put_unused() - destroy a trace without charges
 * @trace:	trace (the caller holds the user lock)
 *
 * Destroys @trace if no charge references it, and then its quota if that
 * was the quota's last trace.
 *
 * Return: true if the quota was destroyed (see
 * bus1_acct_quota_put_unused()).
 */
static bool bus1_acct_trace_put_unused(struct bus1_acct_trace *trace)
{
	struct bus1_acct_quota *quota = trace->quota;
	unsigned int s;

	lockdep_assert_held(&quota->user->lock);

	if (trace->n_charges)
		return false;

	for (s = 0; s < BUS1_ACCT_N; ++s)
		WARN_ON_ONCE(trace->claimed[s]);

	rb_erase(&trace->rb, &quota->traces);
	--quota->n_traces;
	kfree(trace);
	return bus1_acct_quota_put_unused(quota);
}

/**
 * bus1_acct_check() - check one slot of a charge
 * @trace:	claimant's trace (the caller holds the user lock)
 * @s:		slot
 * @amount:	requested amount, not 0
 * @takep:	output: what the user must hand to the quota
 *
 * Return: true if @amount may be charged, false if it is denied (including
 * on arithmetic overflow).
 */
static bool bus1_acct_check(struct bus1_acct_trace *trace, unsigned int s,
			    u64 amount, u64 *takep)
{
	struct bus1_acct_quota *quota = trace->quota;
	struct bus1_acct_user *user = quota->user;
	u64 m1, m2, take, a_ql;

	lockdep_assert_held(&user->lock);

	/*
	 * Within the quota, a trace may hold at most half of what is left
	 * plus its share (the exponential allocator, A_exp = 2).
	 */
	if (bus1_acct_reserve(2, trace->claimed[s], amount, &m1))
		return false;
	if (quota->available[s] >= m1) {
		*takep = 0;
		return true;
	}

	/*
	 * The quota must grow by the shortfall. A foreign claimant UID may
	 * only use 1 / A_ql(n) of what the user has left plus its share,
	 * where n counts the quotas of the user (the claimant's included).
	 */
	take = m1 - quota->available[s];
	if (uid_eq(quota->uid, user->uid)) {
		m2 = take;
	} else if (bus1_acct_ql(user->n_quotas, &a_ql) ||
		   bus1_acct_reserve(a_ql, quota->claimed[s], take, &m2)) {
		return false;
	}
	if (user->available[s] < m2)
		return false;

	*takep = take;
	return true;
}

/**
 * bus1_acct_charge() - charge resources to a user
 * @user:	user to charge (the caller holds a reference)
 * @claimant:	initialised actor of the same root causing the charge
 * @objects:	amount of slot BUS1_ACCT_OBJECTS
 * @bytes:	amount of slot BUS1_ACCT_BYTES
 * @tracep:	output: the trace of the new charge
 *
 * Charges {@objects, @bytes} to @user on behalf of @claimant, or nothing if
 * either slot is denied. Slots with amount 0 are not checked. On success,
 * *@tracep is a valid charge token (also when both amounts are 0) that must
 * be released with bus1_acct_discharge() and the same amounts. The charge
 * keeps its trace, quota and @user alive; @claimant may go away before it.
 * On failure *@tracep is not written and no state changes.
 *
 * Context: process context, may sleep. Takes the user lock.
 * Return: 0 on success, -EDQUOT if the fair share of the claimant is
 * exceeded (including arithmetic overflow), -ENOMEM if a new quota or trace
 * cannot be allocated.
 */
int bus1_acct_charge(struct bus1_acct_user *user,
		     struct bus1_acct_actor *claimant,
		     u64 objects, u64 bytes, struct bus1_acct_trace **tracep)
{
	const u64 amount[BUS1_ACCT_N] = {
		[BUS1_ACCT_OBJECTS] = objects,
		[BUS1_ACCT_BYTES] = bytes,
	};
	u64 take[BUS1_ACCT_N] = {};
	struct bus1_acct_quota *quota;
	struct bus1_acct_trace *trace;
	bool unref = false;
	unsigned int s;
	int r;

	mutex_lock(&user->lock);

	/* quota and trace exist before the check and count in nq and nt */
	quota = bus1_acct_quota_get(user, claimant->user->uid);
	if (IS_ERR(quota)) {
		r = PTR_ERR(quota);
		goto exit_unlock;
	}

	trace = bus1_acct_trace_get(quota, claimant->id);
	if (IS_ERR(trace)) {
		r = PTR_ERR(trace);
		unref = bus1_acct_quota_put_unused(quota);
		goto exit_unlock;
	}

	for (s = 0; s < BUS1_ACCT_N; ++s) {
		if (amount[s] && !bus1_acct_check(trace, s, amount[s],
						  &take[s])) {
			r = -EDQUOT;
			unref = bus1_acct_trace_put_unused(trace);
			goto exit_unlock;
		}
	}

	for (s = 0; s < BUS1_ACCT_N; ++s) {
		if (!amount[s])
			continue;
		/* take + available >= m1 >= amount, see bus1_acct_check() */
		user->available[s] -= take[s];
		quota->claimed[s] += take[s];
		quota->available[s] += take[s];
		quota->available[s] -= amount[s];
		trace->claimed[s] += amount[s];
	}
	++trace->n_charges;
	*tracep = trace;
	r = 0;

exit_unlock:
	mutex_unlock(&user->lock);
	if (unref)
		bus1_acct_user_unref(user);
	return r;
}

/**
 * bus1_acct_discharge() - release a charge
 * @trace:	trace returned by bus1_acct_charge(), or NULL
 * @objects:	@objects given to bus1_acct_charge()
 * @bytes:	@bytes given to bus1_acct_charge()
 *
 * Releases the charge {@trace, @objects, @bytes}: the trace gives back
 * exactly the amounts, and its quota returns to the user everything above
 * the reserve it keeps for its remaining traces. The trace is destroyed with
 * its last charge, the quota with its last trace, the user with its last
 * reference. A NULL @trace does nothing. Never fails and never allocates.
 *
 * Context: process context, may sleep. Takes the user lock, and may take
 * the root lock after dropping it.
 */
void bus1_acct_discharge(struct bus1_acct_trace *trace, u64 objects, u64 bytes)
{
	u64 amount[BUS1_ACCT_N] = {
		[BUS1_ACCT_OBJECTS] = objects,
		[BUS1_ACCT_BYTES] = bytes,
	};
	struct bus1_acct_quota *quota;
	struct bus1_acct_user *user;
	u64 avg, excess;
	unsigned int s;
	bool unref;

	if (!trace)
		return;

	quota = trace->quota;
	user = quota->user;

	mutex_lock(&user->lock);

	for (s = 0; s < BUS1_ACCT_N; ++s) {
		if (!amount[s])
			continue;
		/* a charge never returns more than it took */
		if (WARN_ON_ONCE(amount[s] > trace->claimed[s]))
			amount[s] = trace->claimed[s];

		trace->claimed[s] -= amount[s];
		quota->available[s] += amount[s];

		/*
		 * Keep a reserve of what the average trace holds (this one
		 * still counts) and give the excess back to the user.
		 */
		avg = div64_u64(quota->claimed[s] - quota->available[s],
				quota->n_traces);
		if (quota->available[s] > avg) {
			excess = quota->available[s] - avg;
			quota->available[s] -= excess;
			quota->claimed[s] -= excess;
			user->available[s] += excess;
		}
	}

	if (!WARN_ON_ONCE(!trace->n_charges))
		--trace->n_charges;
	unref = bus1_acct_trace_put_unused(trace);

	mutex_unlock(&user->lock);
	if (unref)
		bus1_acct_user_unref(user);
}

/**
 * bus1_acct_user_dump() - print one user with its quotas and traces
 * @m:		output
 * @user:	user (the caller holds a reference)
 *
 * Context: process context, no accounting lock held. Takes the user lock.
 */
static void bus1_acct_user_dump(struct seq_file *m,
				struct bus1_acct_user *user)
{
	struct bus1_acct_quota *quota;
	struct bus1_acct_trace *trace;
	struct rb_node *qn, *tn;

	mutex_lock(&user->lock);

	seq_printf(m, "user %u available %llu %llu\n",
		   from_kuid(&init_user_ns, user->uid),
		   user->available[BUS1_ACCT_OBJECTS],
		   user->available[BUS1_ACCT_BYTES]);

	for (qn = rb_first(&user->quotas); qn; qn = rb_next(qn)) {
		quota = rb_entry(qn, struct bus1_acct_quota, rb);
		seq_printf(m, "  quota %u claimed %llu %llu available %llu %llu\n",
			   from_kuid(&init_user_ns, quota->uid),
			   quota->claimed[BUS1_ACCT_OBJECTS],
			   quota->claimed[BUS1_ACCT_BYTES],
			   quota->available[BUS1_ACCT_OBJECTS],
			   quota->available[BUS1_ACCT_BYTES]);

		for (tn = rb_first(&quota->traces); tn; tn = rb_next(tn)) {
			trace = rb_entry(tn, struct bus1_acct_trace, rb);
			seq_printf(m, "    trace %llu claimed %llu %llu\n",
				   trace->actor_id,
				   trace->claimed[BUS1_ACCT_OBJECTS],
				   trace->claimed[BUS1_ACCT_BYTES]);
		}
	}

	mutex_unlock(&user->lock);
}

/**
 * bus1_acct_dump() - print the accounting state
 * @m:		output
 * @acct:	accounting root
 *
 * Prints every user in UID order, each followed by its quotas in claimant
 * UID order, each followed by its traces in actor ID order::
 *
 *   user <uid> available <objects> <bytes>
 *     quota <claimant uid> claimed <objects> <bytes> available <objects> <bytes>
 *       trace <actor id> claimed <objects> <bytes>
 *
 * Each user is printed consistently under its lock; users are not printed
 * at one instant. Nothing is printed when there is no user.
 *
 * Context: process context, may sleep. Takes the root lock and the user
 * locks, one at a time.
 */
void bus1_acct_dump(struct seq_file *m, struct bus1_acct *acct)
{
	struct bus1_acct_user *user, *next;
	struct rb_node *n;

	mutex_lock(&acct->lock);
	n = rb_first(&acct->users);
	user = n ? rb_entry(n, struct bus1_acct_user, rb) : NULL;
	if (user)
		bus1_acct_user_ref(user);
	mutex_unlock(&acct->lock);

	while (user) {
		bus1_acct_user_dump(m, user);

		/* the reference keeps @user linked, so it has a successor */
		mutex_lock(&acct->lock);
		n = rb_next(&user->rb);
		next = n ? rb_entry(n, struct bus1_acct_user, rb) : NULL;
		if (next)
			bus1_acct_user_ref(next);
		mutex_unlock(&acct->lock);

		bus1_acct_user_unref(user);
		user = next;
	}
}
