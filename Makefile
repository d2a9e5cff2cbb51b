# Thin wrapper around CMake.  `make demo` and `make test` are all a new user needs.
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

.PHONY: all deps configure build test demo bench install clean fuzz

all: build

deps:
	@scripts/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@scripts/bench.sh $(BUILD)

fuzz: deps
	@scripts/fuzz.sh

install: build
	@cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-* demo-out
