#!/bin/sh
# Find the Debian cloud kernel to build and test against.
#
# Usage: cloud-kernel.sh [version|kdir|image]
#
# A module only loads into the kernel whose headers it was built with, and
# after a security update linux-headers-cloud-amd64 can be newer than the
# installed image. So pick the newest version that has both an image in /boot
# and a build tree, never the newest of each on its own.
set -eu

what=${1:-version}

for image in $(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V -r); do
	ver=${image#/boot/vmlinuz-}
	for kdir in "/lib/modules/$ver/build" "/usr/src/linux-headers-$ver"; do
		[ -f "$kdir/Makefile" ] || continue
		case $what in
		version) echo "$ver" ;;
		kdir) (cd "$kdir" && pwd -P) ;;
		image) echo "$image" ;;
		*) echo "usage: $0 [version|kdir|image]" >&2; exit 2 ;;
		esac
		exit 0
	done
done

echo "$0: no Debian cloud kernel image with matching headers is installed" >&2
echo "$0: run tools/testing/deps.sh (as root) to install them" >&2
exit 1
