"""The test settings are the real settings with the Visma sandbox simulator switched on
(tests drive the production client against it). Set before backoffice.settings reads it."""

import os

os.environ.setdefault("VISMA_SANDBOX", "1")
# Unit tests make many quick calls to a mocked Visma; the limiter's own tests and the
# quota benchmark set their limits explicitly.
os.environ.setdefault("VISMA_RATE_LIMIT_PER_MINUTE", "1000000")

from backoffice.settings import *  # noqa: E402,F403

# Tests create many users; the production hasher is deliberately slow.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
