# The two commands README.md opens with.
.PHONY: drill test ci

drill:  ## the rollout drill against the local AWS emulator (SCENARIO=existing: a guardian-only stack guarding another stack's two bots)
	SCENARIO=$(SCENARIO) cargo run --quiet -p e2e --bin drill

test:   ## all tests (starts the local AWS emulator itself)
	cargo test --workspace

ci:     ## what CI runs on a clean clone
	bash .ci/run

.PHONY: bench
bench:  ## benchmarks: cold start, memory, size, API calls vs a Python baseline (docs/PERFORMANCE.md)
	bash bench/run
