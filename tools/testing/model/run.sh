#!/bin/bash
# Build the reference-model checker and the module for KDIR, then run it in
# the VM: BUS1_MODEL_ROUNDS rounds of BUS1_MODEL_OPS random commands, each
# checked against the model (main.c), followed by the object-counter
# check, a kmemleak scan and the unload. Last line: "N passed, N failed";
# exit status 0 only if nothing failed.
#
# Environment: BUS1_MODULE (a bus1.ko to use instead of building one), KDIR
# (default: the cached debug kernel of
# tools/testing/kernel/build-kernel.sh), KERNEL (default: $KDIR/bzImage),
# BUS1_MODEL_SEED (default: a new seed per run, printed),
# BUS1_MODEL_ROUNDS (default 25), BUS1_MODEL_OPS (default 5000),
# BUS1_MODEL_MIN_STEPS (checked steps required in total, default 100000),
# VM_TIMEOUT (default 2700 s). Extra arguments go to run-vm.sh. A failing
# round is replayed with the seed it printed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)

if [ -z "${KDIR:-}" ]; then
	KDIR=$(sh "$top/tools/testing/kernel/build-kernel.sh" debug | tail -n 1)
fi
kernel=${KERNEL:-$KDIR/bzImage}
seed=${BUS1_MODEL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
rounds=${BUS1_MODEL_ROUNDS:-25}
ops=${BUS1_MODEL_OPS:-5000}
min=${BUS1_MODEL_MIN_STEPS:-100000}

make -s -C "$here"
# one module build per kernel tree, so that runs for two kernels can overlap
# (BUS1_MODULE: a bus1.ko built elsewhere, e.g. a mutant)
if [ -z "${BUS1_MODULE:-}" ]; then
	mb=model-$(printf '%s' "$KDIR" | md5sum | cut -c1-8)
	make -s -C "$top" bus1 KDIR="$KDIR" MODBUILD="$mb"
	BUS1_MODULE=$top/build/$mb-bus1/bus1.ko
fi
echo "bus1-model: seed $seed, $rounds rounds of $ops operations (replay: BUS1_MODEL_SEED=$seed)"

exec bash "$top/tools/testing/qemu/run-vm.sh" -k "$kernel" \
	-p "$here/model.sh" -o "$top/build/vm/model" \
	-m "$BUS1_MODULE" \
	-f "$here/out/bus1-model:/model/" \
	-e BUS1_MODEL_SEED="$seed" -e BUS1_MODEL_ROUNDS="$rounds" \
	-e BUS1_MODEL_OPS="$ops" -e BUS1_MODEL_MIN_STEPS="$min" \
	-T "${VM_TIMEOUT:-2700}" -e VM_TEST_TIMEOUT=$(( ${VM_TIMEOUT:-2700} - 120 )) \
	--append "panic_on_warn=1 oops=panic" "$@"
