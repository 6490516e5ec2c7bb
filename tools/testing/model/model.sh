# The reference-model check in the VM (spec 12.12): load bus1.ko, run
# /model/bus1-model (TAP, one result per round; each round ends with zero
# object counters), then require a clean kmemleak scan and a clean unload.
# run-vm.sh judges the kernel log.
. /lib/vm-lib.sh

if ! vm_check "load bus1.ko" vm_load bus1; then
	exit 0
fi
export BUS1_MODEL_SEED BUS1_MODEL_ROUNDS BUS1_MODEL_OPS BUS1_MODEL_MIN_STEPS
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-2400}
VM_SUITE_TIMEOUT=$VM_TEST_TIMEOUT
export VM_TEST_TIMEOUT VM_SUITE_TIMEOUT
vm_run_tests /model
vm_check "bus1 object counters are zero after the model check" vm_counters_zero bus1
vm_kmemleak
vm_check "rmmod bus1 after the model check" vm_unload bus1
exit 0
