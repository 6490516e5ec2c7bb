#!/bin/bash
# Boot a kernel in QEMU with a generated initramfs, run a payload script in
# it and judge the run. Generic on purpose: the API suite, the demo, the
# interactive shell, a debug kernel or benchmarks differ only in the kernel,
# the files packed and the payload.
#
# The verdict is failure by default: the run passes only if the VM booted,
# the payload reached its end within the timeout, every TAP result and
# harness check passed and the kernel log shows no warning. The last line is
# "N passed, N failed"; the exit status is 0 only if nothing failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)

usage() {
	cat <<EOF
usage: $0 [options]
  -k, --kernel FILE     kernel image (default: \$KERNEL, else the installed
                        Debian cloud kernel that has matching headers)
  -m, --module FILE     put FILE into /modules/ (repeatable)
  -t, --test FILE|DIR   put FILE (or each file in DIR) into /tests/; the
                        API payload runs each (repeatable)
  -f, --file SRC:DEST   put SRC at DEST (DEST ending in / keeps the name)
  -p, --payload FILE    shell script run by /init (default: payload/api.sh)
  -e, --env NAME=VALUE  variable for the payload (repeatable), e.g.
                        VM_CYCLES=100, VM_TEST_TIMEOUT=600
  -o, --outdir DIR      logs and initramfs (default: build/vm/<payload>)
  -T, --timeout SECS    whole run, boot included (default: \$VM_TIMEOUT or 900)
      --append ARGS     extra kernel command line
      --mem SIZE        guest memory (default: \$VM_MEM or 2G)
      --smp N           guest CPUs (default: \$VM_SMP or 2)
      --allow ERE       kernel log lines matching ERE are not failures
                        (repeatable; for known noise of a test kernel)
      --transcript      show only the payload's transcript section live
  -i, --interactive     console on this terminal, no timeout, no verdict
EOF
}

die() {
	echo "run-vm.sh: $*" >&2
	exit 2
}

kernel=${KERNEL:-}
payload=$here/payload/api.sh
outdir=
timeout=${VM_TIMEOUT:-900}
mem=${VM_MEM:-2G}
smp=${VM_SMP:-2}
append=
interactive=0
transcript=0
files=()
envs=()
allow=()

