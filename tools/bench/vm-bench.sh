# Benchmark payload for the test VM (busybox sh, run by /init): loads
# bus1.ko with max_objects raised, runs every benchmark of /bench/bus1-bench
# and prints their "bench-result" lines, which tools/bench/report.py reads
# from the console log. One counted check per group of benchmarks.
#
# Settings (run-vm.sh -e NAME=VALUE):
#   BENCH_ROUNDS       rounds of the round-trip, same-thread, multicast and
#                      scaling tests; configurations are interleaved within
#                      a round so slow phases of the host hit all of them
#   BENCH_ITERS        measured iterations per round trip / same-thread run
#   BENCH_WARMUP       iterations before measuring
#   BENCH_MC_ITERS     measured SENDs per destination count (multicast)
#   BENCH_SCALE_ITERS  measured round trips per handle count
#   BENCH_HANDLES      handle counts of the scaling test
#   BENCH_MEM_COUNT    objects per memory measurement
#   BENCH_MAX_OBJECTS  max_objects module parameter
#   BENCH_ONLY         run only these groups (mem rtt self multicast scale)
. /lib/vm-lib.sh

B=/bench/bus1-bench
ROUNDS=${BENCH_ROUNDS:-5}
ITERS=${BENCH_ITERS:-10000}
WARMUP=${BENCH_WARMUP:-1000}
MC_ITERS=${BENCH_MC_ITERS:-400}
SCALE_ITERS=${BENCH_SCALE_ITERS:-10000}
HANDLES=${BENCH_HANDLES:-10 10000 1000000}
MEM_COUNT=${BENCH_MEM_COUNT:-100000}
# A lone peer may hold half of its UID's limit (bus1(7)); the scaling test
# has 10^6 nodes and 10^6 handles charged to one claimant, so four times
# that plus room for the messages.
MAX_OBJECTS=${BENCH_MAX_OBJECTS:-16777216}
ONLY=${BENCH_ONLY:-mem rtt self multicast scale}
SIZES="0 64 1024 4096 65536"

wanted() {
	case " $ONLY " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# group NAME: start counting failures of one group
group() {
	_group=$1
	_failed=0
	echo "bus1-vm: bench group $_group started at $(date +%s)"
}

# run ARGS...: one benchmark; a failure fails its group
run() {
	if ! timeout -s KILL 1200 "$B" "$@" </dev/null; then
		echo "bus1-vm: bus1-bench $* failed"
		_failed=$((_failed + 1))
	fi
}

group_end() {
	if [ "$_failed" = 0 ]; then
		vm_ok "bench $_group: every run succeeded"
	else
		vm_not_ok "bench $_group: $_failed runs failed"
	fi
}

vm_check "load bus1.ko with max_objects=$MAX_OBJECTS" \
	vm_load bus1 "max_objects=$MAX_OBJECTS" || exit 0

echo "bench-info {\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc)," \
	"\"clocksource\":\"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)\"," \
	"\"max_objects\":$(cat /sys/module/bus1/parameters/max_objects)," \
	"\"rounds\":$ROUNDS,\"iters\":$ITERS,\"warmup\":$WARMUP," \
	"\"mc_iters\":$MC_ITERS,\"scale_iters\":$SCALE_ITERS," \
	"\"mem_count\":$MEM_COUNT}"

# Memory first, on a fresh module: nothing else is allocated yet.
if wanted mem; then
	group mem
	run mem --count "$MEM_COUNT"
	group_end
fi

if wanted rtt; then
	group rtt
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		for s in $SIZES; do
			for t in bus1 unix pipe binder; do
				run rtt --transport "$t" --size "$s" \
					--iters "$ITERS" --warmup "$WARMUP" --round "$r"
			done
		done
		r=$((r + 1))
	done
	group_end
fi

if wanted self; then
	group self
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		for s in $SIZES; do
			for t in bus1 unix pipe; do
				run self --transport "$t" --size "$s" \
					--iters "$ITERS" --warmup "$WARMUP" --round "$r"
			done
		done
		r=$((r + 1))
	done
	group_end
fi

if wanted multicast; then
	group multicast
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		for m in procs epoll; do
			run multicast --mode "$m" --max-dests 256 \
				--iters "$MC_ITERS" --warmup $((MC_ITERS / 10)) --round "$r"
		done
		r=$((r + 1))
	done
	group_end
fi

if wanted scale; then
	group scale
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		for h in $HANDLES; do
			run scale --handles "$h" --size 64 \
				--iters "$SCALE_ITERS" --warmup "$WARMUP" --round "$r"
		done
		r=$((r + 1))
	done
	group_end
fi

echo "bus1-vm: bench done at $(date +%s)"
vm_check "bus1 object counters are zero after the benchmarks" \
	vm_counters_zero bus1
vm_check "rmmod bus1 after the benchmarks" vm_unload bus1
exit 0
