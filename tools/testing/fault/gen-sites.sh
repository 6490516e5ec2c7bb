#!/bin/bash
# Build the call-site map the fault sweep needs, and check the allocation
# site inventory against the module.
#
# Usage: gen-sites.sh MODULE.ko SRCDIR INVENTORY > MAP
#
# MODULE.ko must carry debug information (built with -g; the code is the
# same as without it). SRCDIR holds the module's sources as compiled. For
# every call instruction of the module (and every tail jump to another
# function) the map gives its return address, the callee and the chain of
# module source functions the call sits in, innermost first (inlining
# resolved through the debug information). A call of an allocating kernel
# function must match exactly one inventory line (same source function, the
# line's API named at the call) and every inventory line must match a call;
# otherwise this prints what is wrong and exits 1.
#
# Map lines (space separated; '#' starts a comment line):
#   section NAME SIZE
#   sym SECTION OFFSET SIZE NAME
#   call SECTION RET KIND CALLEE SITE CHAIN
#       RET is the return address as an offset into SECTION (what a stack
#       trace shows); KIND is call or tail; SITE is an inventory name or
#       '-'; CHAIN is fn@file:line,... innermost first
#   site NAME FUNCTION API KIND PATHS
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 MODULE.ko SRCDIR INVENTORY" >&2; exit 2; }
ko=$1
srcdir=$(cd "$2" && pwd)
inv=$3

tmp=$(mktemp -d)
trap "rm -rf \"$tmp\"" EXIT

# Kernel functions that may allocate memory when a module calls them. A
# call to any of them must be listed in the inventory.
alloc_re='^(__kmalloc.*|kmalloc.*|__kvmalloc.*|kvmalloc.*|kvrealloc.*|krealloc.*|kmem_cache_alloc.*|kmemdup.*|kstrdup.*|kstrndup|kasprintf|kvasprintf.*|vmalloc.*|__vmalloc.*|vzalloc.*|alloc_pages.*|__alloc_pages.*|__get_free_pages|get_zeroed_page.*|__xa_cmpxchg|__xa_store|xa_store.*|__xa_insert|__xa_alloc.*|xa_reserve.*|xas_nomem|idr_alloc.*|ida_alloc.*|import_iovec|__import_iovec|iovec_from_user|kmem_cache_create.*|__kmem_cache_create.*|misc_register|debugfs_create_.*|single_open.*|seq_open.*|anon_inode_.*|get_unused_fd.*|alloc_file.*|kobject_create.*|kobject_add|kobject_init_and_add|register_chrdev.*|__register_chrdev|alloc_chrdev_region|cdev_alloc)$'

# 1. Text sections and function symbols.
objdump -h "$ko" | awk '$2 ~ /^\.(text|init\.text|exit\.text)/ && $2 !~ /\.rela/ {
	printf "section %s 0x%s\n", $2, $3 }' >"$tmp/sections"
[ -s "$tmp/sections" ] || { echo "gen-sites.sh: no text section in $ko" >&2; exit 1; }
objdump -t "$ko" | awk '$3 == "F" && $4 ~ /^\.(text|init\.text|exit\.text)/ {
	printf "sym %s 0x%s 0x%s %s\n", $4, $1, $5, $6 }' | sort -k2,2 -k3,3 >"$tmp/syms"

