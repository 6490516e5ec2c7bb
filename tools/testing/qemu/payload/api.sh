# API suite: load bus1.ko, run every /tests binary, require a clean state
# after the suite, then repeat load/use/unload cycles with both instances.
# VM_BUS1_PARAMS: module parameters for the suite's bus1.ko (not the cycles).
. /lib/vm-lib.sh

# shellcheck disable=SC2086
if ! vm_check "load bus1.ko${VM_BUS1_PARAMS:+ $VM_BUS1_PARAMS}" vm_load bus1 $VM_BUS1_PARAMS; then
	# Without the module every test would fail for the same reason.
	exit 0
fi
vm_run_tests /tests
vm_check "bus1 object counters are zero after the suite" vm_counters_zero bus1
vm_kmemleak
vm_check "rmmod bus1 after the suite" vm_unload bus1
vm_check "no test module left loaded after the suite" vm_no_modules_left

mods=bus1
[ -f /modules/bus1x.ko ] && mods="bus1 bus1x"
_c0=$(date +%s)
vm_cycles "${VM_CYCLES:-10}" $mods
echo "bus1-vm: ${VM_CYCLES:-10} cycles took $(($(date +%s) - _c0)) s"
vm_kmemleak
exit 0
