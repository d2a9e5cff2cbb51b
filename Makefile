# Thin wrapper around CMake.  `make demo` and `make test` are all a new user needs.
#   make          builds what this machine can build (parts whose packages are
#                 missing are left out, with a message); never installs anything
#   make deps     installs the Debian packages (scripts/deps.sh) and lists them
#   make test / demo / bench   install what is missing first (one line says
#                 what), then build everything
BUILD    ?= build
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
SANITIZE ?= 0
DEBUG    ?= 0
CMAKE_FLAGS ?=
PREFIX   ?= /usr/local

ifeq ($(SANITIZE),1)
CMAKE_FLAGS += -DRC_SANITIZE=ON
endif
CMAKE_FLAGS += -DRC_DEBUG=$(DEBUG)

MAKEFLAGS += --no-print-directory

.PHONY: all deps configure configure-full build build-full test test-tsan demo bench install clean fuzz package

all: build

deps:
	@scripts/deps.sh --list
	@scripts/deps.sh

configure:
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DRECYCLE_SKIP_MISSING=ON $(CMAKE_FLAGS) >/dev/null

configure-full:
	@scripts/deps.sh
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DRECYCLE_SKIP_MISSING=OFF $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

build-full: configure-full
	@cmake --build $(BUILD) -j $(JOBS)

test: build-full
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The threaded-heap tests under ThreadSanitizer (clang): only the core and
# tests/test_threads.c are built, in build-tsan.
# ThreadSanitizer (clang, its own build folder): the threaded-heap tests,
# then the tests of the collector's worker threads named by TSAN_RUN.  The
# model tests with two workers take longer:
#   make test-tsan TSAN_TESTS="test_gc_workers test_gc_model test_gc_big test_faults" TSAN_RUN="test_gc_workers|_workers2"
TSAN_TESTS = test_gc_workers
TSAN_RUN = ^test_gc_workers$$
test-tsan:
	@cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DRC_TSAN=ON -DRECYCLE_SKIP_MISSING=ON \
	    -DRECYCLE_BENCH=OFF >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target tsan_threads $(TSAN_TESTS)
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tsan_threads
	@cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R '$(TSAN_RUN)' --timeout 1800

demo: build-full
	@scripts/demo.sh $(BUILD)

bench: build-full
	@scripts/bench.sh $(BUILD)

fuzz: deps
	@scripts/fuzz.sh

install: build
	@cmake --install $(BUILD)

package:
	@scripts/package.sh

clean:
	rm -rf $(BUILD) build-* demo-out

