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

# the kernels compile once into fastsgd's cache (two processes on two cores);
# the suite then loads them, one test process per core (the compile tests
# wait on compilers in subprocesses), and the kernel tests rerun as plain
# Python
test: $(STAMP)
	$(BIN)/python -m fastsgd compile --all --quiet
	$(BIN)/python -m pytest -q -n auto
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q -n auto tests/test_kernels.py tests/test_auto_kernels.py \
		tests/test_multi_kernels.py

bench: $(STAMP)
	$(BIN)/python -m pytest bench -q --benchmark-columns=min,median,rounds --benchmark-sort=name

lint: $(STAMP)
	$(BIN)/ruff check fastsgd tests bench
	$(BIN)/ruff format --check fastsgd tests bench

# also the compiled kernels: beside the sources, in the user-wide cache and in
# $$NUMBA_CACHE_DIR/fastsgd when that is set
clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache fastsgd/_kernels/__pycache__
	rm -rf "$${XDG_CACHE_HOME:-$$HOME/.cache}/fastsgd"
	if [ -n "$$NUMBA_CACHE_DIR" ]; then rm -rf "$$NUMBA_CACHE_DIR/fastsgd"; fi
