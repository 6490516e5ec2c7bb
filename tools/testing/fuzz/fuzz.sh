# The random-operation fuzzer in the VM (spec 12.12): load bus1.ko, run
# /fuzz/bus1-fuzz (TAP; its own verdict includes the depth minimums and
# zero object counters), then require a clean kmemleak scan and a clean
# unload. run-vm.sh judges the kernel log.
#
# With BUS1_SOAK_SECONDS=N (make soak, spec 12.12 item 147) the fuzzer
# runs again and again, seed after seed, until N seconds have passed;
# every run must pass.
. /lib/vm-lib.sh

if ! vm_check "load bus1.ko" vm_load bus1; then
	exit 0
fi
export BUS1_FUZZ_SEED BUS1_FUZZ_OPS BUS1_FUZZ_PROCS
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-2400}
VM_SUITE_TIMEOUT=$VM_TEST_TIMEOUT
export VM_TEST_TIMEOUT VM_SUITE_TIMEOUT
if [ -n "${BUS1_SOAK_SECONDS:-}" ]; then
	_end=$(($(date +%s) + BUS1_SOAK_SECONDS))
	_runs=0
	while [ "$(date +%s)" -lt "$_end" ]; do
		echo "bus1-vm: soak run $_runs, seed $BUS1_FUZZ_SEED"
		vm_run_tests /fuzz
		vm_check "bus1 object counters are zero after soak run $_runs" \
			vm_counters_zero bus1
		BUS1_FUZZ_SEED=$((BUS1_FUZZ_SEED + 1))
		_runs=$((_runs + 1))
	done
	echo "bus1-vm: soak: $_runs fuzzer runs in $BUS1_SOAK_SECONDS s"
else
	vm_run_tests /fuzz
	vm_check "bus1 object counters are zero after the fuzzer" \
		vm_counters_zero bus1
fi
vm_kmemleak
vm_check "rmmod bus1 after the fuzzer" vm_unload bus1
exit 0
