# plmkit — build, test, install.
#
#   make              build every program into bin/ and the library libplm.a
#   make check        unit tests and command-line tests (TAP, run by prove)
#   make check SAN=1  the same under AddressSanitizer + UBSan (build in build-san/)
#   make check-kernels  the determinism tests under each OpenBLAS core and
#                     kernel width the CPU can run
#   make demo         pipelines/viral-host end to end on the bundled UniProt data
#   make tour         a stage-by-stage real-data tour of the tools
#   make bench        benchmarks against the peers (ratios printed)
#   make fuzz         libFuzzer targets (clang), 60 s each (FUZZ_SECONDS)
#   make install PREFIX=/usr/local DESTDIR=
#
# Programs are discovered: every cmd/NAME.c becomes bin/NAME, every lib/*.c
# goes into libplm.a, every tests/unit/t-*.c is a TAP unit test and every
# tests/t*.sh a command-line test.  Adding a file needs no Makefile change.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
# Debian's libhdf5-dev installs hdf5-serial.pc and, through an alternative,
# hdf5.pc; either will do.
HDF5_PC   := $(if $(shell pkg-config --exists hdf5 2>/dev/null && echo y),hdf5,$(if \
             $(shell pkg-config --exists hdf5-serial 2>/dev/null && echo y),hdf5-serial,hdf5))
PKGS      := zlib libzstd openblas $(HDF5_PC) msgpack libxxhash snappy

CC        ?= cc
OPT       ?= -O2 -g
ifeq ($(SAN),1)
BUILD     := build-san
BIN       := build-san/bin
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD     := build
BIN       := bin
SANFLAGS  :=
endif

# ISA-L's igzip inflates gzip about twice as fast as zlib; used when present.
ifeq ($(shell pkg-config --exists libisal 2>/dev/null && echo y),y)
PKGS      += libisal
ISAL_FLAG := -DPLM_HAVE_ISAL
endif

PKG_CFLAGS := $(ISAL_FLAG) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS    ?=
CFLAGS    += -std=c11 $(OPT) -Wall -Wextra -pthread $(SANFLAGS) \
             -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
             -DPLM_VERSION='"$(VERSION)"' -Iinclude $(PKG_CFLAGS)
# --as-needed: a tool records only the libraries it calls.  Debian's gcc
# links that way by default but not under -fsanitize, where every tool
# then loaded all 48 shared objects (rec-cat needs 14) and a start cost
# about 100 ms instead of 80.
LDFLAGS   += $(SANFLAGS) -pthread -Wl,--as-needed
LDLIBS    += $(PKG_LIBS) -lm

CMDS      := $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
PROGS     := $(addprefix $(BIN)/,$(CMDS))
LIBSRC    := $(wildcard lib/*.c)
LIBOBJ    := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIBSRC))
LIBA      := $(BUILD)/libplm.a
UNITSRC   := $(wildcard tests/unit/t-*.c)
UNITS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNITSRC))
CLITESTS  := $(sort $(wildcard tests/t[0-9]*.sh))
MANS      := $(wildcard man/*.[157])

.PHONY: all deps pkgcheck check check-kernels unit clitest demo tour bench fuzz install clean manlint
all: $(PROGS) $(LIBA)

deps:
	@sh scripts/install-deps.sh

# Without the -dev packages the build stops here, naming the pkg-config
# modules it lacks, instead of in a compiler error.  `make check`, `make
# demo` and `make bench` run `make deps` first and so never stop here.
pkgcheck:
	@if ! command -v pkg-config >/dev/null 2>&1; then \
		echo "plmkit: pkg-config is not installed; \`make deps\` installs it and the libraries ($(PKGS))" >&2; \
		exit 1; \
	fi; \
	miss=; for p in $(PKGS); do pkg-config --exists $$p || miss="$$miss $$p"; done; \
	if [ -n "$$miss" ]; then \
		echo "plmkit: missing pkg-config modules:$$miss" >&2; \
		echo "plmkit: \`make deps\` installs them (Debian -dev packages, scripts/install-deps.sh)" >&2; \
		exit 1; \
	fi

$(BUILD)/lib/%.o: lib/%.c $(wildcard include/plm/*.h) $(wildcard lib/*.h) | $(BUILD)/lib pkgcheck
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c $(wildcard include/plm/*.h) | $(BUILD)/cmd pkgcheck
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBA): $(LIBOBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN)/%: $(BUILD)/cmd/%.o $(LIBA) | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIBA) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

$(BUILD)/lib $(BUILD)/cmd $(BUILD)/tests $(BIN):
	@mkdir -p $@

# Tests: deps are installed first (a fresh machine needs only `make check`).
check: deps
	@$(MAKE) --no-print-directory unit clitest manlint

unit: $(UNITS) $(PROGS)
	@cd tests && PLM_TOP=$(CURDIR) PLM_BIN=$(CURDIR)/$(BIN) prove -j2 --exec '' $(addprefix $(CURDIR)/,$(UNITS))

clitest: $(PROGS)
	@PLM_TOP=$(CURDIR) PLM_BIN=$(CURDIR)/$(BIN) PLM_SAN=$(SAN) prove -j2 --exec sh $(CLITESTS)

# The determinism tests under each OpenBLAS core and kernel width.
check-kernels: deps
	@$(MAKE) --no-print-directory -s $(UNITS) $(PROGS)
	@sh scripts/check-kernels.sh $(BUILD) $(BIN)

# pipelines/slurm on a real one-node Slurm started on this machine (root
# only, else it says so and skips; installs slurm-wlm and munge).
.PHONY: check-slurm
check-slurm: deps
	@$(MAKE) --no-print-directory -s $(PROGS)
	@sh scripts/check-slurm.sh $(BIN)

manlint:
	@sh scripts/manlint.sh $(MANS)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo-viral-host.sh

tour: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

fuzz:
	@PLM_DEPS_EXTRA=clang sh scripts/install-deps.sh
	@sh fuzz/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	for m in $(MANS); do s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done

clean:
	rm -rf build build-san bin
