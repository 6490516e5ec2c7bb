#!/bin/sh
# Compile include/uapi/linux/bus1.h under each C standard, 64- and 32-bit,
# with -pedantic -Wall -Wextra; any warning fails that variant. Prints one
# TAP line per variant and "N passed, N failed" last.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
cc=${CC:-gcc}
out=$(mktemp -d "${TMPDIR:-/tmp}/bus1-header.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM

n=0
passed=0
failed=0
echo "TAP version 13"
echo "1..8"
for m in 64 32; do
	for std in c99 c11 c17 c2x; do
		n=$((n + 1))
		what="bus1.h compiles warning-free with -std=$std -m$m -pedantic -Wall -Wextra"
		if "$cc" -m$m -std=$std -pedantic -Wall -Wextra -Werror \
			-I"$top/include/uapi" -c -o "$out/t.o" \
			"$here/bus1-header-test.c" >"$out/log" 2>&1 &&
			! [ -s "$out/log" ]; then
			echo "ok $n $what"
			passed=$((passed + 1))
		else
			echo "not ok $n $what"
			sed 's/^/# /' "$out/log"
			failed=$((failed + 1))
		fi
	done
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
