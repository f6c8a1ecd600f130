# Two commands on a fresh machine with Python 3.11+, make and git:
#   make run   -- set up, migrate, load the demo once, serve on http://127.0.0.1:5000
#   make test  -- set up with dev extras, run the suite on SQLite, then PostgreSQL, then Chromium
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NHSUK_VERSION := 10.6.1
ASSETS := passport/static/nhsuk/nhsuk-frontend.min.css
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres test-browser install assets bench-health clean

$(STAMP): setup.cfg pyproject.toml | $(ASSETS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) $(ASSETS)

# NHS.UK frontend CSS/JS/images, fetched from the npm registry at install time (not committed).
$(ASSETS):
	bash scripts/fetch-assets.sh $(NHSUK_VERSION)

assets: $(ASSETS)

instance:
	mkdir -p instance

run: install instance
	$(BIN)/passport db upgrade
	@test -f instance/.demo-loaded || ($(BIN)/passport demo | tee instance/demo-sign-ins.txt && touch instance/.demo-loaded)
	@echo "Demo sign-ins are in instance/demo-sign-ins.txt"
	@# The job worker (reminders, mail, re-issues) on the embedded SQLite queue, stopped with the server.
	$(BIN)/passport worker --workers 1 --threads & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(BIN)/passport run --host 127.0.0.1 --port 5000

test: install
	bash scripts/test-all.sh

test-sqlite: install
	$(BIN)/python -m pytest -m "not browser" -q

test-postgres: install
	bash scripts/with-postgres.sh $(BIN)/python -m pytest -m "not browser" -q

test-browser: install
	bash scripts/ensure-chromium.sh && $(BIN)/python -m pytest -m browser -q

bench-health: install
	bash bench/run_health_dashboard.sh

clean:
	rm -rf $(VENV) build passport/static/nhsuk *.egg-info
