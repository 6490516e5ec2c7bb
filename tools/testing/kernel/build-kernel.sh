#!/bin/sh
# Build (once) and cache a minimal x86_64 test kernel from Debian's
# linux-source-6.12.
#
# Usage: build-kernel.sh debug|bench
#
#   debug  KASAN (generic, inline), lockdep (PROVE_LOCKING), UBSAN,
#          kmemleak, DEBUG_LIST/DEBUG_OBJECTS, failslab, fail_page_alloc
#          and fail-nth, hung-task and soft-lockup detectors.
#   bench  no debugging aids; binder and binderfs built in
#          (ANDROID_BINDER_DEVICES is empty: mount binderfs and create
#          devices through binder-control).
#
# The last line on stdout is the path of a directory holding
#   bzImage       the kernel to boot (qemu -kernel DIR/bzImage)
#   .config       the final configuration (also /proc/config.gz in the VM)
#   build-info    flavor, cache key, source version, kernel release
#   build.log     the full build log
# and which is itself a module build tree with Module.symvers:
#   make -C DIR M=/abs/path/to/module modules
# Progress goes to stderr.
#
# Configuration: ARCH=x86_64 allnoconfig with base.config and FLAVOR.config
# (both beside this script) given as the preset through
# scripts/kconfig/merge_config.sh, then olddefconfig. Every option the
# fragments name is then checked in the final .config, "# CONFIG_X is not
# set" lines included, and the build fails listing each option Kconfig
# dropped (a missing dependency, or e.g. SLUB_TINY silently turning KASAN
# off). allnoconfig rather than tinyconfig: no SLUB_TINY, no -Os, no xz.
#
# Booting: qemu-system-x86_64 -accel tcg -m 2G -smp 2 -nographic -no-reboot
# -kernel DIR/bzImage -initrd INITRAMFS (uncompressed or gzip'd cpio);
# the VM ends with `reboot -f` (or `poweroff -f`, through ACPI). Command
# line for the debug kernel:
#   console=ttyS0 panic=-1 oops=panic panic_on_warn=1
#
# Cache: ${BUS1_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bus1}/kernels/
# FLAVOR-KEY, where KEY hashes this script, both fragments, the Debian
# source package version and the compiler and linker versions; a complete
# entry is reused at once. The build runs in a temporary directory next to
# it and is renamed into place; the entry counts as complete only once its
# .complete stamp exists (written after an out-of-tree module has been
# built against it), so an interrupted build is never taken for a finished
# one and is cleaned up by the next run. Builds are serialized with a lock
# (both flavors at once would only fight over the same cores). Old entries
# are not removed: delete FLAVOR-* directories by hand when space matters.
#
# The source tree (tools/testing/linux-source.sh) stays clean: the build is
# out of tree (O=), so both flavors share one unpacked source.
#
# Environment: BUS1_CACHE as above; BUS1_JOBS make jobs (default: nproc).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"

say() {
	echo "build-kernel.sh: $*" >&2
}

die() {
	say "error: $*"
	exit 1
}

flavor=${1:-}
case $flavor in
debug | bench) ;;
*)
	echo "usage: $0 debug|bench" >&2
	exit 2
	;;
esac

# A calling make passes its jobserver, command-line variables and flags
# through the environment; none of them belong in the kernel build.
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL GNUMAKEFLAGS \
	KBUILD_OUTPUT KBUILD_EXTMOD KCFLAGS KCPPFLAGS KAFLAGS \
	ARCH SRCARCH CROSS_COMPILE LLVM O M W C V 2>/dev/null || true

cache=${BUS1_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bus1}
kernels="$cache/kernels"
jobs=${BUS1_JOBS:-$(nproc)}
base="$here/base.config"
frag="$here/$flavor.config"

for f in "$base" "$frag"; do
	[ -r "$f" ] || die "$f is missing"
done

src=$("$here/../linux-source.sh") || die "no kernel source (see above)"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null ||
	echo unknown)
ccver=$(gcc --version 2>/dev/null | head -n 1) || die "gcc not found"
ldver=$(ld --version 2>/dev/null | head -n 1) || die "ld not found"

key=$({
	echo "$srcver"
	echo "$ccver"
	echo "$ldver"
	cat "$self" "$base" "$frag"
} | sha256sum | cut -c 1-16)

dest="$kernels/$flavor-$key"

if [ -f "$dest/.complete" ]; then
	echo "$dest"
	exit 0
fi

mkdir -p "$kernels"
exec 9>"$kernels/.lock"
if ! flock -n 9; then
	say "waiting for another kernel build to finish"
	flock 9
fi

# Another run may have finished this entry while we waited.
if [ -f "$dest/.complete" ]; then
	echo "$dest"
	exit 0
fi

# Holding the lock, nothing else is building: whatever is left over from
# an interrupted run (a temporary tree, an entry without its stamp) goes.
rm -rf "$kernels"/.tmp-* "$dest"

tmp="$kernels/.tmp-$flavor-$key"
log="$kernels/$flavor-$key.log"
ticker=
start=$(date +%s)

