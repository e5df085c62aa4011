# Quick start: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[plot,test,bench,dev,parquet,dask]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m fastsgd compare

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pytest bench -q --benchmark-columns=min,median,rounds --benchmark-sort=name

lint: $(STAMP)
	$(BIN)/ruff check fastsgd tests bench
	$(BIN)/ruff format --check fastsgd tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
