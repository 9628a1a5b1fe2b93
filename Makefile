# Gearbox set-up and entry points. `make demo` and `make test` install what they need on a
# fresh Debian machine (apt packages, skipping those already present), then build and run.

APT_PACKAGES := libhwloc-dev libpfm4-dev libcpufreq-dev libopenblas-dev libxnnpack-dev libpthreadpool-dev pkg-config \
                libonnx-testdata util-linux dataset-fashion-mnist zlib1g-dev chromium python3-venv \
                openssh-server socat postgresql-15 iproute2
SHELL := /bin/bash
SWIFT ?= swift
BUILD_FLAGS ?= -c release
GEARBOX = .build/release/gearbox
# Debian's Python, not whichever python3 comes first on PATH (pyenv shims, for one).
PYTHON ?= /usr/bin/python3
VENV := .venv
# The board farm's labgrid + pytest venv (Farm/requirements.txt), apart from the test venv.
FARM_VENV := .venv-farm
ENV ?= Farm/env.yaml
STORE ?=

.PHONY: deps build demo quick test bench clean farm-venv farm farm-demo

deps:
	@bash scripts/install-deps.sh $(APT_PACKAGES)

## The test suite's Python side (onnxruntime as the reference runtime), in a venv of its own.
$(VENV)/ready: scripts/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
	touch $@

## The farm runner's venv: labgrid (coordinator, exporter, pytest plugin), pytest, pytest-xdist.
$(FARM_VENV)/ready: Farm/requirements.txt
	$(PYTHON) -m venv $(FARM_VENV)
	$(FARM_VENV)/bin/pip install --quiet --disable-pip-version-check -r Farm/requirements.txt
	touch $@

farm-venv: $(FARM_VENV)/ready

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product gearbox

## The main job on a built-in default: probe -> profile -> validate -> report.
demo: build
	$(GEARBOX) demo

quick: build
	$(GEARBOX) demo --quick

## The test suite (what CI runs). As root it also runs the virtual board farm test, which needs
## the farm venv; elsewhere that test is skipped, so the venv is not built. The emulated
## throttle's timing checks run after the rest, on their own: with the whole suite running in
## parallel beside them on a small machine, the slow-downs they check compress.
test: deps $(VENV)/ready $(if $(filter 0,$(shell id -u)),$(FARM_VENV)/ready)
	$(SWIFT) build --product gearbox
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SWIFT) test --skip EmulatedFrequencyControllerTests
	$(SWIFT) test --skip-build --filter EmulatedFrequencyControllerTests

## Profile every board of a labgrid farm into the store: make farm ENV=Farm/env.yaml STORE=postgres://…
## (LG_COORDINATOR and LG_FARM_SSH_KEY as Farm/env.yaml says; FARM_ARGS: more pytest options).
farm: build $(FARM_VENV)/ready
	$(FARM_VENV)/bin/pytest --lg-env $(ENV) Farm/ --gearbox $(GEARBOX) $(if $(STORE),--store $(STORE)) $(FARM_ARGS)

## Three virtual boards on this machine through labgrid into a throwaway PostgreSQL (root).
farm-demo: build $(FARM_VENV)/ready
	GEARBOX=$(GEARBOX) bash scripts/farm-virtual.sh demo

bench: build $(VENV)/ready
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(GEARBOX) bench all

clean:
	rm -rf .build $(VENV) $(FARM_VENV)
