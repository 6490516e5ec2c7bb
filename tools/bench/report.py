#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the "bench-result" lines of a benchmark VM run into
results.json, results.txt (tables, ratios, targets) and results.png.

Statistics: every configuration runs once per round; a configuration's
p50 (p99) is the median over rounds of the per-round p50 (p99). Ratios are
bus1 divided by the alternative, so below 1 means bus1 is faster.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))

SIZES = [0, 64, 1024, 4096, 65536]
TRANSPORTS = ["bus1", "unix", "pipe", "binder"]
SELF_TRANSPORTS = ["bus1", "unix", "pipe"]

CAVEAT = ("The VM runs under QEMU's software emulation (TCG, no KVM): every "
          "guest instruction is translated, system calls and context "
          "switches cost far more than on hardware (the emulator flushes its "
          "software TLB on every address-space switch), CPU caches are not "
          "modelled while the host's still matter, and the host is shared, "
          "so absolute times and p99 tails are distorted. The ratios between "
          "transports measured in the same run are the headline.")


def size_label(n):
    if n >= 1024 and n % 1024 == 0:
        return "%d KiB" % (n // 1024)
    return "%d B" % n


def us(ns):
    return ns / 1000.0


def parse_console(path):
    results, info = [], {}
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            # the firmware may share a line with the first output
            for tag in ("bench-result ", "bench-info "):
                i = line.find(tag)
                if i < 0:
                    continue
                obj = json.loads(line[i + len(tag):])
                if tag == "bench-info ":
                    info = obj
                else:
                    results.append(obj)
    return results, info


def med(values):
    return statistics.median(values) if values else None


def collect(results, test, key_fields, value="p50_ns"):
    """Median over rounds of @value, keyed by the tuple of @key_fields."""
    groups = {}
    for r in results:
        if r.get("test") != test:
            continue
        key = tuple(r[k] for k in key_fields)
        groups.setdefault(key, []).append(r[value])
    return {k: med(v) for k, v in groups.items()}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fit_slope(xs, ys):
    """Least-squares slope of y over x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    return sxy / sxx if sxx else None


def machine_info(kernel_dir, console):
    m = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    m["host_cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    m["host_cpus"] = os.cpu_count()
    m["host_os"] = platform.platform()
    try:
        out = subprocess.run(["qemu-system-x86_64", "--version"],
                             capture_output=True, text=True).stdout
        m["qemu"] = out.splitlines()[0] if out else None
    except OSError:
        m["qemu"] = None
    m["accel"] = "tcg"
    if kernel_dir:
        try:
            with open(os.path.join(kernel_dir, "build-info")) as f:
                for line in f:
                    k, _, v = line.strip().partition("=")
                    if k in ("flavor", "release", "source_version",
                             "compiler"):
                        m["guest_kernel_" + k] = v
        except OSError:
            pass
    try:
        rev = subprocess.run(["git", "-C", TOP, "rev-parse", "--short",
                              "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", TOP, "status", "--porcelain",
                                "--", "ipc/bus1"], capture_output=True,
                               text=True)
        m["bus1_revision"] = rev.stdout.strip() + (
            "+local changes" if dirty.stdout.strip() else "")
    except OSError:
        pass
    # the run's date: when its console log was last written
    m["date"] = datetime.datetime.fromtimestamp(
        os.path.getmtime(console), datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
    return m


def summarize(results):
    s = {}
    # round trips and same-thread
    for test, transports in (("rtt", TRANSPORTS), ("self", SELF_TRANSPORTS)):
        p50 = collect(results, test, ("transport", "size"))
        p99 = collect(results, test, ("transport", "size"), "p99_ns")
        rows = []
        for size in SIZES:
            row = {"size": size}
            for t in transports:
                row[t] = {"p50_ns": p50.get((t, size)),
                          "p99_ns": p99.get((t, size))}
            for t in transports[1:]:
                row["bus1/" + t] = {
                    "p50": ratio(row["bus1"]["p50_ns"], row[t]["p50_ns"]),
                    "p99": ratio(row["bus1"]["p99_ns"], row[t]["p99_ns"]),
                }
            rows.append(row)
        s[test] = rows

    # multicast: SEND cost over destinations, per mode
    mc = {}
    p50 = collect(results, "multicast", ("transport", "dests"))
    p99 = collect(results, "multicast", ("transport", "dests"), "p99_ns")
    for mode in ("bus1-procs", "bus1-epoll"):
        dests = sorted(d for (t, d) in p50 if t == mode)
        if not dests:
            continue
        pts = [{"dests": d, "p50_ns": p50[(mode, d)],
                "p99_ns": p99[(mode, d)]} for d in dests]
        unicast = p50.get((mode, 1))
        slope = fit_slope(dests, [p50[(mode, d)] for d in dests])
        last = dests[-1]
        span = ((p50[(mode, last)] - unicast) / (last - 1)
                if unicast is not None and last > 1 else None)
        mc[mode] = {
            "points": pts,
            "unicast_ns": unicast,
            "per_dest_ns_fit": slope,
            "per_dest_ns_span": span,
            "per_dest_over_unicast": ratio(slope, unicast),
        }
    s["multicast"] = mc

    # scaling with the number of handles
    sc = {}
    for test in ("scale-send", "scale-recv", "scale-rtt"):
        p50 = collect(results, test, ("handles",))
        p99 = collect(results, test, ("handles",), "p99_ns")
        hs = sorted(h for (h,) in p50)
        if not hs:
            continue
        base = p50[(hs[0],)]
        sc[test] = [{"handles": h, "p50_ns": p50[(h,)], "p99_ns": p99[(h,)],
                     "p50_vs_smallest": ratio(p50[(h,)], base)} for h in hs]
    s["scale"] = sc

    # memory
    mem = {}
    for r in results:
        if r.get("test") != "mem":
            continue
        name = r["object"] + ("" if r["object"] != "message"
                              else " (%s payload)" % size_label(r["size"]))
        mem[name] = {"bytes_per_object": r["bytes_per_object"],
                     "count": r["count"], "slab_bytes": r["slab_bytes"],
                     "caches": r.get("caches", {})}
    s["memory"] = mem
    return s


def lookup_rtt(s, test, size, key):
    for row in s.get(test, []):
        if row["size"] == size:
            return row.get(key, {}).get("p50")
    return None


def targets(s):
    t = []

    def add(name, value, limit, unit="x", note=""):
        t.append({"target": name, "value": value, "limit": limit,
                  "unit": unit,
                  "met": None if value is None else value <= limit,
                  "note": note})

    add("64 B round trip, bus1 / AF_UNIX", lookup_rtt(s, "rtt", 64,
        "bus1/unix"), 0.8)
    add("64 B round trip, bus1 / pipe", lookup_rtt(s, "rtt", 64,
        "bus1/pipe"), 1.05)
    add("64 KiB round trip, bus1 / AF_UNIX", lookup_rtt(s, "rtt", 65536,
        "bus1/unix"), 0.9)
    for mode, note in (("bus1-procs", "one process per receiver peer"),
                       ("bus1-epoll", "one process polling all receiver "
                        "peers")):
        m = s["multicast"].get(mode)
        add("multicast cost per extra destination / unicast SEND",
            m and m["per_dest_over_unicast"], 0.15, note=note)
    for test, what in (("scale-send", "SEND"), ("scale-recv", "RECV"),
                       ("scale-rtt", "round trip")):
        rows = s["scale"].get(test, [])
        big = [r for r in rows if r["handles"] >= 1000000]
        add("%s with 10^6 handles / with 10" % what,
            big[-1]["p50_vs_smallest"] if big and rows[0]["handles"] <= 10
            else None, 1.1)
    h = s["memory"].get("handle")
    add("kernel memory per handle", h and h["bytes_per_object"], 128,
        unit="bytes")
    return t


def fmt(v, digits=2):
    return "-" if v is None else ("%.*f" % (digits, v))


def fmt_us(ns):
    return "-" if ns is None else "%.1f" % us(ns)


def text_report(s, t, info, machine):
    out = []
    w = out.append
    w("bus1 benchmarks")
    w("===============")
    w("")
    w("Machine: %s (%s host CPUs), %s, accel=tcg; guest: %s %s kernel "
      "(%s), %s vCPUs, clocksource %s; bus1 %s; %s." % (
          machine.get("host_cpu", "?"), machine.get("host_cpus", "?"),
          machine.get("qemu", "QEMU"),
          machine.get("guest_kernel_release", info.get("kernel", "?")),
          machine.get("guest_kernel_flavor", ""),
          machine.get("guest_kernel_source_version", "?"),
          info.get("cpus", "?"), info.get("clocksource", "?"),
          machine.get("bus1_revision", "?"), machine.get("date", "")))
    w("Every process of a test is pinned to CPU 0; receivers block in "
      "epoll. %s rounds; per round %s round trips (+%s warm-up) per "
      "configuration; values are medians over rounds." % (
          info.get("rounds", "?"), info.get("iters", "?"),
          info.get("warmup", "?")))
    w("")
    w("Caveat: " + CAVEAT)
    w("")

    w("Targets (ratios from this run)")
    w("------------------------------")
    for x in t:
        val = fmt(x["value"], 1 if x["unit"] == "bytes" else 3)
        lim = ("%g %s" % (x["limit"], x["unit"]) if x["unit"] == "bytes"
               else "%g" % x["limit"])
        state = {True: "met", False: "MISSED", None: "not measured"}[x["met"]]
        w("  %-55s %9s  (target <= %s)  %s%s" % (
            x["target"], val, lim, state,
            ("  [%s]" % x["note"]) if x["note"] else ""))
    w("")

    for test, title, transports in (
            ("rtt", "Round trip, two processes on one CPU (us)", TRANSPORTS),
            ("self", "Same thread: send to itself + receive (us)",
             SELF_TRANSPORTS)):
        w(title)
        w("-" * len(title))
        head = "  %-8s" % "payload"
        for tr in transports:
            head += " %9s %9s" % (tr + " p50", "p99")
        for tr in transports[1:]:
            head += " %9s" % ("/" + tr)
        w(head)
        for row in s[test]:
            line = "  %-8s" % size_label(row["size"])
            for tr in transports:
                line += " %9s %9s" % (fmt_us(row[tr]["p50_ns"]),
                                      fmt_us(row[tr]["p99_ns"]))
            for tr in transports[1:]:
                line += " %9s" % fmt(row["bus1/" + tr]["p50"])
            w(line)
        w("  (/X = bus1 p50 divided by X's p50; the 0-byte pipe case "
          "moves 1 byte)" if test == "rtt" else
          "  (/X = bus1 p50 divided by X's p50)")
        w("")

    w("Multicast: one SEND of 64 B to N distinct receiver peers (us)")
    w("-------------------------------------------------------------")
    modes = [m for m in ("bus1-procs", "bus1-epoll") if m in s["multicast"]]
    if modes:
        head = "  %-6s" % "N"
        for m in modes:
            head += " %12s %9s" % (m + " p50", "p99")
        w(head)
        dests = [p["dests"] for p in s["multicast"][modes[0]]["points"]]
        for i, d in enumerate(dests):
            line = "  %-6d" % d
            for m in modes:
                p = s["multicast"][m]["points"][i]
                line += " %12s %9s" % (fmt_us(p["p50_ns"]),
                                       fmt_us(p["p99_ns"]))
            w(line)
        for m in modes:
            x = s["multicast"][m]
            w("  %s: unicast %s us, per extra destination %s us "
              "(fit; %s us first-to-last) = %s of unicast" % (
                  m, fmt_us(x["unicast_ns"]), fmt_us(x["per_dest_ns_fit"]),
                  fmt_us(x["per_dest_ns_span"]),
                  fmt(x["per_dest_over_unicast"], 3)))
        w("  procs: one process per receiver peer; epoll: one process "
          "polling all receiver peers.")
    w("")

    w("Scaling: handles held by the sender = nodes owned by the receiver, "
      "destination picked uniformly at random (us)")
    w("-" * 80)
    sc = s["scale"]
    if sc:
        w("  %-9s %10s %8s %10s %8s %10s %8s   %s" % (
            "handles", "SEND p50", "p99", "RECV p50", "p99", "RTT p50",
            "p99", "vs smallest: SEND RECV RTT"))
        for i, r in enumerate(sc.get("scale-send", [])):
            rv = sc["scale-recv"][i]
            rt = sc["scale-rtt"][i]
            w("  %-9d %10s %8s %10s %8s %10s %8s   %s %s %s" % (
                r["handles"], fmt_us(r["p50_ns"]), fmt_us(r["p99_ns"]),
                fmt_us(rv["p50_ns"]), fmt_us(rv["p99_ns"]),
                fmt_us(rt["p50_ns"]), fmt_us(rt["p99_ns"]),
                fmt(r["p50_vs_smallest"]), fmt(rv["p50_vs_smallest"]),
                fmt(rt["p50_vs_smallest"])))
    w("")

    w("Kernel memory per object (slab delta over %s objects, ID tables "
      "included)" % info.get("mem_count", "?"))
    w("-" * 72)
    for name, m in s["memory"].items():
        caches = ", ".join("%s %.1f" % (c, b / m["count"])
                           for c, b in sorted(m["caches"].items(),
                                              key=lambda x: -x[1]))
        w("  %-22s %7.1f bytes   (by cache: %s)" % (
            name, m["bytes_per_object"], caches))
    w("")
    return "\n".join(out)


def write_plot_data(s, outdir):
    with open(os.path.join(outdir, "rtt.dat"), "w") as f:
        f.write("# label size bus1 unix pipe binder (p50 us) "
                "bus1/unix bus1/pipe bus1/binder\n")
        for i, row in enumerate(s["rtt"]):
            f.write('%d "%s" %s %s %s %s %s %s %s\n' % (
                i, size_label(row["size"]),
                *[fmt_us(row[t]["p50_ns"]) for t in TRANSPORTS],
                *[fmt(row["bus1/" + t]["p50"], 4) for t in TRANSPORTS[1:]]))
    with open(os.path.join(outdir, "self.dat"), "w") as f:
        f.write("# label bus1 unix pipe (p50 us)\n")
        for i, row in enumerate(s["self"]):
            f.write('%d "%s" %s %s %s\n' % (
                i, size_label(row["size"]),
                *[fmt_us(row[t]["p50_ns"]) for t in SELF_TRANSPORTS]))
    with open(os.path.join(outdir, "multicast.dat"), "w") as f:
        f.write("# dests procs epoll (SEND p50 us)\n")
        pr = {p["dests"]: p["p50_ns"] for p in
              s["multicast"].get("bus1-procs", {}).get("points", [])}
        ep = {p["dests"]: p["p50_ns"] for p in
              s["multicast"].get("bus1-epoll", {}).get("points", [])}
        for d in sorted(set(pr) | set(ep)):
            f.write("%d %s %s\n" % (d, fmt_us(pr.get(d)), fmt_us(ep.get(d))))
    with open(os.path.join(outdir, "scale.dat"), "w") as f:
        f.write("# handles send recv rtt (p50 relative to the smallest)\n")
        sc = s["scale"]
        for i, r in enumerate(sc.get("scale-send", [])):
            f.write('%d "%d" %s %s %s\n' % (
                i, r["handles"], fmt(r["p50_vs_smallest"], 4),
                fmt(sc["scale-recv"][i]["p50_vs_smallest"], 4),
                fmt(sc["scale-rtt"][i]["p50_vs_smallest"], 4)))
    with open(os.path.join(outdir, "memory.dat"), "w") as f:
        f.write("# object bytes\n")
        # a 64 KiB message would flatten the other bars: table only
        small = [(n, m) for n, m in s["memory"].items()
                 if m["bytes_per_object"] < 4096]
        for i, (name, m) in enumerate(small):
            label = name.replace("message (", "msg ").replace(
                " payload)", "")
            f.write('%d "%s" %.1f\n' % (i, label, m["bytes_per_object"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--console", required=True,
                    help="console.log of the benchmark VM run")
    ap.add_argument("--kernel-dir", default="",
                    help="bench kernel directory (for build-info)")
    ap.add_argument("--out", required=True, help="output directory")
    args = ap.parse_args()

    results, info = parse_console(args.console)
    if not results:
        sys.exit("report.py: no bench-result lines in %s" % args.console)
    os.makedirs(args.out, exist_ok=True)
    machine = machine_info(args.kernel_dir, args.console)
    s = summarize(results)
    t = targets(s)

    doc = {"machine": machine, "vm": info, "caveat": CAVEAT,
           "targets": t, "summary": s, "results": results}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    text = text_report(s, t, info, machine)
    with open(os.path.join(args.out, "results.txt"), "w") as f:
        f.write(text + "\n")
    print(text)

    write_plot_data(s, args.out)
    if not shutil.which("gnuplot"):
        sys.exit("report.py: gnuplot is missing (apt-get install gnuplot-nox); "
                 "results.json and results.txt are written")
    title = "bus1 benchmarks, %s, QEMU TCG (ratios matter, not absolute " \
        "times)" % machine.get("date", "")
    r = subprocess.run(["gnuplot", "-e",
                        "dir='%s'; out='%s'; title='%s'" % (
                            args.out, os.path.join(args.out, "results.png"),
                            title),
                        os.path.join(HERE, "plot.gp")])
    if r.returncode:
        sys.exit("report.py: gnuplot failed")


if __name__ == "__main__":
    main()
