#!/bin/sh
# Print the path of an unpacked Debian linux-source-6.12 tree, unpacking it
# into the cache on first use. The tree is used for kselftest_harness.h,
# checkpatch.pl and the test kernels; nothing from it is copied into the
# repository.
set -eu
cache=${BUS1_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bus1}
tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null || true)
if [ -z "$tarball" ]; then
	echo "linux-source-6.12 is not installed: apt-get install linux-source-6.12" >&2
	exit 1
fi
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
dir="$cache/src/linux-source-6.12-$ver"
if [ ! -f "$dir/.unpacked" ]; then
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp"
	tar -xJf "$tarball" -C "$dir.tmp" --strip-components=1
	touch "$dir.tmp/.unpacked"
	mv "$dir.tmp" "$dir"
fi
echo "$dir"
