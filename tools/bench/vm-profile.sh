# Profiling payload for the test VM (busybox sh): loads bus1.ko, prints
# its symbols for insnreport.py and runs one bus1-bench command, under the
# insncount QEMU plugin (see profile.sh).
#
# Settings: PROFILE_ARGS (the bus1-bench arguments, without --iters and
# --warmup), PROFILE_ITERS, PROFILE_WARMUP.
. /lib/vm-lib.sh

vm_check "load bus1.ko" vm_load bus1 max_objects=16777216 || exit 0
echo "profile-symbols begin"
grep '\[bus1\]' /proc/kallsyms
echo "profile-symbols end"
# shellcheck disable=SC2086 # PROFILE_ARGS is a word list
vm_check "bus1-bench $PROFILE_ARGS --iters $PROFILE_ITERS" \
	timeout -s KILL 1200 /bench/bus1-bench $PROFILE_ARGS \
	--iters "$PROFILE_ITERS" --warmup "${PROFILE_WARMUP:-500}"
vm_check "rmmod bus1" vm_unload bus1
exit 0