elapsed() {
	t=$(($(date +%s) - start))
	printf '%dm%02ds' $((t / 60)) $((t % 60))
}

cleanup() {
	rc=$?
	[ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true
	rm -rf "$tmp"
	if [ "$rc" != 0 ]; then
		[ -d "$dest" ] && [ ! -f "$dest/.complete" ] && rm -rf "$dest"
		say "failed after $(elapsed); log: $log"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$tmp"
: >"$log"
kmake() {
	make -C "$src" O="$tmp" ARCH=x86_64 "$@" >>"$log" 2>&1
}

show_log_tail() {
	tail -n 30 "$log" | sed 's/^/  | /' >&2
}

say "$flavor kernel from $src"
say "building in $tmp (log: $log)"

say "[$(elapsed)] configuring: allnoconfig + base.config + $flavor.config"
if ! (cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -n \
	-O "$tmp" "$base" "$frag") >>"$log" 2>&1; then
	show_log_tail
	die "configuration failed"
fi
if ! kmake olddefconfig; then
	show_log_tail
	die "olddefconfig failed"
fi

say "[$(elapsed)] checking the requested options in .config"
# The fragments are read in merge order, so a later assignment of the same
# option wins, as it does in merge_config.sh. Absent means "not set".
if ! awk -v cfg="$tmp/.config" '
	{ sym = "" }
	/^CONFIG_[A-Za-z0-9_]+=/ {
		i = index($0, "=")
		sym = substr($0, 1, i - 1)
		val = substr($0, i + 1)
	}
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { sym = $2; val = "n" }
	sym == "" { next }
	FILENAME == cfg { have[sym] = val; next }
	{
		if (!(sym in want))
			order[++n] = sym
		want[sym] = val
	}
	END {
		bad = 0
		for (i = 1; i <= n; i++) {
			s = order[i]
			h = (s in have) ? have[s] : "n"
			if (h == want[s])
				continue
			printf "  %s: asked for %s, got %s\n", s,
				want[s] == "n" ? "not set" : want[s],
				h == "n" ? "not set" : h
			bad++
		}
		printf "  %d options checked, %d wrong\n", n, bad
		exit bad != 0
	}' "$base" "$frag" "$tmp/.config" >"$tmp/verify.txt"; then
	cat "$tmp/verify.txt" >&2
	cat "$tmp/verify.txt" >>"$log"
	die "the final .config lacks options the fragments ask for" \
		"(a dependency is missing or another option overrides them)"
fi
cat "$tmp/verify.txt" >>"$log"
say "$(tail -n 1 "$tmp/verify.txt" | sed 's/^ *//')"

say "[$(elapsed)] building bzImage and modules with $jobs jobs"
(
	while sleep 60; do
		last=$(tail -n 1 "$log" 2>/dev/null | cut -c 1-60)
		say "[$(elapsed)] ... $last"
	done
) &
ticker=$!
if ! kmake -j"$jobs" bzImage modules; then
	show_log_tail
	die "kernel build failed"
fi
kill "$ticker" 2>/dev/null || true
wait "$ticker" 2>/dev/null || true
ticker=

[ -f "$tmp/arch/x86/boot/bzImage" ] || die "no bzImage was built"
[ -f "$tmp/Module.symvers" ] || die "no Module.symvers was written"
cp "$tmp/arch/x86/boot/bzImage" "$tmp/bzImage"
release=$(make -s -C "$src" O="$tmp" ARCH=x86_64 kernelrelease 2>>"$log" |
	tail -n 1)
{
	echo "flavor=$flavor"
	echo "key=$key"
	echo "source=$src"
	echo "source_version=$srcver"
	echo "release=$release"
	echo "compiler=$ccver"
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "build_seconds=$(($(date +%s) - start))"
} >"$tmp/build-info"
rm -f "$tmp/verify.txt"
mv "$log" "$tmp/build.log"
log="$dest/build.log"
mv "$tmp" "$dest"

# The tree is used from its final path only: prove an out-of-tree module
# builds there before calling the entry complete.
say "[$(elapsed)] building an out-of-tree module against $dest"
probe=$(mktemp -d "${TMPDIR:-/tmp}/bus1-kprobe.XXXXXX")
cat >"$probe/probe.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/module.h>

static int __init probe_init(void)
{
	return 0;
}

static void __exit probe_exit(void)
{
}

module_init(probe_init);
module_exit(probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Checks that the test kernel tree builds modules");
EOF
echo 'obj-m := probe.o' >"$probe/Kbuild"
if ! make -C "$dest" M="$probe" modules >>"$log" 2>&1 ||
	[ ! -f "$probe/probe.ko" ]; then
	rm -rf "$probe"
	cp "$log" "$kernels/$flavor-$key.log"
	log="$kernels/$flavor-$key.log"
	show_log_tail
	die "an out-of-tree module does not build against $dest"
fi
rm -rf "$probe"

touch "$dest/.complete"
say "[$(elapsed)] done: $flavor kernel $release"
echo "$dest"
