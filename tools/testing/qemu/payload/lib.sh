# Helpers for VM payload scripts (busybox sh), installed as /lib/vm-lib.sh.
#
# Every check prints "bus1-vm: ok - WHAT" or "bus1-vm: not ok - WHAT"; the
# host counts those lines next to the TAP results of the test binaries. Test
# binaries run between "bus1-vm: running NAME" and "bus1-vm: [not ]ok - NAME
# exited ..." so the host can tell which TAP lines belong to which binary.
#
# Settings (from /etc/vm.conf, written by the host runner):
#   VM_TEST_TIMEOUT   seconds one test binary may run (default 300)
#   VM_SUITE_TIMEOUT  seconds all test binaries together may run (default 1200)
#   VM_CYCLES         load/use/unload cycles after the suite (default 10)
#   VM_CYCLE_CMD      the "use" step of a cycle; gets the device path as $1
#                     (default: bus1-exercise)

vm_ok() {
	echo "bus1-vm: ok - $*"
}

vm_not_ok() {
	echo "bus1-vm: not ok - $*"
}

# vm_check WHAT CMD...: one counted check, passed iff CMD succeeds.
vm_check() {
	_what=$1
	shift
	if "$@"; then
		vm_ok "$_what"
		return 0
	fi
	vm_not_ok "$_what"
	return 1
}

vm_is_loaded() {
	[ -d "/sys/module/$1" ]
}

# vm_load NAME [PARAM=VALUE...]: insmod /modules/NAME.ko and wait for its
# device node (devtmpfs creates it asynchronously).
vm_load() {
	_name=$1
	shift
	if ! insmod "/modules/$_name.ko" "$@"; then
		echo "bus1-vm: insmod /modules/$_name.ko${*:+ $*} failed"
		return 1
	fi
	_i=0
	while [ ! -c "/dev/$_name" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 50 ]; then
			echo "bus1-vm: /dev/$_name did not appear"
			return 1
		fi
		usleep 100000
	done
	return 0
}

vm_unload() {
	if ! rmmod "$1"; then
		echo "bus1-vm: rmmod $1 failed; /proc/modules says:"
		grep "^$1 " /proc/modules
		return 1
	fi
	if vm_is_loaded "$1"; then
		echo "bus1-vm: $1 still present after rmmod"
		return 1
	fi
	return 0
}

# vm_counters_zero NAME: every live-object counter of the module reads 0.
# An empty or missing file fails: it would make the check vacuous.
vm_counters_zero() {
	_f=/sys/kernel/debug/$1/objects
	if [ ! -r "$_f" ]; then
		echo "bus1-vm: $_f is missing"
		return 1
	fi
	if ! grep -q . "$_f"; then
		echo "bus1-vm: $_f is empty"
		return 1
	fi
	# Lines are "<name> <count>"; anything else is a malformed file.
	if awk 'NF != 2 || $2 !~ /^[0-9]+$/ || $2 != 0 { bad = 1 } END { exit bad }' "$_f"; then
		return 0
	fi
	echo "bus1-vm: $_f is not all zero:"
	sed 's/^/bus1-vm:   /' "$_f"
	return 1
}

# vm_kmemleak: on kernels with kmemleak, scan and require no new reports.
# Objects are reported only once they are older than kmemleak's minimum age
# (5 s), hence the pause between two scans.
vm_kmemleak() {
	_k=/sys/kernel/debug/kmemleak
	[ -w "$_k" ] || return 0
	echo scan >"$_k"
	sleep 6
	echo scan >"$_k"
	# debugfs files report size 0: read the content, not the size.
	_leaks=$(cat "$_k")
	if [ -n "$_leaks" ]; then
		vm_not_ok "kmemleak reports no leaks"
		echo "$_leaks"
		echo clear >"$_k"
		return 1
	fi
	vm_ok "kmemleak reports no leaks"
}

# vm_run_tests DIR: run every executable in DIR once, in name order, each
# under its own timeout and all under one suite deadline.
vm_run_tests() {
	_dir=$1
	_per=${VM_TEST_TIMEOUT:-300}
	_deadline=$(($(date +%s) + ${VM_SUITE_TIMEOUT:-1200}))
	_n=0
	for _t in "$_dir"/*; do
		[ -f "$_t" ] && [ -x "$_t" ] || continue
		_n=$((_n + 1))
		_name=${_t##*/}
		_left=$((_deadline - $(date +%s)))
		if [ "$_left" -le 0 ]; then
			vm_not_ok "$_name not run: suite timeout of ${VM_SUITE_TIMEOUT:-1200} s reached"
			continue
		fi
		[ "$_left" -lt "$_per" ] && _per=$_left
		echo "bus1-vm: running $_name (timeout $_per s)"
		_t0=$(date +%s)
		timeout -s KILL "$_per" "$_t" </dev/null
		_rc=$?
		_took="after $(($(date +%s) - _t0)) s"
		# busybox timeout exits with the child's status: 137 = SIGKILL.
		if [ "$_rc" -eq 0 ]; then
			vm_ok "$_name exited with status 0 $_took"
		elif [ "$_rc" -eq 137 ]; then
			vm_not_ok "$_name exited with status 137 $_took (killed, timeout $_per s?)"
		else
			vm_not_ok "$_name exited with status $_rc $_took"
		fi
	done
	[ "$_n" -gt 0 ] || vm_not_ok "test binaries found in $_dir"
}

# vm_use DEV: the "use" step of a load/use/unload cycle.
vm_use() {
	timeout -s KILL 60 ${VM_CYCLE_CMD:-bus1-exercise} "$1" </dev/null
}

# vm_cycles N MODULE...: N times load every MODULE (together), use each,
# check its counters, unload all. One counted check per cycle.
vm_cycles() {
	_count=$1
	shift
	_c=1
	while [ "$_c" -le "$_count" ]; do
		_good=1
		for _m in "$@"; do
			vm_load "$_m" || _good=0
		done
		if [ "$_good" = 1 ]; then
			for _m in "$@"; do
				vm_use "/dev/$_m" || { echo "bus1-vm: use of /dev/$_m failed"; _good=0; }
				vm_counters_zero "$_m" || _good=0
			done
		fi
		for _m in "$@"; do
			if vm_is_loaded "$_m"; then
				vm_unload "$_m" || _good=0
			fi
		done
		if [ "$_good" = 1 ]; then
			vm_ok "cycle $_c/$_count: load $*, use, counters zero, unload"
		else
			vm_not_ok "cycle $_c/$_count: load $*, use, counters zero, unload"
		fi
		_c=$((_c + 1))
	done
}

# vm_no_modules_left: nothing from /modules is still loaded (a test that
# loads a second instance must unload it).
vm_no_modules_left() {
	_left=
	for _ko in /modules/*.ko; do
		[ -e "$_ko" ] || continue
		_m=${_ko##*/}
		_m=${_m%.ko}
		vm_is_loaded "$_m" && _left="$_left $_m"
	done
	if [ -n "$_left" ]; then
		echo "bus1-vm: still loaded:$_left"
		for _m in $_left; do rmmod "$_m"; done
		return 1
	fi
	return 0
}
