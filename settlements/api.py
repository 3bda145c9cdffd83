"""The tills' ingestion API (../shared/DESIGN.md 4.1): POST /api/v1/settlements.

Every answer is JSON. Errors always come as {"errors": [{"path", "message"}]}, so a
vendor's client handles 400, 401, 405, 409 and 413 the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from backoffice import throttle
from backoffice.models import ApiKey, Location

from . import limits
from .models import Settlement
from .parsing import SettlementInvalid, decode_body, parse_settlement, settlement_json_schema
from .services import ingest_settlement
from .transfer import provider, untouched_status

# Readable UTF-8 ("ø", not "\u00f8"); JSON is UTF-8 by definition.
UTF8 = {"ensure_ascii": False}


def _error(status: int, message: str, path: str = "", **extra) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"path": path, "message": message}], **extra},
        status=status,
        json_dumps_params=UTF8,
    )


def _bearer(request: HttpRequest) -> str:
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    return raw if scheme.lower() == "bearer" else ""


def _authenticated_location(raw: str) -> Location | None:
    return ApiKey.authenticate(raw) if raw else None


def _too_many(refused: throttle.Refused) -> JsonResponse:
    response = _error(
        429,
        _("For mange forespørsler: prøv igjen om {seconds} sekunder.").format(
            seconds=refused.retry_after
        ),
    )
    response["Retry-After"] = str(refused.retry_after)
    return response


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _answer(
    request: HttpRequest,
    settlement: Settlement,
    status: int,
    *,
    corrected: bool = False,
    untouched: bool = False,
    corrects: Settlement | None = None,
) -> JsonResponse:
    # A settlement stored (or replaced) just now has no transfer yet: no need to ask.
    transfer = untouched_status(settlement) if untouched else provider().status(settlement)
    url = request.build_absolute_uri(reverse("settlements:detail", args=[settlement.pk]))
    response = JsonResponse(
        {
            "id": settlement.pk,
            "corrected": corrected,
            "state": transfer.state,
            "state_label": str(transfer.label),
            "reason": transfer.reason,
            "balance_difference": str(settlement.balance_difference),
            "cash_difference": (
                None if settlement.cash_difference is None else str(settlement.cash_difference)
            ),
            "url": url,
            # A correction of a settlement that may be in the books: the version it corrects.
            **({"corrects": corrects.pk} if corrects is not None else {}),
        },
        status=status,
        json_dumps_params=UTF8,
    )
    if status == 201:
        response["Location"] = url
    return response


@csrf_exempt
def settlements_endpoint(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = _error(405, _("Bare POST er tillatt her."))
        response["Allow"] = "POST"
        return response

    refused = throttle.api_address(request)
    if refused:
        return _too_many(refused)
    raw_key = _bearer(request)
    location = _authenticated_location(raw_key)
    if location is None:
        response = _error(
            401,
            _("Mangler eller ugyldig API-nøkkel: send «Authorization: Bearer <nøkkel>»."),
        )
        response["WWW-Authenticate"] = 'Bearer realm="settlements"'
        return response

    limit = settings.SETTLEMENT_MAX_BODY_BYTES
    too_big = _("Innholdet er større enn {limit} byte.").format(limit=limit)
    # The declared size first, so an oversized body is refused before it is read ...
    if _content_length(request) > limit:
        return _error(413, too_big)
    body = request.body
    # ... and the real size too, whatever the header claimed.
    if len(body) > limit:
        return _error(413, too_big)

    refused = throttle.api_key(raw_key)
    if refused:
        return _too_many(refused)

    obj = None
    try:
        obj = decode_body(body)
        # Counted before parsing: 100 000 sale lines are refused without parsing one.
        too_many = limits.line_count_errors(obj)
        if too_many:
            raise SettlementInvalid(too_many)
        data = parse_settlement(obj)
    except SettlementInvalid as exc:
        # At most 50 errors, and the allowed fields named once: a 249 KB body of unknown
        # fields once made a 4.7 MB answer.
        answer = limits.bounded_errors(exc.errors, obj)
        return JsonResponse(answer, status=400, json_dumps_params=UTF8)

    try:
        result = ingest_settlement(location=location, data=data)
    except limits.SettlementRefused as exc:
        if not exc.daily:
            return _error(400, exc.message, path=exc.path)
        response = _error(429, exc.message, path=exc.path)
        response["Retry-After"] = str(limits.seconds_until_tomorrow())
        return response
    if result.outcome == "created":
        return _answer(request, result.settlement, 201, untouched=True)
    if result.outcome == "unchanged":
        return _answer(request, result.settlement, 200)
    if result.outcome == "corrected":
        # The stored settlement did not balance, so it was never posted: the till's
        # corrected one replaces it (the old version is kept as a SettlementRevision).
        return _answer(request, result.settlement, 200, corrected=True, untouched=True)
    if result.outcome == "correction":
        # A new version ("correction": true): the one it corrects stays as it was, and the
        # integration reverses its voucher before posting this one.
        return _answer(
            request,
            result.settlement,
            201,
            corrected=True,
            untouched=True,
            corrects=result.settlement.corrects,
        )
    settlement = result.settlement
    return _error(
        409,
        _(
            "Kasse {register} har allerede sendt Z-nummer {z} med annet innhold. "
            "Et oppgjør som går i balanse blir aldri overskrevet. Send det rettede oppgjøret "
            "med «correction»: true for å korrigere det."
        ).format(register=settlement.register_id, z=settlement.z_number),
        path="z_number",
        id=settlement.pk,
        state=provider().status(settlement).state,
        url=request.build_absolute_uri(reverse("settlements:detail", args=[settlement.pk])),
    )


@require_GET
@cache_control(max_age=3600, public=True)
def settlement_schema(request: HttpRequest) -> JsonResponse:
    schema = {"$id": request.build_absolute_uri(), **settlement_json_schema()}
    return JsonResponse(schema, json_dumps_params={**UTF8, "indent": 2})
