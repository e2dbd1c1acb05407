# Two commands on a fresh machine (Python 3.11+ and make):
#   make demo   drafts the bundled sample offline, from its recording, and writes its report
#   make test   runs the tests (offline)
VENV   := .venv
BIN    := $(VENV)/bin
SAMPLE := seeds/tren-de-aragua-terrorist-designation.txt

.PHONY: demo test lint bench lock clean

$(BIN)/factcheck: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

demo: $(BIN)/factcheck
	$(BIN)/factcheck extract $(SAMPLE) --replay
	$(BIN)/factcheck report $(SAMPLE)

test: $(BIN)/factcheck
	$(BIN)/pytest

lint: $(BIN)/factcheck
	$(BIN)/ruff check factcheck/
	$(BIN)/mypy factcheck/

bench: $(BIN)/factcheck
	$(BIN)/python tests/benchmarks/bench.py

# Refresh the lock after changing dependencies in pyproject.toml.
lock: $(BIN)/factcheck
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
