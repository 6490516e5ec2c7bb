# SPDX-License-Identifier: GPL-2.0
#
# bus1 top-level build and test entry points.
#
#   make                 bus1.ko (in ipc/bus1) and bus1x.ko (in build/bus1x)
#   make check-quick     deps, module build, API tests in the VM (minutes)
#   make check           every test tier; last line "N passed, N failed"
#   make demo            run examples/out/bus1-demo in the VM
#   make vm              interactive shell in the VM, modules loaded
#   make bench           benchmarks in the VM (~10 min): build/bench/results.*
#   make fault           fault-injection sweep on the debug kernel
#   make fuzz            10^6 fuzzer operations on the debug kernel
#   make model           10^5 steps checked against the reference model
#   make soak            one hour of fuzzing on the debug kernel (not in check)
#   make mutants         the fuzzer and the model against broken module copies
#   make vm-test         only the API suite in the VM (no deps, no other tier)
#
# Variables:
#   KDIR=DIR       kernel build tree (default: the installed Debian cloud
#                  kernel that also has its image in /boot)
#   KERNEL=FILE    kernel image for the VM (default: that cloud kernel)
#   MODBUILD=NAME  build both modules in build/NAME-bus1 and
#                  build/NAME-bus1x instead of ipc/bus1 and build/bus1x (to
#                  keep builds for several kernels apart)
#   W=1            kbuild's extra warnings; on by default because a warning
#                  fails the checks
#   VM_ARGS=...    extra arguments for tools/testing/qemu/run-vm.sh

TOP := $(CURDIR)
QEMU := $(TOP)/tools/testing/qemu
BUILD := $(TOP)/build
SELFTESTS := $(TOP)/tools/testing/selftests/bus1

# Resolved once here, not per use: it runs a script.
ifeq ($(origin KDIR),undefined)
KDIR := $(shell sh $(QEMU)/cloud-kernel.sh kdir 2>/dev/null)
endif
KERNEL ?=
W ?= 1

# A mirrored tree sits at the depth of ipc/bus1 (build/<dir>), where the
# Kbuild file's relative include path still finds include/uapi.
ifeq ($(MODBUILD),)
BUS1_DIR := $(TOP)/ipc/bus1
BUS1X_DIR := $(BUILD)/bus1x
else
BUS1_DIR := $(BUILD)/$(MODBUILD)-bus1
BUS1X_DIR := $(BUILD)/$(MODBUILD)-bus1x
endif

KBUILD_ARGS = -C $(KDIR) W=$(W)

EXERCISE := $(BUILD)/vm-tools/bus1-exercise
USER_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -I$(TOP)/include/uapi

all: modules

modules: bus1 bus1x

kdir-exists:
	@if [ -z "$(KDIR)" ] || [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "no kernel build tree (KDIR='$(KDIR)'): run tools/testing/deps.sh or pass KDIR=..." >&2; \
		exit 1; \
	fi

bus1: kdir-exists
ifneq ($(BUS1_DIR),$(TOP)/ipc/bus1)
	@sh $(QEMU)/mirror-src.sh $(TOP)/ipc/bus1 $(BUS1_DIR)
endif
	$(MAKE) $(KBUILD_ARGS) M=$(BUS1_DIR) modules

# Same sources, another module name: an independent second instance that
# can be loaded next to bus1.ko.
bus1x: kdir-exists
	@sh $(QEMU)/mirror-src.sh $(TOP)/ipc/bus1 $(BUS1X_DIR)
	$(MAKE) $(KBUILD_ARGS) M=$(BUS1X_DIR) BUS1_NAME=bus1x modules

# Kbuild only recompiles what changed, so only a clean build shows every
# warning: the checks start from this.
clean-modules: kdir-exists
	$(MAKE) -C $(KDIR) M=$(BUS1_DIR) clean
	if [ -d $(BUS1X_DIR) ]; then $(MAKE) -C $(KDIR) M=$(BUS1X_DIR) clean; fi

selftests:
	$(MAKE) -C $(SELFTESTS)

examples:
	$(MAKE) -C $(TOP)/examples

vm-tools: $(EXERCISE)

$(EXERCISE): $(QEMU)/bus1-exercise.c $(TOP)/include/uapi/linux/bus1.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -static -o $@ $<

deps:
	@sh $(TOP)/tools/testing/deps.sh

# What every VM run gets: both modules and the cycle tool.
VM_BASE = $(if $(KERNEL),-k $(KERNEL)) \
	-m $(BUS1_DIR)/bus1.ko -m $(BUS1X_DIR)/bus1x.ko \
	-f $(EXERCISE):/bin/ $(VM_ARGS)
VM_TESTS = -t $(SELFTESTS)/out

vm-test: modules selftests vm-tools
	@bash $(QEMU)/run-vm.sh -p $(QEMU)/payload/api.sh \
		-o $(BUILD)/vm/api$(if $(MODBUILD),-$(MODBUILD)) \
		$(VM_BASE) $(VM_TESTS)

check-quick:
	@bash $(QEMU)/run-checks.sh quick

check:
	@bash $(QEMU)/run-checks.sh full

demo: deps modules examples vm-tools
	@bash $(QEMU)/run-vm.sh -p $(QEMU)/payload/demo.sh -o $(BUILD)/vm/demo \
		--transcript -f $(TOP)/examples/out:/examples $(VM_BASE)

vm: deps modules selftests vm-tools
	@bash $(QEMU)/run-vm.sh -i -p $(QEMU)/payload/shell.sh -o $(BUILD)/vm/shell \
		$(VM_BASE) $(VM_TESTS)

# Benchmarks against AF_UNIX, pipes and binder in the VM, on the bench
# kernel (built once and cached): build/bench/results.{json,txt,png}.
# make -C tools/bench publish copies them to Documentation/bus1/bench/.
bench: deps
	@$(MAKE) -C $(TOP)/tools/bench run

# The reliability tools on the sanitizer kernel (built once and cached);
# make check runs the first three. KDIR= selects another kernel tree.
fault fuzz model: deps
	@bash $(TOP)/tools/testing/$@/run.sh

mutants: deps
	@bash $(TOP)/tools/testing/mutants/run.sh

soak: deps
	@BUS1_SOAK_SECONDS=$${BUS1_SOAK_SECONDS:-3600} \
		bash $(TOP)/tools/testing/fuzz/run.sh

clean:
	find $(TOP)/ipc/bus1 \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.symvers' \
		-o -name 'modules.order' -o -name '*.dwo' \) -delete
	rm -rf $(BUILD)
	$(MAKE) -C $(SELFTESTS) clean
	if [ -f $(TOP)/examples/Makefile ]; then $(MAKE) -C $(TOP)/examples clean; fi

.PHONY: all modules kdir-exists bus1 bus1x clean-modules selftests examples vm-tools deps \
	vm-test check-quick check demo vm bench fault fuzz model soak mutants clean
