#!/bin/sh
# Pack an uncompressed initramfs: busybox-static, an /init script and any
# files given as SRC:DEST pairs (DEST ending in "/" keeps SRC's basename;
# a directory SRC is copied with its contents).
#
# Usage: mkinitramfs.sh OUT.cpio INIT [SRC:DEST ...]
#
# Uncompressed, because minimal self-built kernels may lack RD_GZIP. Needs
# no root: the one device node the kernel wants before /init runs
# (/dev/console, for init's stdin/stdout) is written as a raw cpio header
# instead of being created with mknod.
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 OUT.cpio INIT [SRC:DEST ...]" >&2
	exit 2
fi
out=$1
init=$2
shift 2

busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
	echo "$0: $busybox not found: apt-get install busybox-static" >&2
	exit 1
fi
# A dynamically linked busybox would find no libc in the VM.
if ldd "$busybox" >/dev/null 2>&1; then
	echo "$0: $busybox is not statically linked: apt-get install busybox-static" >&2
	exit 1
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/bus1-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM

mkdir -p "$stage/bin" "$stage/sbin" "$stage/usr/bin" "$stage/usr/sbin" \
	"$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" "$stage/etc" \
	"$stage/modules" "$stage/tests" "$stage/root"
cp "$busybox" "$stage/bin/busybox"
cp "$init" "$stage/init"
chmod 0755 "$stage/init"

for pair in "$@"; do
	src=${pair%%:*}
	dest=${pair#*:}
	if [ "$src" = "$pair" ] || [ -z "$dest" ]; then
		echo "$0: '$pair' is not SRC:DEST" >&2
		exit 2
	fi
	if [ ! -e "$src" ]; then
		echo "$0: $src does not exist" >&2
		exit 1
	fi
	case $dest in
	*/) dest="$dest$(basename "$src")" ;;
	esac
	mkdir -p "$stage$(dirname "$dest")"
	cp -RL "$src" "$stage$dest"
done

# One newc header: name, mode, rdev major, rdev minor (no file data).
newc_entry() {
	namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$5" "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
	printf '%s\000' "$1"
	# Header (110 bytes) plus name is padded to a multiple of 4.
	pad=$(((4 - (110 + namesize) % 4) % 4))
	while [ "$pad" -gt 0 ]; do
		printf '\000'
		pad=$((pad - 1))
	done
}

tmp="$out.tmp"
{
	# The kernel unpacks concatenated archives: device nodes first, then
	# the staged tree (the "dev" directory entry there does not replace
	# the node inside it).
	newc_entry dev $((040755)) 0 0 1
	newc_entry dev/console $((020600)) 5 1 2
	newc_entry 'TRAILER!!!' 0 0 0 0
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0)
} >"$tmp"
mv "$tmp" "$out"
