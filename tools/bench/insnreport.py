#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Guest instructions per iteration and kernel function, from the
insncount plugin's counts of each workload's measured iterations (see
profile.sh). Addresses map to functions through the bench kernel's
System.map and the module symbols the profile payload printed.
"""

import argparse
import bisect
import os
import re
import sys

# Coarse groups for the summary; first match wins.
GROUPS = [
    ("user space", r"^\[user\]$"),
    ("bus1 module", r"\[bus1\]$"),
    ("binder", r"^binder_"),
    ("slab/page allocator", r"(^__?kmalloc|^kfree|^kvfree|^kvmalloc|"
     r"^kmem_cache_|slab|^__alloc_pages|^get_page_from_freelist|"
     r"^free_unref|^__free_pages|^free_pcppages|^rmqueue|^__rmqueue|"
     r"^alloc_pages|^__kmem_cache|^memcg|^obj_cgroup|^mod_objcg|"
     r"^__memcg|^refill_obj|^___slab|^__slab|^kmalloc_|^__kvmalloc|"
     r"^__put_partials|^put_cpu_partial|^allocate_slab|^discard_slab|"
     r"^free_to_partial|^get_partial|^__free_one_page|^free_one_page|"
     r"^split_page|^prep_new_page|^post_alloc_hook|^free_tail_page|"
     r"^__folio_put|^free_large_kmalloc|^__kfree)"),
    ("mutex/locking", r"(mutex|^_raw_spin|^queued_spin|^__raw_spin|"
     r"^down_|^up_|rwsem)"),
    ("scheduler/wake-up", r"(^schedule|^__schedule|^try_to_wake_up|"
     r"enqueue|dequeue|^pick_|^put_prev|^set_next|^update_|^ttwu|"
     r"^sched_|^check_preempt|^wakeup_preempt|^select_task_rq|"
     r"^finish_task_switch|^__switch_to|^switch_mm|^resched|^reweight|"
     r"^place_entity|^avg_vruntime|^__update_load|^task_tick|"
     r"^psi_|^__wake_up|^wake_up|^autoremove_wake|^default_wake|"
     r"^prepare_to_wait|^finish_wait|^__calc_delta|^vruntime|"
     r"^entity_|^__enqueue|^__dequeue|^raw_spin_rq|^_raw_spin_rq|"
     r"^pick_eevdf|^newidle|^balance_|^rq_|^hrtick|^attach_entity|"
     r"^detach_entity|^cpuacct|^__cgroup_account|^account_)"),
    ("epoll/poll", r"(^ep_|^do_epoll|^__x64_sys_epoll|^ep_poll|^poll|"
     r"^__pollwait|^eventpoll)"),
    ("user copies/iovec", r"(copy_to_user|copy_from_user|^rep_movs|"
     r"^_copy_|^import_iovec|^__import_iovec|^iovec_from_user|"
     r"^copy_iovec|^iov_iter|^copy_page_to_iter|^copy_page_from_iter|"
     r"^_copy_to_iter|^_copy_from_iter|^__get_user|^__put_user|"
     r"^memcpy|^memset|^check_heap_object|^__check_object_size|"
     r"^__virt_addr_valid|^check_stack_object)"),
    ("xarray", r"^xa"),
    ("AF_UNIX/sockets/skb", r"(^unix_|^sock_|^sk_|^skb_|^__skb|"
     r"^kfree_skb|^consume_skb|^alloc_skb|^__alloc_skb|^____sys_|"
     r"^___sys_|^__sys_|^__x64_sys_send|^__x64_sys_recv|^scm_|"
     r"^security_socket|^memcg_|^__kfree_skb|^skb|^move_addr|"
     r"^kmalloc_reserve|^__build_skb|^sock)"),
    ("pipe/vfs read-write", r"(^pipe_|^vfs_read|^vfs_write|^ksys_read|"
     r"^ksys_write|^__x64_sys_read|^__x64_sys_write|^rw_verify|"
     r"^fsnotify|^__fsnotify|^anon_pipe|^file_|^touch_atime|"
     r"^atime_|^inode_|^current_time|^mnt_|^__sb_|^security_file)"),
    ("syscall entry/exit, fd lookup, ioctl",
     r"(^entry_|^do_syscall|^syscall_|^__x64_sys_ioctl|^__fdget|^fdget|"
     r"^fput|^__fget|^do_vfs_ioctl|^__do_sys|^exit_to_user|"
     r"^irqentry|^__x64_sys|^fpregs|^switch_fpu|^restore_fpregs|"
     r"^x86_|^fpu_)"),
]


def load_system_map(path):
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tTwW":
                syms.append((int(parts[0], 16), parts[2]))
    return syms


def load_module_symbols(console):
    syms, on = [], False
    with open(console, errors="replace") as f:
        for line in f:
            if "profile-symbols begin" in line:
                on = True
                continue
            if "profile-symbols end" in line:
                break
            parts = line.split()
            if on and len(parts) >= 4 and parts[1] in "tT":
                syms.append((int(parts[0], 16), parts[2] + " [bus1]"))
    return syms


class Symbolizer:
    def __init__(self, syms):
        syms = sorted(syms)
        self.addrs = [a for a, _ in syms]
        self.names = [n for _, n in syms]

    def name(self, addr):
        if addr == 0:
            return "[user]"
        i = bisect.bisect_right(self.addrs, addr) - 1
        return self.names[i] if i >= 0 else "[unknown]"


def load_counts(path, sym):
    counts = {}
    with open(path) as f:
        for line in f:
            a, n = line.split()
            name = sym.name(int(a, 16))
            counts[name] = counts.get(name, 0) + int(n)
    return counts


def group_of(name):
    for g, rx in GROUPS:
        if re.search(rx, name):
            return g
    return "other kernel"


def per_op(d, name, iters, system_map):
    console = os.path.join(d, "vm-%s" % name, "console.log")
    sym = Symbolizer(system_map + load_module_symbols(console))
    counts = load_counts(os.path.join(d, "%s.insn" % name), sym)
    return {k: v / iters for k, v in counts.items()}


def groups(prof):
    g = {}
    for k, v in prof.items():
        g[group_of(k)] = g.get(group_of(k), 0) + v
    return g


def show(title, prof, top=25):
    out = ["", title, "-" * len(title)]
    total = sum(prof.values())
    out.append("  total %.0f instructions per iteration" % total)
    for k, v in sorted(groups(prof).items(), key=lambda x: -x[1]):
        if abs(v) >= 0.5:
            out.append("    %-40s %9.0f" % (k, v))
    out.append("  top functions:")
    for k, v in sorted(prof.items(), key=lambda x: -x[1])[:top]:
        if abs(v) >= 0.5:
            out.append("    %-50s %9.0f" % (k, v))
    return out


def show_diff(title, a, b, scale=1.0, top=25):
    """(a - b) * scale per function and group."""
    keys = set(a) | set(b)
    diff = {k: (a.get(k, 0) - b.get(k, 0)) * scale for k in keys}
    out = ["", title, "-" * len(title)]
    out.append("  total %+.0f instructions (%.0f vs %.0f)" % (
        sum(diff.values()), sum(a.values()) * scale,
        sum(b.values()) * scale))
    ga, gb = groups(a), groups(b)
    for g in sorted(set(ga) | set(gb),
                    key=lambda x: -abs(ga.get(x, 0) - gb.get(x, 0))):
        d = (ga.get(g, 0) - gb.get(g, 0)) * scale
        if abs(d) >= 0.5:
            out.append("    %-40s %+9.0f   (%.0f vs %.0f)" % (
                g, d, ga.get(g, 0) * scale, gb.get(g, 0) * scale))
    out.append("  functions with the largest differences:")
    for k, v in sorted(diff.items(), key=lambda x: -abs(x[1]))[:top]:
        if abs(v) >= 0.5:
            out.append("    %-50s %+9.0f" % (k, v))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--system-map", required=True)
    ap.add_argument("--iters", type=int, required=True)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()

    smap = load_system_map(args.system_map)
    p = {n: per_op(args.dir, n, args.iters, smap) for n in args.names}
    out = ["Guest instructions per iteration (QEMU insncount plugin, "
           "%d measured iterations per workload, all CPUs, kernel and "
           "user space)" % args.iters]
    for n in args.names:
        out += show("%s: per iteration" % n, p[n])
    pairs = [("rtt-bus1-64", "rtt-unix-64", 1.0, "64 B round trip: bus1 - AF_UNIX"),
             ("rtt-bus1-64", "rtt-pipe-64", 1.0, "64 B round trip: bus1 - pipe"),
             ("rtt-bus1-64", "rtt-binder-64", 1.0, "64 B round trip: bus1 - binder"),
             ("rtt-bus1-64k", "rtt-unix-64k", 1.0, "64 KiB round trip: bus1 - AF_UNIX"),
             ("self-bus1-64", "self-unix-64", 1.0, "same thread 64 B: bus1 - AF_UNIX"),
             ("self-bus1-64", "self-pipe-64", 1.0, "same thread 64 B: bus1 - pipe"),
             ("mcsend-procs-16", "mcsend-procs-1", 1 / 15.0,
              "multicast SEND, a process per receiver: per extra "
              "destination, (SEND to 16 - SEND to 1) / 15"),
             ("mcsend-epoll-16", "mcsend-epoll-1", 1 / 15.0,
              "multicast SEND, one polling process: per extra "
              "destination, (SEND to 16 - SEND to 1) / 15"),
             ("scaleop-1000000", "scaleop-10", 1.0,
              "SEND + RECV with 10^6 handles - with 10"),
             ("scale-1000000", "scale-10", 1.0,
              "round trip with 10^6 handles - with 10")]
    for a, b, sc, title in pairs:
        if a in p and b in p:
            out += show_diff(title, p[a], p[b], sc)
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