# 2. Every call (and every tail jump with a relocation, i.e. to a function
# outside the module's own sections) with the address of the next
# instruction. Output: SECTION ADDR RET KIND CALLEE
objdump -dr --no-show-raw-insn "$ko" | awk '
	function hex(s,   i, v) {
		sub(/^0x/, "", s)
		v = 0
		for (i = 1; i <= length(s); ++i)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function flush(ret) {
		if (pend == "")
			return
		if (kind == "call" || reloc != "")
			printf "%s 0x%s 0x%x %s %s\n", sect, pend, ret, kind, \
				reloc != "" ? reloc : target
		pend = ""
	}
	/^Disassembly of section / {
		flush(hex(pend) + 5)
		sect = $4; sub(/:$/, "", sect)
		next
	}
	/^ *[0-9a-f]+:\t/ {
		addr = $1; sub(/:$/, "", addr)
		if (pend != "")
			flush(hex(addr))
		split($0, f, "\t")
		insn = f[2]
		if (insn ~ /^(call|jmp) /) {
			kind = insn ~ /^call/ ? "call" : "tail"
			target = "indirect"
			# a jump counts only with a relocation (see flush)
			if (match(insn, /<[^>]+>/))
				target = substr(insn, RSTART + 1, RLENGTH - 2)
			pend = addr
			reloc = ""
		}
		next
	}
	/^\t+[0-9a-f]+: R_X86_64_/ {
		off = $1
		sub(/:$/, "", off)
		if (pend != "" && hex(off) == hex(pend) + 1) {
			reloc = $3
			sub(/[-+]0x[0-9a-f]+$/, "", reloc)
		}
		next
	}
	END { flush(hex(pend) + 5) }
' | awk '$5 !~ /^__(asan|kasan|ubsan|sanitizer)_/' >"$tmp/calls"

# 3. Source chain of every call through the debug information.
: >"$tmp/lines"
for sect in $(awk '{print $1}' "$tmp/calls" | sort -u); do
	awk -v s="$sect" '$1 == s { print $2 }' "$tmp/calls" |
		addr2line -a -i -f -p -j "$sect" -e "$ko" |
		awk -v s="$sect" -v dir="$srcdir/" '
			function hex(s,   i, v) {
				sub(/^0x/, "", s)
				v = 0
				for (i = 1; i <= length(s); ++i)
					v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
				return v
			}
			function out() { if (a != "") print s, a, (chain == "" ? "-" : chain) }
			/^0x[0-9a-f]+: / {
				out()
				a = sprintf("0x%x", hex(substr($1, 1, length($1) - 1)))
				chain = ""
				sub(/^0x[0-9a-f]+: /, "")
			}
			{
				sub(/^ \(inlined by\) /, "")
				# "FUNC at FILE:LINE" (maybe " (discriminator N)")
				fn = $1; loc = $3
				if (index(loc, dir) != 1)
					next
				loc = substr(loc, length(dir) + 1)
				chain = chain (chain == "" ? "" : ",") fn "@" loc
			}
			END { out() }'
done >"$tmp/lines"

# 4. Join, match allocating calls against the inventory.
awk -v alloc_re="$alloc_re" -v srcdir="$srcdir" -v inv="$inv" '
	function srcline(file, line,   l, i, path) {
		path = srcdir "/" file
		if (!(path in loaded)) {
			loaded[path] = 1
			i = 0
			while ((getline l < path) > 0)
				text[path, ++i] = l
			close(path)
		}
		return text[path, line]
	}
	BEGIN {
		nsite = 0
		while ((getline l < inv) > 0) {
			if (l ~ /^[ \t]*(#|$)/)
				continue
			split(l, f, /[ \t]+/)
			if (f[5] == "") {
				print "gen-sites.sh: bad inventory line: " l > "/dev/stderr"
				bad = 1
				continue
			}
			++nsite
			sname[nsite] = f[1]; sfn[nsite] = f[2]; sapi[nsite] = f[3]
			skind[nsite] = f[4]; spaths[nsite] = f[5]
			if (f[4] != "traced" && f[4] != "filtered") {
				print "gen-sites.sh: bad KIND in: " l > "/dev/stderr"
				bad = 1
			}
		}
		close(inv)
	}
	FILENAME == ARGV[1] { chain[$1, $2] = $3; next }
	{
		sect = $1; addr = $2; ret = $3; kind = $4; callee = $5
		c = chain[sect, addr]
		site = "-"
		if (callee ~ alloc_re) {
			# innermost module function and its line
			split(c, fr, ","); split(fr[1], p, "@"); fn = p[1]
			split(p[2], q, ":"); file = q[1]; line = q[2] + 0
			# the nearest line at or above the call (a call may
			# span lines) that names an API of this function
			hit = 0
			for (k = line; k >= line - 3 && k > 0 && !hit; --k)
				for (i = 1; i <= nsite; ++i)
					if (sfn[i] == fn && index(srcline(file, k), sapi[i] "(")) {
						hit++
						site = sname[i]
						used[i]++
					}
			# a tail jump may carry the line where its function starts
			for (k = line + 1; kind == "tail" && k <= line + 10 && !hit; ++k)
				for (i = 1; i <= nsite; ++i)
					if (sfn[i] == fn && index(srcline(file, k), sapi[i] "(")) {
						hit++
						site = sname[i]
						used[i]++
					}
			if (c == "-" || hit != 1) {
				printf "gen-sites.sh: %s call of %s at %s+%s (%s) matches %d inventory lines\n", \
					kind, callee, sect, addr, c, hit > "/dev/stderr"
				bad = 1
			}
			if (kind == "tail" && site != "-") {
				for (i = 1; i <= nsite; ++i)
					if (sname[i] == site && spaths[i] !~ /^(init|debugfs|none)(,(init|debugfs|none))*$/) {
						printf "gen-sites.sh: site %s is reached by a tail call (%s): its frame is not on the stack\n", \
							site, c > "/dev/stderr"
						bad = 1
					}
			}
		}
		printf "call %s %s %s %s %s %s\n", sect, ret, kind, callee, site, c
	}
	END {
		for (i = 1; i <= nsite; ++i) {
			if (!used[i]) {
				printf "gen-sites.sh: inventory site %s (%s %s) matches no call in the module\n", \
					sname[i], sfn[i], sapi[i] > "/dev/stderr"
				bad = 1
			}
			printf "site %s %s %s %s %s\n", sname[i], sfn[i], sapi[i], skind[i], spaths[i]
		}
		exit bad
	}
' "$tmp/lines" "$tmp/calls" >"$tmp/map" || {
	echo "gen-sites.sh: the inventory $inv does not match $ko" >&2
	exit 1
}

echo "# bus1 fault-injection site map: $(basename "$ko"), $(wc -l <"$tmp/calls") calls"
cat "$tmp/sections" "$tmp/syms" "$tmp/map"
