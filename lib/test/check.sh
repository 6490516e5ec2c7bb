#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Host-side checks of libbus1 (`make -C lib check`). Everything that needs
# /dev/bus1 runs in the VM instead (`make -C lib test-progs`).
#
# usage: check.sh LIBDIR CC

set -u
LIB=$1
CC=${2:-cc}
TOP=$(cd "$LIB/.." && pwd)
OUT=$LIB/out/check
WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes"

rm -rf "$OUT"
mkdir -p "$OUT"
pass=0
fail=0
n=0

# step NAME COMMAND...: run COMMAND, print PASS/FAIL, show its output on failure
step() {
	name=$1
	shift
	n=$((n + 1))
	if "$@" >"$OUT/step$n.log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS: $name"
	else
		fail=$((fail + 1))
		echo "FAIL: $name"
		sed 's/^/    /' "$OUT/step$n.log"
	fi
}

build_with() {
	cc=$1
	shift
	mkdir -p "$OUT/$cc$*"
	for f in "$LIB"/src/*.c; do
		$cc -std=c11 -D_GNU_SOURCE $WARN "$@" -fPIC -fvisibility=hidden \
			-I"$LIB/include" -I"$TOP/include/uapi" -O2 \
			-c -o "$OUT/$cc$*/$(basename "$f" .c).o" "$f" || return 1
	done
	$cc "$@" -shared -Wl,--version-script="$LIB/libbus1.sym" \
		-Wl,--no-undefined -o "$OUT/$cc$*/libbus1.so" "$OUT/$cc$*"/*.o
}

header_standalone() {
	printf '#include <libbus1.h>\nint main(void) { return bus1_peer_new() < 0; }\n' \
		>"$OUT/hdr.c"
	for std in c99 c11 c17 c2x; do
		gcc -std=$std -pedantic $WARN -I"$LIB/include" \
			-I"$TOP/include/uapi" -fsyntax-only "$OUT/hdr.c" || return 1
		clang -std=$std -pedantic $WARN -I"$LIB/include" \
			-I"$TOP/include/uapi" -fsyntax-only "$OUT/hdr.c" || return 1
	done
	cp "$OUT/hdr.c" "$OUT/hdr.cc"
	g++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$LIB/include" \
		-I"$TOP/include/uapi" -fsyntax-only "$OUT/hdr.cc"
}

# Exported = listed in libbus1.sym = declared in libbus1.h, all LIBBUS1_1.
abi() {
	so=$LIB/out/libbus1.so.0
	readelf -d "$so" | grep -q 'SONAME.*\[libbus1\.so\.0\]' ||
		{ echo "SONAME is not libbus1.so.0"; return 1; }
	nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sort >"$OUT/exported"
	grep -v '@@LIBBUS1_1$' "$OUT/exported" && { echo "unversioned exports"; return 1; }
	sed 's/@@LIBBUS1_1$//' "$OUT/exported" >"$OUT/exported.names"
	sed -n 's/^\t\(bus1_[a-z0-9_]*\);$/\1/p' "$LIB/libbus1.sym" | sort >"$OUT/map"
	# declarations of library functions (not the static inline helpers)
	grep -v '^static inline' "$LIB/include/libbus1.h" | tr '\n' ' ' |
		grep -o '[a-z_0-9]* *\** *\(bus1_[a-z0-9_]*\)(' |
		sed 's/.*\(bus1_[a-z0-9_]*\)($/\1/' |
		grep -v '_freep$' | sort -u >"$OUT/declared"
	diff -u "$OUT/map" "$OUT/exported.names" || return 1
	diff -u "$OUT/map" "$OUT/declared" || return 1
	echo "$(wc -l <"$OUT/map") functions exported as LIBBUS1_1"
	# the static library defines nothing outside the bus1_ namespace
	nm -g --defined-only "$LIB/out/libbus1.a" | awk 'NF == 3 { print $3 }' |
		grep -v '^bus1_' && { echo "foreign symbols in libbus1.a"; return 1; }
	# and nothing that a name from the UAPI header could collide with
	for s in $(cat "$OUT/map"); do
		grep -qw "struct $s" "$TOP/include/uapi/linux/bus1.h" &&
			[ "${s#bus1_cmd_}" = "$s" ] &&
			{ echo "$s collides with the UAPI header"; return 1; }
	done
	return 0
}

man_pages() {
	make -s -C "$LIB" man || return 1
	for f in $(cat "$OUT/map") libbus1; do
		[ -f "$LIB/out/man/$f.3" ] || { echo "no man page for $f"; return 1; }
	done
	for f in "$LIB"/out/man/*.3; do
		if grep -q '^\.so ' "$f"; then
			t=$LIB/out/man/$(sed -n 's|^\.so man3/||p' "$f")
			[ -f "$t" ] || { echo "$f: dangling .so"; return 1; }
			continue
		fi
		w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$f" 2>&1)
		[ -z "$w" ] || { echo "$f: $w"; return 1; }
	done
	echo "$(ls "$LIB"/out/man/*.3 | wc -l) pages"
}

unit() {
	$CC -std=gnu11 -D_GNU_SOURCE $WARN -Wno-missing-prototypes -g -O1 \
		-fsanitize=address,undefined -fno-sanitize-recover=all \
		-I"$LIB/include" -I"$TOP/include/uapi" \
		-o "$OUT/unit" "$LIB/test/unit.c" && "$OUT/unit"
}

install_tree() {
	make -s -C "$LIB" install DESTDIR="$OUT/root" PREFIX=/usr || return 1
	for f in usr/lib/libbus1.so.0.1.0 usr/lib/libbus1.so.0 usr/lib/libbus1.so \
		 usr/lib/libbus1.a usr/include/libbus1.h usr/include/linux/bus1.h \
		 usr/lib/pkgconfig/libbus1.pc usr/share/man/man3/libbus1.3 \
		 usr/share/man/man3/bus1_cmd_send.3 usr/share/man/man3/bus1_msg_free.3; do
		[ -e "$OUT/root/$f" ] || { echo "missing $f"; return 1; }
	done
	cmp "$OUT/root/usr/include/linux/bus1.h" "$TOP/include/uapi/linux/bus1.h"
}

# Build like a user: only pkg-config, only the installed copy.
pc() {
	PKG_CONFIG_PATH=$OUT/root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$OUT/root \
		pkg-config "$@"
}

link_shared() {
	flags=$(pc --cflags --libs libbus1) || return 1
	echo "pkg-config: $flags"
	$CC -std=c11 -Wall -Wextra -Werror -o "$OUT/link-shared" \
		"$LIB/test/link-prog.c" $flags || return 1
	readelf -d "$OUT/link-shared" | grep -q 'NEEDED.*\[libbus1\.so\.0\]' ||
		{ echo "not linked against libbus1.so.0"; return 1; }
	objdump -T "$OUT/link-shared" | grep -q 'LIBBUS1_1.*bus1_msg_recv' ||
		{ echo "no versioned reference to bus1_msg_recv"; return 1; }
	LD_LIBRARY_PATH=$OUT/root/usr/lib LD_BIND_NOW=1 "$OUT/link-shared" --probe
}

link_static() {
	flags=$(pc --static --cflags --libs libbus1) || return 1
	$CC -std=c11 -Wall -Wextra -Werror -static -o "$OUT/link-static" \
		"$LIB/test/link-prog.c" $flags || return 1
	readelf -d "$OUT/link-static" 2>&1 | grep -q NEEDED &&
		{ echo "not static"; return 1; }
	"$OUT/link-static" --probe
}

test_progs() {
	make -s -C "$LIB" test-progs || return 1
	ls "$LIB/out/tests"
}

step "build with gcc (-Werror)" make -s -C "$LIB" all
step "build with clang (-Werror)" build_with clang
step "build for 32-bit (-m32 -Werror)" build_with gcc -m32
step "header alone: C99/C11/C17/C2x (gcc, clang, -pedantic), C++11" header_standalone
step "ABI: exports = libbus1.sym = libbus1.h, version LIBBUS1_1" abi
step "man pages render without warnings, one per function" man_pages
step "unit test under ASan/UBSan" unit
step "install PREFIX=/usr DESTDIR=..." install_tree
step "pkg-config: shared link and load against the installed copy" link_shared
step "pkg-config: static link against the installed copy" link_static
step "VM test programs build (static)" test_progs

echo "libbus1: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
