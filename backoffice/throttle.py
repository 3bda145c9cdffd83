"""Request throttles for the open internet, on the shared sliding-window limiter.

The tills' API is limited per key and per address, with limits a busy chain never reaches
(settings.API_RATE_PER_KEY, API_RATE_PER_ADDRESS, per second): a till closes its day once,
a chain's tills a few hundred times an evening; only a loop or an attack gets near them.
The sign-in pages use django-axes with the same notion of the client's address.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from .ratelimit import SlidingWindowLimiter


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries if entry)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    """The client's address. X-Forwarded-For counts only when the request comes from one
    of TRUSTED_PROXIES (addresses or networks of the proxy in front of gunicorn, as for
    gunicorn's FORWARDED_ALLOW_IPS): anyone else could write it. Then the right-most
    address that is not itself a trusted proxy is the client."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not _trusted(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed(forwarded):
        if address and not _trusted(address):
            return address[:64]
    return remote


@dataclass(frozen=True)
class Refused:
    retry_after: int  # whole seconds, at least 1 (the Retry-After header)
    scope: str  # "key" | "address"


_limiter: SlidingWindowLimiter | None = None


def api_limiter() -> SlidingWindowLimiter:
    global _limiter
    window = float(getattr(settings, "API_RATE_WINDOW_SECONDS", 1.0))
    if _limiter is None or _limiter.window_ms != int(window * 1000):
        _limiter = SlidingWindowLimiter(redis_url=settings.REDIS_URL, window_seconds=window)
    return _limiter


def _take(key: str, limit: int, scope: str) -> Refused | None:
    wait = api_limiter().try_acquire(key, limit)
    if wait == 0:
        return None
    return Refused(retry_after=max(1, math.ceil(wait)), scope=scope)


def api_address(request: HttpRequest) -> Refused | None:
    """Per address, before the key is looked at (so guessing keys is throttled too)."""
    return _take(f"api:addr:{client_ip(request)}", settings.API_RATE_PER_ADDRESS, "address")


def api_key(raw_key: str) -> Refused | None:
    # The key's hash, never the key itself, names the window in Redis.
    digest = hashlib.sha256(raw_key.encode()).hexdigest()[:32]
    return _take(f"api:key:{digest}", settings.API_RATE_PER_KEY, "key")
