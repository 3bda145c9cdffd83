"""The test settings are the real settings with the Visma sandbox simulator switched on
(tests drive the production client against it). Set before backoffice.settings reads it.

DEBUG is on only as far as the tests need it: the settings module is read with DEBUG=1,
so the development keys, plain-HTTP cookies and the simulator are allowed; Django's own
DEBUG is off again below (no debug page, no query log), as pytest-django makes it for the
test process too. The browser tests' live server and the Celery worker subprocesses use
these settings.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("VISMA_SANDBOX", "1")
# Unit tests make many quick calls to a mocked Visma; the limiter's own tests and the
# quota benchmark set their limits explicitly.
os.environ.setdefault("VISMA_RATE_LIMIT_PER_MINUTE", "1000000")
# Likewise the tills' API throttles (tests/security/test_api_bounds.py sets real ones): the
# suite posts hundreds of settlements a second from one key and address.
os.environ.setdefault("API_RATE_PER_KEY", "1000000")
os.environ.setdefault("API_RATE_PER_ADDRESS", "1000000")

from backoffice.settings import *  # noqa: E402,F403
from tests.clock import travel_from_environment  # noqa: E402

# A worker, rundemo or manage.py started by a test sees the test's clock (tests/clock.py).
travel_from_environment()

# Browsers keep their own clock, which no test controls: cookies that expire at a date
# computed on the test's clock could already be past for the browser. Session cookies
# (no Expires) keep the browser tests independent of the calendar; what a session's age
# means on the server is unchanged (SESSION_COOKIE_AGE).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_AGE = None

DEBUG = False

# Tests create many users; the production hasher is deliberately slow.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
