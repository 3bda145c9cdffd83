# make demo: run the app on a fresh machine.  make test: run every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-dates lint audit lock bench soak messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# The demo runs the bundled Visma simulator unless a real Visma is configured
# (VISMA_CLIENT_ID set). The simulator has migrations, so every step sees the switch.
# rundemo registers the simulator's demo client, then runs the web app and a Celery
# worker with beat until Ctrl-C.
# The demo is development: DEBUG on (production, the default, refuses development keys).
demo: export DEBUG ?= 1
demo: export VISMA_SANDBOX ?= $(if $(VISMA_CLIENT_ID),0,1)
demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py rundemo

# Django's deployment checks run with production-like settings: DEBUG off, fresh keys,
# no database or Redis needed (the checks read settings only).
DEPLOY_CHECK_ENV = DJANGO_SETTINGS_MODULE=backoffice.settings DEBUG=0 \
	SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	FIELD_ENCRYPTION_KEY="$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	ALLOWED_HOSTS=backoffice.example.no VISMA_SANDBOX=0 DATABASE_URL= REDIS_URL=

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run
	$(DEPLOY_CHECK_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python scripts/audit_lock.py
	$(BIN)/pytest

# pip-audit on requirements.lock (what the Docker image installs). In make test it reports
# honestly but does not fail when its vulnerability service cannot be reached (it then
# prints "NOT AUDITED"); `make audit` fails then too: run it where the service answers.
audit: $(STAMP)
	AUDIT_REQUIRED=1 $(BIN)/python scripts/audit_lock.py

# Re-pin requirements.lock (with hashes) from pyproject.toml's dependencies.
lock: $(STAMP)
	$(BIN)/pip install --quiet "pip-tools>=7"
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--index-url https://pypi.org/simple --no-emit-index-url \
		--output-file requirements.lock pyproject.toml

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

# The whole of make test with the machine's clock moved by libfaketime to a new year's
# first Monday, a leap day late in the evening and the spring DST night, as Oslo
# wall-clock times: no test may depend on the real calendar (tests/clock.py). Every
# process sees the machine's clock plus one fixed offset, so processes agree.
# Debian's libfaketime (0.9.10) breaks Python's timed waits either way: with the monotonic
# clock faked, threads' timed waits (sem_clockwait, not intercepted) last the whole
# offset; with it real, time.sleep fails (EINVAL, its clock_nanosleep wrapper shifts a
# real monotonic deadline). So the same library is built here from the libfaketime sdist
# on PyPI without its sleep wrappers (-UFAKE_SLEEP) and run with the monotonic clock real.
# Services stay on the machine's clock, as PostgreSQL does: the redis-server the fault
# matrix starts (libfaketime hangs it) and chromium (tests/browser/conftest.py).
# Longer than make test; CI runs only make test.
TEST_DATES := "2027-01-04 10:00" "2028-02-29 23:30" "2026-03-29 01:30"
FAKETIME_LIB := var/faketime/libfaketime.so.1
$(FAKETIME_LIB):
	rm -rf var/faketime && mkdir -p var/faketime
	$(BIN)/pip download --quiet --no-deps --no-binary :all: -d var/faketime libfaketime==3.0.1
	tar -xzf var/faketime/libfaketime-3.0.1.tar.gz -C var/faketime
	$(MAKE) -s -C var/faketime/libfaketime-3.0.1/libfaketime/vendor/libfaketime/src \
		libfaketime.so.1 FAKETIME_COMPILE_CFLAGS="-UFAKE_SLEEP"
	cp var/faketime/libfaketime-3.0.1/libfaketime/vendor/libfaketime/src/libfaketime.so.1 $@

test-dates: $(STAMP) $(FAKETIME_LIB)
	for moment in $(TEST_DATES); do \
		offset=$$(( $$(TZ=Europe/Oslo date -d "$$moment" +%s) - $$(date +%s) )); \
		case $$offset in -*) ;; *) offset="+$$offset" ;; esac; \
		echo "== make test at $$moment Europe/Oslo (clock offset $$offset s)"; \
		TZ=Europe/Oslo LD_PRELOAD=$(CURDIR)/$(FAKETIME_LIB) FAKETIME="$$offset" \
			FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_SKIP_CMDS=redis-server,redis-cli \
			$(MAKE) --no-print-directory test || exit 1; \
	done

# The benchmarks of issue 7 (bench/README.md): PostgreSQL and Redis from DATABASE_URL /
# REDIS_URL, else a dedicated backoffice_bench database and Redis db 15 on this machine
# (started like .ci/run when not answering). Prints the table, writes bench/results.json.
bench: $(STAMP)
	$(BIN)/python bench/run.py

# The long versions (issue 8): the fault matrix over 1000 settlements with every fault
# kind more often (tests/faults/support.py), and every fuzzer with 20 times the examples,
# fresh ones on every run (tests/fuzz/support.py). Same services as make test.
soak: $(STAMP)
	FAULT_SETTLEMENTS=1000 FUZZ_EXAMPLES=20 $(BIN)/pytest tests/faults tests/fuzz -p no:randomly

# Compile the translation catalogues (the .mo files are committed, so a fresh machine
# needs no gettext).
messages: export DEBUG = 1
messages: $(STAMP)
	DJANGO_SETTINGS_MODULE=backoffice.settings $(BIN)/django-admin makemessages -l en --no-obsolete \
		-i 'settlements/*' -i 'accounting/*' -i 'integrations/*' -i 'saft/*' -i 'visma_sandbox/*' -i '.venv/*' -i 'tests/*' -i 'bench/*' -i '*.egg-info/*' -i 'var/*' -i 'docs/*' -i 'screenshots/*' -i 'manage.py' -i 'scripts/*'
	for app in settlements accounting integrations/visma saft; do \
		(cd $$app && DJANGO_SETTINGS_MODULE=backoffice.settings PYTHONPATH=$(CURDIR) $(CURDIR)/$(BIN)/django-admin makemessages -l en --no-obsolete); done
	DJANGO_SETTINGS_MODULE=backoffice.settings $(BIN)/django-admin compilemessages -i .venv

clean:
	rm -rf $(VENV) var/*.sqlite3 var/celery staticfiles
