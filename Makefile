# Clarion — the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The address to print: a server listening on every interface is reached locally here.
SHOWN_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))

.PHONY: run test lint migrate demo worker beat lock clean

# The virtual environment is rebuilt whenever the lock file changes.
$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $@

# Node packages (test stand-ins such as the Twilio contract mock) when npm is there;
# without it the tests that need them are skipped with the reason.
NODE_DEPS := $(if $(and $(wildcard package-lock.json),$(shell command -v npm)),node_modules/.installed,)
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --no-input

demo: migrate
	$(PY) manage.py load_demo --base-url http://$(SHOWN_HOST):$(PORT)

## Serve admin, API, docs and static files on the embedded default (SQLite, eager tasks,
## e-mail to var/outbox); Celery beat runs beside it for retries and recovery.
run: demo
	$(PY) manage.py collectstatic --no-input -v0
	@bash scripts/serve.sh $(HOST) $(PORT)

## Run the whole test suite (integration tests need DATABASE_URL and REDIS_URL).
test: $(VENV)/.installed $(NODE_DEPS)
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

worker: $(VENV)/.installed
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: $(VENV)/.installed
	$(VENV)/bin/celery -A config beat --loglevel=INFO

## Re-resolve the lock files after editing pyproject.toml (needs network access to PyPI).
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock

clean:
	rm -rf $(VENV) var
