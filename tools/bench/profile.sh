#!/bin/bash
# Instruction counts per kernel function and operation.
#
# Usage: profile.sh OUTDIR KERNEL_DIR BUS1_KO
#
# Each workload of PROFILE_WORKLOADS ("name:bus1-bench args", one per line)
# runs in a VM under the insncount plugin. bus1-bench marks the start and
# the end of its measured iterations (after the warm-up) for the plugin,
# so the counts cover exactly PROFILE_ITERS iterations: the client's and
# the server's work, the wake-ups and whatever else the kernel did
# meanwhile. insnreport.py then writes OUTDIR/profile.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$1
kdir=$2
ko=$3
iters=${PROFILE_ITERS:-5000}
warmup=${PROFILE_WARMUP:-500}
workloads=${PROFILE_WORKLOADS:-"rtt-bus1-64:rtt --transport bus1 --size 64
rtt-unix-64:rtt --transport unix --size 64
rtt-pipe-64:rtt --transport pipe --size 64
rtt-binder-64:rtt --transport binder --size 64
rtt-bus1-64k:rtt --transport bus1 --size 65536
rtt-unix-64k:rtt --transport unix --size 65536
self-bus1-64:self --transport bus1 --size 64
self-unix-64:self --transport unix --size 64
self-pipe-64:self --transport pipe --size 64
mcsend-procs-1:multicast --mode procs --dests 1 --mark ops
mcsend-procs-16:multicast --mode procs --dests 16 --mark ops
mcsend-epoll-1:multicast --mode epoll --dests 1 --mark ops
mcsend-epoll-16:multicast --mode epoll --dests 16 --mark ops
scale-10:scale --handles 10 --size 64
scale-1000000:scale --handles 1000000 --size 64
scaleop-10:scale --handles 10 --size 64 --mark ops
scaleop-1000000:scale --handles 1000000 --size 64 --mark ops"}

dir=$out/profile
mkdir -p "$dir/bin"
# run-vm.sh starts qemu-system-x86_64 from PATH: a wrapper adds the plugin.
cat >"$dir/bin/qemu-system-x86_64" <<WRAP
#!/bin/sh
exec $(command -v qemu-system-x86_64) -plugin $out/libinsncount.so,out=\$INSNCOUNT_OUT "\$@"
WRAP
chmod +x "$dir/bin/qemu-system-x86_64"

names=()
while IFS=: read -r name args; do
	[ -n "$name" ] || continue
	names+=("$name")
	echo "profile: $name ($args), $iters iterations"
	INSNCOUNT_OUT=$dir/$name.insn PATH=$dir/bin:$PATH \
		bash "$top/tools/testing/qemu/run-vm.sh" -k "$kdir/bzImage" \
		--append tsc=reliable -p "$here/vm-profile.sh" \
		-o "$dir/vm-$name" -T 1800 -m "$ko" \
		-f "$out/bus1-bench:/bench/" -e "PROFILE_ARGS=$args" \
		-e "PROFILE_ITERS=$iters" -e "PROFILE_WARMUP=$warmup" \
		>"$dir/vm-$name.log" 2>&1 ||
		{ tail -n 30 "$dir/vm-$name.log"; exit 1; }
done <<<"$workloads"

python3 "$here/insnreport.py" --dir "$dir" --system-map "$kdir/System.map" \
	--iters "$iters" "${names[@]}" | tee "$out/profile.txt"
