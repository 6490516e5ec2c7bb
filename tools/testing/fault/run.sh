#!/bin/bash
# Build the sweep, the module (with debug information) and its site map for
# the debug kernel, then run the sweep in the VM. Last line: "N passed, N
# failed"; exit status 0 only if nothing failed.
#
# Environment: KDIR, KERNEL (default: the cached debug kernel of
# tools/testing/kernel/build-kernel.sh), OUT (default: build/fault),
# BUS1_SRC (module sources, default ipc/bus1), INVENTORY (default
# alloc-sites.txt), VM_TIMEOUT (default 900 s). Extra arguments go to
# run-vm.sh, e.g. -e BUS1_FAULT_ONLY=send-unicast -e BUS1_FAULT_VERBOSE=1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=${OUT:-$top/build/fault}

if [ -z "${KDIR:-}" ]; then
	KDIR=$(sh "$top/tools/testing/kernel/build-kernel.sh" debug | tail -n 1)
fi
kernel=${KERNEL:-$KDIR/bzImage}

make -s -C "$here" OUT="$out" KDIR="$KDIR" ${BUS1_SRC:+BUS1_SRC="$BUS1_SRC"} \
	${INVENTORY:+INVENTORY="$INVENTORY"} all map

exec bash "$top/tools/testing/qemu/run-vm.sh" -k "$kernel" \
	-p "$here/fault.sh" -o "$top/build/vm/fault" \
	-m "$out/mod/bus1.ko" \
	-f "$out/bus1-fault-sweep:/fault/" \
	-f "$out/sites.map:/etc/bus1-fault/sites.map" \
	-f "$top/tools/testing/qemu/kernel-log-patterns:/etc/bus1-fault/kernel-log-patterns" \
	-T "${VM_TIMEOUT:-900}" -e VM_TEST_TIMEOUT=720 \
	--append "panic_on_warn=1 oops=panic" "$@"