while [ $# -gt 0 ]; do
	case $1 in
	-k|--kernel) kernel=$2; shift ;;
	-m|--module) files+=("$2:/modules/"); shift ;;
	-t|--test)
		if [ -d "$2" ]; then
			for t in "$2"/*; do
				if [ -f "$t" ]; then files+=("$t:/tests/"); fi
			done
		else
			files+=("$2:/tests/")
		fi
		shift
		;;
	-f|--file) files+=("$2"); shift ;;
	-p|--payload) payload=$2; shift ;;
	-e|--env) envs+=("$2"); shift ;;
	-o|--outdir) outdir=$2; shift ;;
	-T|--timeout) timeout=$2; shift ;;
	--append) append="$append $2"; shift ;;
	--mem) mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--allow) allow+=("$2"); shift ;;
	--transcript) transcript=1 ;;
	-i|--interactive) interactive=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	[ $# -gt 0 ] || die "option needs an argument"
	shift
done

if [ -z "$kernel" ]; then
	kernel=$(sh "$here/cloud-kernel.sh" image) || exit 2
fi
[ -r "$kernel" ] || die "cannot read kernel image $kernel (Debian's /boot/vmlinuz-* is readable by root only)"
[ -r "$payload" ] || die "no payload script $payload"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run tools/testing/deps.sh"

outdir=${outdir:-$top/build/vm/$(basename "$payload" .sh)}
mkdir -p "$outdir"
console=$outdir/console.log
klog=$outdir/kernel.log
initrd=$outdir/initramfs.cpio

# Settings reach the payload as a sourced file: the kernel command line
# would hand dotted names to modules as parameters.
conf=$outdir/vm.conf
: >"$conf"
for e in "${envs[@]+"${envs[@]}"}"; do
	name=${e%%=*}
	value=${e#*=}
	[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ && $e == *=* ]] || die "bad --env '$e'"
	printf "%s='%s'\nexport %s\n" "$name" "${value//\'/\'\\\'\'}" "$name" >>"$conf"
done

sh "$here/mkinitramfs.sh" "$initrd" "$here/init" \
	"$here/payload/lib.sh:/lib/vm-lib.sh" \
	"$payload:/payload" \
	"$conf:/etc/vm.conf" \
	"${files[@]+"${files[@]}"}"

# ttyS0 carries /init's output, ttyS1 the kernel console (a file), so
# kernel messages never interleave with test output. panic=-1 turns a panic
# into an immediate exit instead of a wait for the timeout.
cmdline="console=ttyS1,115200 ignore_loglevel panic=-1 rdinit=/init$append"
qemu=(qemu-system-x86_64 -accel tcg -smp "$smp" -m "$mem"
	-nographic -no-reboot
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline")

if [ "$interactive" = 1 ]; then
	echo "run-vm.sh: kernel log goes to $klog; Ctrl-A X quits QEMU"
	"${qemu[@]}" -serial mon:stdio -serial "file:$klog"
	exit 0
fi

# Live view: skip the firmware noise before /init and the final dmesg dump
# (it is scanned, and printed on failure); with --transcript show only the
# payload's transcript.
live_filter() {
	awk -v transcript="$transcript" '
		/bus1-vm: init started/ { on = 1 }
		/^bus1-vm: dmesg begin/ { on = 0 }
		/^bus1-vm: dmesg end/ { on = 1; next }
		/^bus1-vm: transcript begin/ { tr = 1; next }
		/^bus1-vm: transcript end/ { tr = 0; next }
		on && (!transcript || tr) { print; fflush() }
	'
}

booted=0
for attempt in 1 2; do
	rm -f "$console" "$klog"
	start=$(date +%s)
	set +e
	timeout -k 10 "$timeout" "${qemu[@]}" -monitor none \
		-serial stdio -serial "file:$klog" </dev/null 2>"$outdir/qemu.err" |
		awk -v out="$console" '{ sub(/\r+$/, ""); print > out; fflush(out); print; fflush() }' |
		live_filter
	rc=${PIPESTATUS[0]}
	set -e
	elapsed=$(($(date +%s) - start))
	touch "$console" "$klog"
	if grep -q 'bus1-vm: init started' "$console"; then
		booted=1
		break
	fi
	# Seen occasionally on back-to-back runs; not a test failure.
	if [ "$attempt" = 1 ]; then
		echo "run-vm.sh: VM did not boot (QEMU status $rc); retrying once"
	fi
done

failures=()
counts=$(awk -f "$here/tap-count.awk" "$console")
passed=$(sed -n 's/^passed //p' <<<"$counts")
failed=$(sed -n 's/^failed //p' <<<"$counts")
done_line=$(sed -n 's/^done //p' <<<"$counts")
while IFS= read -r line; do
	failures+=("${line#FAIL }")
done < <(grep '^FAIL ' <<<"$counts" || true)

host_check() {
	if [ "$1" = ok ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$2")
	fi
}

if [ "$booted" = 0 ]; then
	host_check fail "VM did not boot (twice): no 'init started' from /init"
else
	case $done_line in
	"1 0") host_check ok ;;
	"1 "*) host_check fail "payload exited with status ${done_line#1 }" ;;
	*)
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			host_check fail "timeout: no end of run after $timeout s"
		else
			host_check fail "run did not reach its end (QEMU status $rc after $elapsed s; kernel panic?)"
		fi
		;;
	esac
fi

# Scan the kernel console and the dmesg dump: with a quiet console a WARN
# would only show in the latter.
dmesg_dump=$(awk '/^bus1-vm: dmesg end/ { d = 0 } d { print } /^bus1-vm: dmesg begin/ { d = 1 }' "$console")
bad=$( { tr -d "\r" <"$klog"; printf '%s\n' "$dmesg_dump"; } |
	grep -E -f <(grep -v -e '^#' -e '^$' "$here/kernel-log-patterns") |
	{ if [ ${#allow[@]} -gt 0 ]; then grep -v -E "${allow[@]/#/-e}"; else cat; fi; } |
	awk '!seen[$0]++' || true)
if [ "$booted" = 1 ]; then
	if [ -z "$bad" ]; then
		host_check ok
	else
		host_check fail "kernel log shows warnings"
	fi
fi

if [ "$failed" -gt 0 ]; then
	echo
	echo "==================== console log ($console) ===================="
	cat "$console"
	echo "==================== kernel log ($klog) ===================="
	cat "$klog"
	if [ -s "$outdir/qemu.err" ]; then
		echo "==================== QEMU stderr ===================="
		cat "$outdir/qemu.err"
	fi
	echo "==================== failures ===================="
	printf 'FAILED: %s\n' "${failures[@]}"
	if [ -n "$bad" ]; then
		echo "kernel log lines that fail the run:"
		head -n 40 <<<"$bad" | sed 's/^/  /'
	fi
fi
echo "vm: kernel $kernel, $elapsed s, logs in $outdir"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
