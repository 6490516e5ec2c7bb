# Count results in a VM console log (carriage returns already stripped).
#
# Counted: TAP lines of the test binaries ("ok N" passes; "not ok N", and
# "ok N ... # SKIP/TODO/XFAIL" fail, because a skipped check is a defect)
# and the harness checks "bus1-vm: ok - ..." / "bus1-vm: not ok - ...".
# For each binary, its TAP plan must match the results it printed.
#
# Output: one "FAIL <text>" line per failure, then "booted 0|1",
# "done 0|1 <payload status>", "passed N", "failed N".

function fail(what) {
	failed++
	print "FAIL " what
}

function end_section(   what) {
	if (section == "")
		return
	what = section ": TAP plan matches the results printed"
	if (results == 0)
		fail(section ": printed no TAP results")
	else if (plan < 0)
		fail(section ": printed no TAP plan (1..N)")
	else if (plan != results)
		fail(section ": planned " plan " results, printed " results)
	else
		passed++
	section = ""
}

BEGIN {
	passed = 0; failed = 0; booted = 0; done = 0; status = -1
	section = ""; in_dmesg = 0
}

# The kernel log dump is scanned separately, never counted.
/^bus1-vm: dmesg begin/ { in_dmesg = 1; next }
/^bus1-vm: dmesg end/ { in_dmesg = 0; next }
in_dmesg { next }

# The marker may share its line with firmware output: match anywhere.
/bus1-vm: init started/ { booted = 1; next }

/^bus1-vm: running / {
	end_section()
	section = $3
	plan = -1
	results = 0
	next
}

/^bus1-vm: ok - / {
	if (section != "" && index($0, "bus1-vm: ok - " section " exited") == 1)
		end_section()
	passed++
	next
}

/^bus1-vm: not ok - / {
	if (section != "" && index($0, "bus1-vm: not ok - " section " exited") == 1)
		end_section()
	fail(substr($0, 19))
	next
}

/^bus1-vm: done, payload exit status / {
	end_section()
	done = 1
	status = $NF
	next
}

section != "" && /^1\.\.[0-9]+/ {
	plan = substr($1, 4) + 0
	next
}

section != "" && /^ok [0-9]+/ {
	results++
	if ($0 ~ /#[ \t]*([Ss][Kk][Ii][Pp]|[Tt][Oo][Dd][Oo]|[Xx][Ff][Aa][Ii][Ll])/)
		fail(section ": " $0 " (skipped or expected-fail checks count as failures)")
	else
		passed++
	next
}

section != "" && /^not ok [0-9]+/ {
	results++
	fail(section ": " $0)
	next
}

section != "" && /^Bail out!/ {
	fail(section ": " $0)
	next
}

END {
	end_section()
	print "booted " booted
	print "done " done " " status
	print "passed " passed
	print "failed " failed
}
