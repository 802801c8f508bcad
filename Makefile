# The two quick-start commands: `make demo` and `make test`. Each sets up .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-quick venv clean wrk bench-service browser-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,redis,spark]'
	touch $(STAMP)

# Debian's Chromium and CJK fonts for the console's browser tests (Playwright drives them; never `playwright install`).
browser-deps:
	@dpkg -s chromium fonts-noto-cjk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk; }

venv: $(STAMP) browser-deps

demo: $(STAMP)
	$(BIN)/fengkong demo

test: $(STAMP) browser-deps
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/python -m ruff check src tests benchmarks

bench: $(STAMP) wrk
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

# every benchmark at small sizes (a few minutes); writes benchmarks/RESULTS-quick.md, not RESULTS.md
bench-quick: $(STAMP) wrk
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py --quick

# wrk (Debian package) drives benchmarks/bench_service.py
wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }

bench-service: $(STAMP) wrk
	$(BIN)/python benchmarks/bench_service.py

clean:
	rm -rf $(VENV) fengkong-demo
