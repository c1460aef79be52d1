# Two commands on a fresh machine with only Python 3.11+:  make run  ·  make test
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup lint check browsers clean bench

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) bin/dev.py run

# Runs the whole suite on PostgreSQL (DATABASE_URL, or the embedded one), browser tests included
# when /usr/bin/chromium exists. Extra pytest arguments: make test ARGS="-k escrow".
test: setup
	$(PY) bin/dev.py test $(ARGS)

lint: setup
	$(PY) -m ruff check .

# Pending model changes without a migration (needs no database), then the production deploy check.
check: setup
	DJANGO_SETTINGS_MODULE=marketplace.settings.local $(PY) -W ignore manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=marketplace.settings.production SECRET_KEY=check-only-$$(date +%s%N)-0123456789abcdefghijklmnopqrstuvwxyz \
	  ALLOWED_HOSTS=ipex.example.com $(PY) manage.py check --deploy --fail-level WARNING

bench: setup
	$(PY) bench/search.py --quick
	$(PY) bench/poll.py --quick

clean:
	rm -rf $(VENV) staticfiles test-results
