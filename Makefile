# The two commands a newcomer needs: `make demo` and `make test`. Only these two install what is
# missing (scripts/setup.sh); the others use what is installed and say so when a tool is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup tools demo test check fuzz dev build dist bench fmt clean

help:
	@echo "make demo   build everything and run the platform locally (prints the URL to open)"
	@echo "make test   install what is missing and run every check and test"
	@echo "make check  fmt, clippy (native and wasm) and unit tests: minutes, installs nothing"
	@echo "            (scripts/test.sh SUITE... runs chosen suites; an unknown name lists them)"
	@echo "make fuzz   run the hostile-input property tests long (PROPTEST_CASES, FUZZ_SECONDS)"
	@echo "make dev    trunk serve with live reload on the demo's data, holders and helper"
	@echo "make bench  run the benchmarks and record them in BENCHMARKS.md"
	@echo "make dist   the helper for clinic PCs: Windows zip and Linux tar.gz in target/dist/"

setup:
	@scripts/setup.sh

# What the targets that do not install need; `make demo` or `make test` installs it.
tools:
	@source scripts/env.sh && for t in cargo trunk wasm-bindgen wasm-opt; do \
	  command -v $$t >/dev/null || { echo "$$t is missing: run make test or make demo once (they install it)" >&2; exit 1; }; done

demo: setup
	@scripts/demo.sh

test: setup
	@scripts/test.sh

# No setup prerequisite: the developer's loop runs with what is installed.
check:
	@scripts/test.sh fmt clippy clippy-wasm unit-test

fuzz: tools
	@scripts/fuzz.sh

build: tools
	@scripts/web.sh --release && source scripts/env.sh && cargo build --release --locked -p mahpki-server

dist: tools
	@scripts/dist.sh

dev: tools
	@scripts/dev.sh

bench: tools
	@scripts/bench.sh

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf dist test-output
