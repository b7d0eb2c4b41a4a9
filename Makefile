# The two commands a newcomer needs: `make demo` and `make test`. Both install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test fuzz dev build bench fmt clean

help:
	@echo "make demo   build everything and run the platform locally (prints the URL to open)"
	@echo "make test   install what is missing and run every check and test"
	@echo "make fuzz   run the hostile-input property tests long (PROPTEST_CASES, FUZZ_SECONDS)"
	@echo "make dev    trunk serve with live reload, proxying /api to a debug server"
	@echo "make bench  run the benchmarks and record them in BENCHMARKS.md"

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

test: setup
	@scripts/test.sh

fuzz: setup
	@scripts/fuzz.sh

build: setup
	@source scripts/env.sh && trunk build --release && cargo build --release --locked -p mahpki-server

dev: setup
	@scripts/dev.sh

bench: setup
	@scripts/bench.sh

fmt:
	cargo fmt --all

clean:
	cargo clean
	rm -rf dist test-output
