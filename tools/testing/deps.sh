#!/bin/sh
# Install the Debian packages needed to build bus1 and run its tests.
#
# Fast when everything is present (only dpkg-query, no apt-get update), so
# every check target can call it. As root it installs what is missing; as any
# other user it prints the command to run and fails.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)

# build-essential, gcc-multilib: module, tests (-m32) and header checks.
# linux-{headers,image}-cloud-amd64: the default test kernel and its build tree.
# qemu-system-x86, busybox-static, cpio: the test VM and its initramfs.
# linux-source-6.12, xz-utils: kselftest_harness.h, checkpatch.pl, debug kernel.
# flex, bison, bc, libelf-dev, libssl-dev: building that debug kernel.
# python3-docutils: man pages. sparse: static checks. kmod: modinfo on the host.
# gnuplot-nox: the benchmark plot.
packages="build-essential gcc-multilib
	linux-headers-cloud-amd64 linux-image-cloud-amd64
	qemu-system-x86 busybox-static cpio kmod
	linux-source-6.12 xz-utils flex bison bc libelf-dev libssl-dev
	python3-docutils sparse gnuplot-nox"

missing=
for p in $packages; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case $st in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done

# Installed is not enough: the image and the headers must be one version.
kernel_pair() {
	sh "$top/tools/testing/qemu/cloud-kernel.sh" version >/dev/null 2>&1
}

if [ -z "$missing" ] && kernel_pair; then
	exit 0
fi

# Installing both meta packages in one go brings them to the same version.
want="$missing"
if ! kernel_pair; then
	case " $want " in *" linux-image-cloud-amd64 "*) ;; *) want="$want linux-image-cloud-amd64" ;; esac
	case " $want " in *" linux-headers-cloud-amd64 "*) ;; *) want="$want linux-headers-cloud-amd64" ;; esac
fi
# shellcheck disable=SC2086,SC2116 # squeezes the spaces
want=$(echo $want)
cmd="apt-get install -y --no-install-recommends $want"

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages or no matching cloud kernel image/headers pair." >&2
	echo "deps.sh: as root, run:" >&2
	echo "  apt-get update && $cmd" >&2
	exit 1
fi

echo "deps.sh: installing: $want"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $want

if ! kernel_pair; then
	# The meta packages can still disagree with an older image in /boot
	# (e.g. the mirror carries a newer header build only): install the
	# image that the headers meta package points at.
	hdr=$(dpkg-query -W -f='${Depends}' linux-headers-cloud-amd64 |
		sed -n 's/.*linux-headers-\([^ ,]*-cloud-amd64\).*/\1/p')
	if [ -n "$hdr" ]; then
		apt-get install -y -q --no-install-recommends "linux-image-$hdr"
	fi
fi

if ! kernel_pair; then
	sh "$top/tools/testing/qemu/cloud-kernel.sh" version || true
	echo "deps.sh: still no matching cloud kernel image and headers" >&2
	exit 1
fi
echo "deps.sh: all packages present; test kernel $(sh "$top/tools/testing/qemu/cloud-kernel.sh" version)"
