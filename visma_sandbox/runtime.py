"""Per-request machinery of the simulated API: the shared quota and the fault switches.

Both live in the database so that several web workers (gunicorn processes, the live-server
thread and the test itself) see one state.
"""

from __future__ import annotations

import math
import socket
import time

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse

from .models import FaultSwitch, QuotaCounter, SandboxCompany
from .services import quota_per_minute

WINDOW_SECONDS = 60


def clock() -> float:
    """Now, in epoch seconds (tests pin it so a window cannot roll over mid-test)."""
    return time.time()


def consume_quota(*, client_id: str, endpoint: str) -> tuple[int, int] | None:
    """Count one request in the current fixed window (60 s, aligned to the minute). None
    when within the quota, else (limit, seconds until the window ends)."""
    limit = quota_per_minute()
    now = clock()
    window = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    with transaction.atomic():
        counter, created = QuotaCounter.objects.select_for_update().get_or_create(
            client_id=client_id, endpoint=endpoint, window_start=window
        )
        counter.count += 1
        counter.save(update_fields=["count"])
    if created:
        QuotaCounter.objects.filter(window_start__lt=window).delete()
    if counter.count > limit:
        return limit, max(1, math.ceil(window + WINDOW_SECONDS - now))
    return None


def switches_for(company: SandboxCompany | None) -> list[FaultSwitch]:
    """The company's switch first, then the global one."""
    scopes = ["global"] + ([f"company:{company.pk}"] if company else [])
    found = {switch.scope: switch for switch in FaultSwitch.objects.filter(scope__in=scopes)}
    return [found[scope] for scope in reversed(scopes) if scope in found]


def take(switches: list[FaultSwitch], field: str) -> FaultSwitch | None:
    """Use up one of a counted fault (atomically, so N means N across workers)."""
    for switch in switches:
        if getattr(switch, field) > 0 and FaultSwitch.objects.filter(
            pk=switch.pk, **{f"{field}__gt": 0}
        ).update(**{field: F(field) - 1}):
            return switch
    return None


def access_error(switches: list[FaultSwitch], *, write: bool) -> int:
    """The 403 ErrorCode a switch has this request answered with (0: none)."""
    for switch in switches:
        code = switch.access_error
        if code and (write or code != 4019):
            return code
    return 0


def latency_seconds(switches: list[FaultSwitch]) -> float:
    return max((switch.latency_ms for switch in switches), default=0) / 1000


def _client_socket(request: HttpRequest) -> socket.socket | None:
    """The connection to the client, where the server lets us reach it: gunicorn puts it in
    the environ; Django's runserver/live server keeps it behind wsgi.input (its
    LimitedStream keeps the socket file's bound read method)."""
    sock = request.META.get("gunicorn.socket")
    if sock is None:
        stream = request.META.get("wsgi.input")
        reader = getattr(getattr(stream, "_read", None), "__self__", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


GATEWAY_TIMEOUT_PAGE = (
    "<html><head><title>504 Gateway Time-out</title></head>"
    "<body><center><h1>504 Gateway Time-out</h1></center></body></html>"
)


def lost_response(request: HttpRequest, mode: str) -> HttpResponse:
    """The answer to a request whose voucher was stored but whose answer is "lost".

    "drop": the connection is shut down without a byte of answer, as when a load balancer
    or the network fails after the server did the work. `requests` raises
    ConnectionError (RemoteDisconnected). Where no socket can be reached (Django's test
    client) this falls back to "504": a gateway's 504 Gateway Time-out page (text/html,
    not Visma's JSON), as when the gateway gave up while the server went on.
    """
    if mode == FaultSwitch.LoseMode.DROP:
        sock = _client_socket(request)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            # The server's attempt to write this fails quietly (broken pipe).
            return HttpResponse(status=504)
    return HttpResponse(GATEWAY_TIMEOUT_PAGE, status=504, content_type="text/html")
