#!/bin/sh
# Style tier: checkpatch.pl (from Debian's linux-source, never copied here)
# on every kernel source file, and a sparse pass over the module build.
# Prints TAP lines and a final "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
src=$(sh tools/testing/linux-source.sh) || exit 1
kdir=${KDIR:-$(sh tools/testing/qemu/cloud-kernel.sh kdir)}
passed=0 failed=0 n=0

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
		passed=$((passed + 1))
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

for f in $(ls ipc/bus1/*.c ipc/bus1/*.h | grep -v "\.mod\.c$") include/uapi/linux/bus1.h; do
	out=$(perl "$src/scripts/checkpatch.pl" --no-tree --terse --show-types \
		-f "$f" 2>&1 | grep -E 'ERROR|WARNING')
	[ -n "$out" ] && echo "$out"
	check "$([ -z "$out" ]; echo $?)" "checkpatch $f"
done

command -v sparse >/dev/null || { echo "sparse is not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in $(ls ipc/bus1/*.c ipc/bus1/*.h | grep -v "\.mod\.c$") ipc/bus1/Kbuild; do
	ln -s "$top/$f" "$tmp/"
done
out=$(make -C "$kdir" M="$tmp" C=2 KCFLAGS="-I$top/include/uapi" modules 2>&1)
rc=$?
echo "$out" | grep -E 'warning|error' | grep -v '^make'
bad=$(echo "$out" | grep -cE 'warning:|error:')
check "$([ "$rc" = 0 ] && [ "$bad" = 0 ]; echo $?)" "sparse clean (make C=2)"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
