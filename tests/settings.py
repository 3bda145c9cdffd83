"""The test settings are the real settings with the Visma sandbox simulator switched on
(tests drive the production client against it). Set before backoffice.settings reads it."""

import os

os.environ.setdefault("VISMA_SANDBOX", "1")
# Unit tests make many quick calls to a mocked Visma; the limiter's own tests and the
# quota benchmark set their limits explicitly.
os.environ.setdefault("VISMA_RATE_LIMIT_PER_MINUTE", "1000000")

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

# Tests create many users; the production hasher is deliberately slow.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
