"""gunicorn bench.wsgi_bench:application  — the product's WSGI app with bench/settings.py
(the product's URLs plus the baseline endpoint). Used by bench/ingestion.py only."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
application = get_wsgi_application()
