#!/bin/bash
# Build the fuzzer and the module for KDIR, then run the fuzzer in the VM:
# BUS1_FUZZ_OPS operations (default 1,000,000) from BUS1_FUZZ_PROCS worker
# processes, followed by the object-counter check, a kmemleak scan and the
# unload. Last line: "N passed, N failed"; exit status 0 only if nothing
# failed.
#
# Environment: BUS1_MODULE (a bus1.ko to use instead of building one), KDIR
# (default: the cached debug kernel of
# tools/testing/kernel/build-kernel.sh), KERNEL (default: $KDIR/bzImage),
# BUS1_FUZZ_OPS, BUS1_FUZZ_SEED (default: a new seed per run, printed),
# BUS1_FUZZ_PROCS, BUS1_SOAK_SECONDS (repeat runs with the next seeds until
# that much time has passed: make soak), VM_TIMEOUT (default 2700 s, or the
# soak time plus 1800 s). Extra arguments go to run-vm.sh. A failing run is
# replayed with the seed it printed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)

if [ -z "${KDIR:-}" ]; then
	KDIR=$(sh "$top/tools/testing/kernel/build-kernel.sh" debug | tail -n 1)
fi
kernel=${KERNEL:-$KDIR/bzImage}
seed=${BUS1_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
ops=${BUS1_FUZZ_OPS:-1000000}
procs=${BUS1_FUZZ_PROCS:-4}
soak=${BUS1_SOAK_SECONDS:-}
timeout=${VM_TIMEOUT:-$(( ${soak:-900} + 1800 ))}
per_run=$(( timeout - 120 ))	# one fuzzer run; a soak's last may start late
[ -z "$soak" ] || per_run=1500

make -s -C "$here"
# one module build per kernel tree, so that runs for two kernels can overlap
# (BUS1_MODULE: a bus1.ko built elsewhere, e.g. a mutant)
if [ -z "${BUS1_MODULE:-}" ]; then
	mb=fuzz-$(printf '%s' "$KDIR" | md5sum | cut -c1-8)
	make -s -C "$top" bus1 KDIR="$KDIR" MODBUILD="$mb"
	BUS1_MODULE=$top/build/$mb-bus1/bus1.ko
fi
echo "bus1-fuzz: seed $seed, $ops operations, $procs processes (replay: BUS1_FUZZ_SEED=$seed)"

exec bash "$top/tools/testing/qemu/run-vm.sh" -k "$kernel" \
	-p "$here/fuzz.sh" -o "$top/build/vm/fuzz" \
	-m "$BUS1_MODULE" \
	-f "$here/out/bus1-fuzz:/fuzz/" \
	-e BUS1_FUZZ_SEED="$seed" -e BUS1_FUZZ_OPS="$ops" \
	-e BUS1_FUZZ_PROCS="$procs" ${soak:+-e BUS1_SOAK_SECONDS="$soak"} \
	-T "$timeout" -e VM_TEST_TIMEOUT="$per_run" \
	--append "panic_on_warn=1 oops=panic" "$@"
