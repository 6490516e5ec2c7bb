#!/bin/bash
# Run the test tiers and add up their results.
#
# Usage: run-checks.sh quick|full
#   quick: dependencies, module builds, API tests in the VM (cloud kernel)
#   full:  quick plus every other tier that exists in the tree
#
# Each tier's output is shown and kept in build/check/<tier>.log. A tier is
# counted by the last "N passed, N failed" line it prints, else by its TAP
# lines ("ok N" / "not ok N"), else as one check (its exit status). A
# non-zero exit with no failure counted adds one failure, so no tier can
# fail silently.
# To add a tier, add a "tier NAME COMMAND..." line below.
set -uo pipefail

mode=${1:-full}
case $mode in
quick|full) ;;
*) echo "usage: $0 quick|full" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top" || exit 2
results=$top/build/check
rm -rf "$results"
mkdir -p "$results"

make=(make -s --no-print-directory)
tier_timeout=${TIER_TIMEOUT:-2400}
total_passed=0
total_failed=0
summary=()
start=$(date +%s)

record() {
	total_passed=$((total_passed + $2))
	total_failed=$((total_failed + $3))
	summary+=("$(printf '%-16s %5d passed, %5d failed%s' "$1" "$2" "$3" "${4:+  ($4)}")")
}

# tier NAME COMMAND...: run one tier and count its results.
tier() {
	local name=$1 log=$results/$1.log line p f rc note=
	shift
	echo "=== $name: $*"
	timeout -k 10 "$tier_timeout" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^([[:alnum:]_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([[:alnum:]_-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	elif grep -Eq '^(not )?ok [0-9]+' "$log"; then
		# Plain TAP: a skipped check counts as a failure here too.
		p=$(grep -E '^ok [0-9]+' "$log" | grep -Evic '#[[:space:]]*(skip|todo|xfail)')
		f=$(($(grep -Ec '^not ok [0-9]+' "$log") +
			$(grep -E '^ok [0-9]+' "$log" | grep -Eic '#[[:space:]]*(skip|todo|xfail)')))
	elif [ "$rc" = 0 ]; then
		p=1 f=0
	else
		p=0 f=0
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		note="exit status $rc"
	fi
	[ "$rc" = 124 ] && note="timeout after $tier_timeout s"
	record "$name" "$p" "$f" "$note"
	[ "$f" = 0 ]
}

# build NAME TARGET: one check; fails on a build error or on any warning
# (compiler or modpost), since the code must build warning-free.
build() {
	local name=$1 target=$2 log=$results/build-$1.log rc
	echo "=== build $name: make $target"
	"${make[@]}" "$target" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ]; then
		record "build:$name" 0 1 "make $target failed"
		return 1
	fi
	if grep -qi 'warning:' "$log"; then
		record "build:$name" 0 1 "warnings, see $log"
		return 1
	fi
	record "build:$name" 1 0
}

# has_target DIR TARGET: DIR's Makefile defines TARGET. Asked through
# make's database (-p, target ":"), because a dry run (-n) would still run
# recipes that call $(MAKE).
has_target() {
	[ -f "$1/Makefile" ] &&
		{ make -C "$1" -pq : 2>/dev/null || true; } | grep -q "^$2:"
}

finish() {
	echo
	echo "=== summary ($mode, $(($(date +%s) - start)) s)"
	printf '%s\n' "${summary[@]}"
	echo "$total_passed passed, $total_failed failed"
	[ "$total_failed" = 0 ]
	exit
}

# Nothing else can run without the tools.
tier deps sh tools/testing/deps.sh || finish

built=1
"${make[@]}" clean-modules >/dev/null 2>&1
build bus1 bus1 || built=0
build bus1x bus1x || built=0

if [ "$mode" = full ]; then
	tier header sh tools/testing/uapi/check.sh
	tier style sh tools/testing/style.sh
	if [ -f tools/testing/bus1/Makefile ]; then
		tier unit make -C tools/testing/bus1 check
	fi
	if has_target lib check; then
		tier lib make -C lib check
	fi
fi

build selftests selftests || built=0
build vm-tools vm-tools || built=0
if [ "$built" = 1 ]; then
	tier vm-api "${make[@]}" vm-test
else
	record vm-api 0 1 "not run: a build failed"
fi

# The library's own VM run (its test programs against the modules above).
if [ "$mode" = full ] && has_target lib vm-check; then
	if [ "$built" = 1 ]; then
		tier lib-vm make -C lib vm-check
	else
		record lib-vm 0 1 "not run: a build failed"
	fi
fi

if [ "$mode" = full ] && [ -f examples/Makefile ]; then
	tier demo "${make[@]}" demo
fi

# Mutation check: the fuzzer and the model must each pass on the module and
# fail on every deliberately broken copy of it (stock kernel, minutes).
if [ "$mode" = full ] && [ -x tools/testing/mutants/run.sh ]; then
	if [ "$built" = 1 ]; then
		tier mutants bash tools/testing/mutants/run.sh
	else
		record mutants 0 1 "not run: a build failed"
	fi
fi

# The sanitizer tier: the same suite on a 6.12 kernel with KASAN, lockdep,
# kmemleak, UBSAN and fault injection (built once, cached outside the tree),
# 100 load/use/close/unload cycles, then the fault-injection sweep, the
# fuzzer and the reference model.
if [ "$mode" = full ] && [ "${BUS1_SKIP_DEBUG:-0}" != 1 ]; then
	dbg=
	if tier debug-kernel sh tools/testing/kernel/build-kernel.sh debug; then
		dbg=$(tail -n 1 "$results/debug-kernel.log")
	fi
	if [ -n "$dbg" ] && [ -f "$dbg/bzImage" ]; then
		tier debug-api "${make[@]}" vm-test KERNEL="$dbg/bzImage" \
			KDIR="$dbg" MODBUILD=debug \
			VM_ARGS="-T 3600 -e VM_TEST_TIMEOUT=900 -e VM_CYCLES=100 -e BUS1_TEST_SCALE=10 --append panic_on_warn=1"
		[ -x tools/testing/fault/run.sh ] &&
			tier fault env KDIR="$dbg" bash tools/testing/fault/run.sh
		[ -x tools/testing/fuzz/run.sh ] &&
			tier fuzz env KDIR="$dbg" bash tools/testing/fuzz/run.sh
		[ -x tools/testing/model/run.sh ] &&
			tier model env KDIR="$dbg" bash tools/testing/model/run.sh
	else
		record debug-api 0 1 "not run: no debug kernel"
	fi
fi

finish
