"""Encryption at rest for the Visma tokens (Fernet, several keys for rotation).

`settings.FIELD_ENCRYPTION_KEYS` lists Fernet keys newest first: the newest encrypts, every
key decrypts. To rotate, put a new key in front of FIELD_ENCRYPTION_KEY, deploy, and run
`manage.py rotate_visma_tokens` (re-encrypts with the new key); then the old key may go.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

__all__ = ["InvalidToken", "decrypt", "encrypt", "reencrypt"]


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ValueError("FIELD_ENCRYPTION_KEY holds no key")
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def _fernet() -> MultiFernet:
    # Keyed by the tuple so a settings override (tests, rotation) takes effect at once.
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


@sensitive_variables()
def encrypt(text: str) -> str:
    """The Fernet token (ASCII) of `text`; "" stays "" so an empty column means "no token"."""
    if not text:
        return ""
    return _fernet().encrypt(text.encode()).decode("ascii")


@sensitive_variables()
def decrypt(token: str) -> str:
    """The text behind `token`. Raises `InvalidToken` when no configured key opens it."""
    if not token:
        return ""
    return _fernet().decrypt(token.encode("ascii")).decode()


@sensitive_variables()
def reencrypt(token: str) -> str:
    """The same secret encrypted with the newest key (for key rotation)."""
    if not token:
        return ""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")
