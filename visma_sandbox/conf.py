"""The simulator's knobs. Each is a Django setting when the settings module defines it, else
an environment variable of the same name, else the default (the settings module belongs to
the host project; the simulator does not need it changed)."""

import os

from django.conf import settings


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.getenv(name) or default
    return int(value)


def quota_per_minute_default() -> int:
    """Requests per minute per client and endpoint (Visma: 600)."""
    return _int("VISMA_SANDBOX_QUOTA_PER_MINUTE", 600)


def access_token_seconds() -> int:
    """Lifetime of an access token unless its client has its own (Visma: one hour)."""
    return _int("VISMA_SANDBOX_ACCESS_TOKEN_SECONDS", 3600)


def authorization_code_seconds() -> int:
    return _int("VISMA_SANDBOX_AUTHORIZATION_CODE_SECONDS", 300)
