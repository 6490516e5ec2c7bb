#!/bin/bash
# Mutation check of the fuzzer and the reference model: build each mutant
# of mutants.txt (the module with one deliberate bug) for the stock kernel,
# run the tools its entry expects against it in the VM, and require each of
# them to fail. A tool that passes on a mutant cannot see that class of bug.
# Both tools must first pass on the unmodified module. Last line: "N
# passed, N failed" (one result per mutant and tool, one per mutant that
# applied and built, and the two baseline runs).
#
# Environment: KDIR/KERNEL (default: the Debian cloud kernel, as for make
# check-quick), MUTANTS (names to run, default all), BUS1_FUZZ_OPS (default
# 200000), BUS1_MODEL_ROUNDS/BUS1_MODEL_OPS (default 10 x 2000).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=$top/build/mutants
qemu=$top/tools/testing/qemu

KDIR=${KDIR:-$(sh "$qemu/cloud-kernel.sh" kdir)} || exit 1
KERNEL=${KERNEL:-$(sh "$qemu/cloud-kernel.sh" image)} || exit 1
export KDIR KERNEL

passed=0
failed=0
result() {
	if [ "$1" = 0 ]; then
		echo "ok - $2"
		passed=$((passed + 1))
	else
		echo "not ok - $2"
		failed=$((failed + 1))
	fi
}

# One tool against a module build: the tool's exit status.
run_tool() {
	local name=$1 tool=$2 ko=$3 log=$out/$1/$2.log
	case $tool in
	fuzz)
		BUS1_MODULE=$ko BUS1_FUZZ_OPS=${BUS1_FUZZ_OPS:-200000} \
			VM_TIMEOUT=600 bash "$top/tools/testing/fuzz/run.sh" \
			-o "$out/$name/vm-fuzz" >"$log" 2>&1
		;;
	model)
		BUS1_MODULE=$ko BUS1_MODEL_ROUNDS=${BUS1_MODEL_ROUNDS:-10} \
			BUS1_MODEL_OPS=${BUS1_MODEL_OPS:-2000} \
			BUS1_MODEL_MIN_STEPS=0 VM_TIMEOUT=600 \
			bash "$top/tools/testing/model/run.sh" \
			-o "$out/$name/vm-model" >"$log" 2>&1
		;;
	*)
		echo "unknown tool '$tool'" >"$log"
		return 2
		;;
	esac
}

# 0 if the tool failed on the mutant, with the VM booted and the tool run:
# a failure of the tool's own build or a VM that never started is no catch.
catch() {
	run_tool "$@" && return 1
	grep -q "^bus1-vm: running bus1-$2" "$out/$1/vm-$2/console.log" 2>/dev/null
}

run_mutant() {
	local name=$1 file=$2 expect=$3 from=$4 to=$5 nth=$6 dir=$out/$1 tool
	case " ${MUTANTS:-$name} " in *" $name "*) ;; *) return ;; esac
	rm -rf "$dir"
	mkdir -p "$dir/ipc/bus1"
	cp "$top"/ipc/bus1/Kbuild "$top"/ipc/bus1/*.[ch] "$dir/ipc/bus1/"
	rm -f "$dir"/ipc/bus1/*.mod.c
	ln -s "$top/include" "$dir/include"
	if ! perl "$here/apply.pl" "$dir/$file" "$from" "$to" $nth 2>"$dir/build.log" ||
	   ! make -C "$KDIR" M="$dir/ipc/bus1" modules >>"$dir/build.log" 2>&1; then
		cat "$dir/build.log"
		result 1 "mutant $name applies and builds"
		return
	fi
	result 0 "mutant $name applies and builds"
	for tool in $expect; do
		catch "$name" "$tool" "$dir/ipc/bus1/bus1.ko"
		result $? "$tool detects mutant $name (log: build/mutants/$name/$tool.log)"
	done
}

make -s -C "$top/tools/testing/fuzz" && make -s -C "$top/tools/testing/model" || exit 1

# The unmodified module first: both tools must pass on it, or a "caught"
# mutant proves nothing.
base=$out/baseline
if [ -z "${MUTANTS:-}" ]; then
	rm -rf "$base"
	mkdir -p "$base/ipc/bus1"
	cp "$top"/ipc/bus1/Kbuild "$top"/ipc/bus1/*.[ch] "$base/ipc/bus1/"
	rm -f "$base"/ipc/bus1/*.mod.c
	ln -s "$top/include" "$base/include"
	if make -C "$KDIR" M="$base/ipc/bus1" modules >"$base/build.log" 2>&1; then
		for tool in fuzz model; do
			run_tool baseline "$tool" "$base/ipc/bus1/bus1.ko"
			result $? "$tool passes on the unmodified module (log: build/mutants/baseline/$tool.log)"
		done
	else
		cat "$base/build.log"
		result 1 "the unmodified module builds"
	fi
fi
name= file= expect= from= to= nth=
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'#'*) continue ;;
	name:\ *) name=${line#name: } ;;
	file:\ *) file=${line#file: } ;;
	expect:\ *) expect=${line#expect: } ;;
	from:\ *) from=${line#from: } ;;
	to:\ *) to=${line#to: } ;;
	nth:\ *) nth=${line#nth: } ;;
	'')
		[ -z "$name" ] || run_mutant "$name" "$file" "$expect" "$from" "$to" "$nth"
		name= file= expect= from= to= nth=
		;;
	esac
done < "$here/mutants.txt"
[ -z "$name" ] || run_mutant "$name" "$file" "$expect" "$from" "$to" "$nth"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
