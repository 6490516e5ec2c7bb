# Demo: run the example program with the module loaded. Its output goes
# between the transcript markers, which the host shows on its own.
. /lib/vm-lib.sh
export PATH=/examples:$PATH

vm_check "load bus1.ko" vm_load bus1 || exit 0
echo "bus1-vm: transcript begin"
timeout -s KILL "${VM_TEST_TIMEOUT:-300}" ${VM_DEMO_CMD:-bus1-demo} </dev/null
rc=$?
echo "bus1-vm: transcript end"
if [ "$rc" -eq 0 ]; then
	vm_ok "demo exited with status 0"
else
	vm_not_ok "demo exited with status $rc"
fi
vm_check "bus1 object counters are zero after the demo" vm_counters_zero bus1
vm_check "rmmod bus1 after the demo" vm_unload bus1
exit 0
