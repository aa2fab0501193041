# The README's two commands are `make demo` and `make test`; both bootstrap what is missing.
VENV := .venv
BIN := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: bootstrap demo test explore lint typecheck imports unit bundle bench hall clean

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(BIN)/kiosk demo --out demo-out

# Two workers, whole files each (a file's module fixtures, like the bundle build, run once).
PYTEST_WORKERS ?= 2

test: bootstrap lint typecheck imports
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# The property tests with fresh random examples, 2,000 each where a test does not set its own
# number (the suite replays the same ones on every run; see tests/conftest.py).
explore: bootstrap
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) \
		tests/unit tests/integration/test_hall_openapi_fuzz.py

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

imports:
	$(BIN)/lint-imports

bundle: bootstrap
	$(BIN)/pyinstaller --noconfirm --clean kiosk.spec

bench: bootstrap
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

hall: bootstrap
	$(BIN)/kiosk hall seed
	$(BIN)/kiosk hall serve

clean:
	rm -rf build dist demo-out .pytest_cache .mypy_cache .ruff_cache
