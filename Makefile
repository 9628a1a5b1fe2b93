# Gearbox set-up and entry points. `make demo` and `make test` install what they need on a
# fresh Debian machine (apt packages, skipping those already present), then build and run.

APT_PACKAGES := libhwloc-dev libpfm4-dev libcpufreq-dev libopenblas-dev libxnnpack-dev libpthreadpool-dev pkg-config \
                libonnx-testdata util-linux dataset-fashion-mnist zlib1g-dev chromium python3-venv postgresql-15
SHELL := /bin/bash
SWIFT ?= swift
BUILD_FLAGS ?= -c release
GEARBOX = .build/release/gearbox
# Debian's Python, not whichever python3 comes first on PATH (pyenv shims, for one).
PYTHON ?= /usr/bin/python3
VENV := .venv

.PHONY: deps build demo quick test bench clean

deps:
	@bash scripts/install-deps.sh $(APT_PACKAGES)

## The test suite's Python side (onnxruntime as the reference runtime), in a venv of its own.
$(VENV)/ready: scripts/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
	touch $@

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product gearbox

## The main job on a built-in default: probe -> profile -> validate -> report.
demo: build
	$(GEARBOX) demo

quick: build
	$(GEARBOX) demo --quick

## The test suite (what CI runs).
test: deps $(VENV)/ready
	$(SWIFT) build --product gearbox
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SWIFT) test

bench: build $(VENV)/ready
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(GEARBOX) bench all

clean:
	rm -rf .build $(VENV)
