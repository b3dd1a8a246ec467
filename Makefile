# Forewarn: `make run` starts the portal with demo data; `make test` runs lint and the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# No module over 400 lines, no function over 60, outside migrations and tests.
CHECK_SIZES = $(BIN)/python tools/check_sizes.py

.PHONY: run test venv lint check-sizes migrate security csaf-validator

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The reference CSAF validator (@secvisogram/csaf-validator-lib, pinned in tools/csaf-validator/package-lock.json)
# for tests/csaf/: needs Debian's nodejs and npm.
csaf-validator: tools/csaf-validator/node_modules/.package-lock.json

tools/csaf-validator/node_modules/.package-lock.json: tools/csaf-validator/package.json tools/csaf-validator/package-lock.json
	cd tools/csaf-validator && npm ci --no-audit --no-fund --loglevel=error

migrate: venv
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo
	@echo "Forewarn is starting at http://127.0.0.1:8000/ (web, the release and notice workers, beat; Ctrl-C stops them all)"
	@# Ctrl-C is how it stops: honcho then exits 130, which is not a failure here.
	$(BIN)/honcho --procfile Procfile.dev start || [ $$? -eq 130 ]

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/djlint templates --lint
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(CHECK_SIZES)

check-sizes: venv
	$(CHECK_SIZES)

security: venv
	$(BIN)/bandit --quiet --recursive core partners compliance advisories program config --exclude '*/migrations/*'
	$(BIN)/python .ci/audit_dependencies.py

# Two workers (pytest-xdist); the tests that share services outside the test database keep to one of them
# (tests/conftest.py). The schemathesis tests run on their own afterwards, in one process: their generated items
# share one test id per function, which xdist's group scheduler would merge into one.
test: lint
	$(BIN)/pytest -n 2 --dist loadgroup -m "not schemathesis" $(PYTEST_ARGS)
	$(BIN)/pytest -n 0 -m schemathesis $(PYTEST_ARGS)
