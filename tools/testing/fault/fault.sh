# Fault-injection sweep of bus1 on the debug kernel (spec 12.12 item 146):
# load bus1.ko, run /fault/bus1-fault-sweep (TAP; it configures failslab,
# fail_page_alloc and the console itself and restores them), then require
# zero object counters, a clean kmemleak scan and a clean unload.
. /lib/vm-lib.sh

if ! vm_check "load bus1.ko" vm_load bus1; then
	exit 0
fi
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-900}
export VM_TEST_TIMEOUT
vm_run_tests /fault
vm_check "bus1 object counters are zero after the sweep" vm_counters_zero bus1
vm_kmemleak
vm_check "rmmod bus1 after the sweep" vm_unload bus1
exit 0
