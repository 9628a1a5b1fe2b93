# Gearbox set-up and entry points. `make demo` and `make test` install what they need on a
# fresh Debian machine (apt packages, skipping those already present), then build and run.

APT_PACKAGES := libhwloc-dev libpfm4-dev libcpufreq-dev libopenblas-dev libxnnpack-dev libpthreadpool-dev pkg-config \
                libonnx-testdata util-linux dataset-fashion-mnist zlib1g-dev chromium
SHELL := /bin/bash
SWIFT ?= swift
BUILD_FLAGS ?= -c release
GEARBOX = .build/release/gearbox

.PHONY: deps build demo quick test bench clean

deps:
	@bash scripts/install-deps.sh $(APT_PACKAGES)

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product gearbox

## The main job on a built-in default: probe -> profile -> validate -> report.
demo: build
	$(GEARBOX) demo

quick: build
	$(GEARBOX) demo --quick

## The test suite (what CI runs).
test: deps
	$(SWIFT) build --product gearbox
	$(SWIFT) test

bench: build
	$(GEARBOX) bench all

clean:
	rm -rf .build
