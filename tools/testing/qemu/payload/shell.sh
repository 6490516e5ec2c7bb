# Interactive: load the modules and hand the console to a shell. The shell
# gets ttyS0 as its controlling terminal so that job control and ^C work.
. /lib/vm-lib.sh

for ko in /modules/*.ko; do
	[ -e "$ko" ] || continue
	m=${ko##*/}
	vm_check "load ${m}" vm_load "${m%.ko}"
done
echo "bus1-vm: kernel messages go to the host's kernel log, not here; use dmesg."
echo "bus1-vm: test binaries are in /tests; exit the shell to power off."
PATH=$PATH:/tests setsid sh -c 'exec sh -i <>/dev/ttyS0 >&0 2>&1'
exit 0
