# hpgeo: `make run` (install, build the simulated demo, serve on 127.0.0.1:8000) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run demo serve test bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,postgres]"
	$(BIN)/python -m pip install --quiet --no-deps "capparselib==0.6.6"  # pins lxml==4.6.3; its deps (lxml, python-dateutil) are ours
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/hpgeo demo

run: demo
	$(BIN)/hpgeo serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/hpgeo serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

bench: install
	$(BIN)/python -m benchmarks memory
	$(BIN)/python -m benchmarks tiles
	$(BIN)/python -m benchmarks crash --trials 20
	command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; } || { echo "make bench: wrk is needed for the load run (apt-get install wrk)"; exit 1; }
	$(BIN)/python -m benchmarks load

clean:
	rm -rf $(VENV) data .pytest_cache
