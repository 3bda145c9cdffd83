# make demo: run the app on a fresh machine.  make test: run every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint bench soak messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Compile the translation catalogues (the .mo files are committed, so a fresh machine
# needs no gettext).
messages: $(STAMP)
	DJANGO_SETTINGS_MODULE=backoffice.settings $(BIN)/django-admin makemessages -l en --no-obsolete \
		-i 'settlements/*' -i 'accounting/*' -i 'integrations/*' -i 'visma_sandbox/*' -i '.venv/*' -i 'tests/*' -i 'bench/*'
	for app in settlements accounting integrations/visma; do \
		(cd $$app && DJANGO_SETTINGS_MODULE=backoffice.settings PYTHONPATH=$(CURDIR) $(CURDIR)/$(BIN)/django-admin makemessages -l en --no-obsolete); done
	DJANGO_SETTINGS_MODULE=backoffice.settings $(BIN)/django-admin compilemessages -i .venv

clean:
	rm -rf $(VENV) var/*.sqlite3 var/celery staticfiles
