"""Visma eAccounting API v2: one function per endpoint we use, one HTTP session.

Every function takes a bearer access token (get one from `tokens.get_access_token`, or
call through `tokens.call`, which also retries once after a 401 with a refreshed token).

- Every request passes `before_request(endpoint)` first: the one place where the shared
  rate limiter hooks in (the scheduled-transfer issue replaces the no-op).
- Timeouts on every request (settings.VISMA_TIMEOUT_SECONDS).
- Answers are parsed with `parse_float=Decimal` (money never becomes a float) and checked
  for the fields we rely on; anything else raises `UnexpectedResponse`.
- Errors raise a `VismaError` subclass carrying Visma's ErrorCode, message and ErrorId.
  `outcome_unknown` says whether a write may have taken effect although it failed (a read
  timeout after sending, a 5xx, a 201 with a garbled body): the export service then looks
  the voucher up before posting again (exactly once).
- Tokens are never logged, nor put in exceptions.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from redis.exceptions import RedisError
from urllib3.exceptions import NewConnectionError

from backoffice.validation import path_of

if TYPE_CHECKING:
    from accounting.builder import Voucher

logger = logging.getLogger(__name__)

PAGE_SIZE = 500
# A list that claims more pages than this is a server bug, not a chart of accounts.
MAX_PAGES = 1000

session = requests.Session()
session.headers.update({"Accept": "application/json", "User-Agent": "backoffice-visma/1"})


_local_limiter = None


def before_request(endpoint: str) -> None:
    """Called before every request to Visma with the endpoint's name ("vouchers", …).

    Takes a slot of the rate limiter that all workers share through Redis: Visma counts
    about 600 requests a minute per client and endpoint and answers 429 beyond, so a big
    run waits here just long enough instead of bouncing off the quota.

    While that Redis does not answer (restarting, unreachable) each process keeps the
    window by itself: an outage of the limiter must not stop the transfer in the middle of
    a run, and Visma's own 429 still guards the quota. When no slot frees up in time the
    request is not sent and RateLimited says so, as Visma would.
    """
    from backoffice.ratelimit import SlidingWindowLimiter, effective_limit, visma_limiter

    global _local_limiter
    key = f"visma:{settings.VISMA_CLIENT_ID}:{endpoint}"
    limit = effective_limit(settings.VISMA_RATE_LIMIT_PER_MINUTE)
    try:
        try:
            visma_limiter().acquire(key, limit)
        except RedisError as exc:
            logger.warning("Shared rate limiter unavailable (%s); limiting in-process", exc)
            if _local_limiter is None:
                _local_limiter = SlidingWindowLimiter()
            _local_limiter.acquire(key, limit)
    except TimeoutError:
        raise RateLimited(
            4010, "No free slot in the rate limiter. Try again in 60 seconds.", retry_after=60
        ) from None


def timeout() -> tuple[float, float]:
    """(connect, read) timeouts in seconds."""
    total = settings.VISMA_TIMEOUT_SECONDS
    return (min(10, total), total)


# ---------------------------------------------------------------------------- exceptions


class VismaError(Exception):
    """An answer from Visma that is not a success, or no answer at all.

    code: Visma's ErrorCode (int) when it sent one; status: the HTTP status; error_id:
    Visma's ErrorId (quote it to Visma support); errors: Visma's field errors
    ([{"Field", "ErrorCode", "Message", "Key"}]).
    """

    outcome_unknown = False
    # The request may still be under way at Visma: we (or a gateway) stopped waiting before
    # Visma answered, so what it writes can appear later and a search now proves nothing.
    may_land_later = False

    def __init__(
        self,
        code: int | None,
        message: str,
        status: int | None = None,
        error_id: str | None = None,
        *,
        errors: list[dict] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.error_id = error_id
        self.errors = errors or []

    def __str__(self) -> str:
        parts = [self.message or self.__class__.__name__]
        if self.code is not None:
            parts.append(f"(ErrorCode {self.code})")
        if self.status is not None:
            parts.append(f"[HTTP {self.status}]")
        return " ".join(parts)

    @property
    def detail(self) -> str:
        """The message with Visma's field errors, for a person to read."""
        lines = [self.message] if self.message else []
        for item in self.errors:
            text = item.get("Message") or ""
            where = item.get("Field") or ""
            if text:
                lines.append(f"{where}: {text}" if where else text)
        return "; ".join(lines)


class ValidationError(VismaError):
    """2000: Visma refused the body (see `errors`)."""


class FiscalYearMissing(VismaError):
    """3001: no fiscal year covers the voucher date."""


class AccountNotFound(VismaError):
    """3002: an account number does not exist in the company."""


class RateLimited(VismaError):
    """4010 / HTTP 429: too many requests; try again after `retry_after` seconds."""

    def __init__(self, *args, retry_after: int = 60, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class PeriodLocked(VismaError):
    """4026: the voucher date is in a locked period or a locked fiscal year. Visma documents
    no other code for a lock (https://developer.vismaonline.com/docs/error-codes)."""


class MissingScope(VismaError):
    """4006: the connection lacks a scope the endpoint needs; reconnecting fixes it."""


class AuthError(VismaError):
    """HTTP 401: the access token is not (or no longer) accepted."""


class AccessDenied(VismaError):
    """HTTP 403: the company or the user may not do this (4002 no access to the API
    module, 4003 startup guide not completed, 4004 company not active, 4005 not
    authorised, 4011 no access to the company, 4019 read-only user). Nothing was stored;
    only the admin, in Visma, can fix it: `advice` says how."""

    @property
    def advice(self) -> str:
        from .access import advice

        return advice(self.code, self.detail)


class ServerError(VismaError):
    """HTTP 5xx or ErrorCode 5000. For a write, Visma may have stored it anyway."""

    outcome_unknown = True

    @property
    def may_land_later(self) -> bool:  # type: ignore[override]
        # 504: a gateway gave up waiting; the server behind it may still be working.
        return self.status == 504


class TransportError(VismaError):
    """No HTTP answer: a timeout or a broken connection.

    maybe_sent is True when the request may have reached Visma (read timeout, connection
    reset after sending); False when it certainly did not (no connection was made).
    """

    def __init__(self, message: str, *, maybe_sent: bool, may_land_later: bool = False):
        super().__init__(None, message)
        self.maybe_sent = maybe_sent
        self.may_land_later = may_land_later

    @property
    def outcome_unknown(self) -> bool:  # type: ignore[override]
        return self.maybe_sent


class UnexpectedResponse(VismaError):
    """A success status whose body is not what Visma documents (or not JSON)."""

    def __init__(self, message: str, status: int | None = None, *, outcome_unknown=False):
        super().__init__(None, message, status)
        self._outcome_unknown = outcome_unknown

    @property
    def outcome_unknown(self) -> bool:  # type: ignore[override]
        return self._outcome_unknown


class InvalidPayload(VismaError):
    """The voucher breaks Visma's VoucherApi schema; it was not sent."""


_CODE_CLASSES: dict[int, type[VismaError]] = {
    2000: ValidationError,
    3001: FiscalYearMissing,
    3002: AccountNotFound,
    4006: MissingScope,
    4010: RateLimited,
    4026: PeriodLocked,
    5000: ServerError,
}

_TRY_AGAIN = re.compile(r"try again in\s+(\d+)\s*second", re.IGNORECASE)


def _retry_after(message: str, headers) -> int:
    match = _TRY_AGAIN.search(message or "")
    if match:
        return int(match.group(1))
    header = (headers or {}).get("Retry-After", "")
    if header.strip().isdigit():
        return int(header.strip())
    return 60  # Visma's quota is per minute: a minute always suffices.


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def error_from_response(response: requests.Response) -> VismaError:
    """The named exception for a non-2xx answer."""
    status = response.status_code
    try:
        body = response.json(parse_float=Decimal)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    code = _as_int(body.get("ErrorCode"))
    errors = body["Errors"] if isinstance(body.get("Errors"), list) else []
    errors = [item for item in errors if isinstance(item, dict)]
    message = body.get("DeveloperErrorMessage") or body.get("Message") or ""
    if not message and errors:
        message = str(errors[0].get("Message") or "")
    if not message:
        message = (response.text or response.reason or "").strip()[:300]
    error_id = body.get("ErrorId")
    error_id = str(error_id) if error_id else None
    kwargs = {"errors": errors}

    if status == 401:
        return AuthError(code, message or "Unauthorized", status, error_id, **kwargs)
    if status == 403 and code not in (4006,):
        return AccessDenied(code, message or "Forbidden", status, error_id, **kwargs)
    if code == 4010 or status == 429:
        return RateLimited(
            code or 4010,
            message,
            status,
            error_id,
            retry_after=_retry_after(message, response.headers),
            **kwargs,
        )
    if code in _CODE_CLASSES:
        return _CODE_CLASSES[code](code, message, status, error_id, **kwargs)
    if status >= 500:
        return ServerError(code, message, status, error_id, **kwargs)
    return VismaError(code, message, status, error_id, **kwargs)


# ---------------------------------------------------------------------------- transport


def _transport_error(exc: requests.RequestException) -> TransportError:
    # Only a failure to connect proves the request never left; everything else (a read
    # timeout, a reset while waiting for the answer) may have reached Visma.
    if isinstance(exc, requests.ConnectTimeout):
        return TransportError("Visma did not accept the connection in time", maybe_sent=False)
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps it
        if isinstance(reason, NewConnectionError) or isinstance(exc, requests.exceptions.SSLError):
            return TransportError(
                f"Could not connect to Visma: {type(reason).__name__}", maybe_sent=False
            )
        return TransportError(
            f"The connection to Visma broke: {type(exc).__name__}", maybe_sent=True
        )
    if isinstance(exc, requests.Timeout):
        # We stopped waiting; Visma may still be working on it.
        return TransportError("Visma did not answer in time", maybe_sent=True, may_land_later=True)
    return TransportError(f"Request to Visma failed: {type(exc).__name__}", maybe_sent=True)


def dumps(payload: Any, **options: Any) -> str:
    """JSON text of `payload`; Decimal amounts become JSON numbers with exactly their own
    digits ("4800.00"), never through a binary float."""
    decimals: list[Decimal] = []

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"{value} cannot be sent as a JSON number")
            decimals.append(value)
            return f"\x00decimal{len(decimals) - 1}\x00"  # replaced by the digits below
        if isinstance(value, date | datetime):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    text = json.dumps(payload, default=default, ensure_ascii=False, **options)
    return _DECIMAL_MARK.sub(lambda m: format(decimals[int(m.group(1))], "f"), text)


_DECIMAL_MARK = re.compile(r'"\\u0000decimal(\d+)\\u0000"')


class ExactJSONEncoder(json.JSONEncoder):
    """For a JSONField that stores amounts as they were sent: Decimal as a JSON number
    with its own digits."""

    def encode(self, o: Any) -> str:
        return dumps(o)


class ExactJSONDecoder(json.JSONDecoder):
    """Reads such a field back with its numbers as Decimal, never float."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)


@sensitive_variables()
def _request(
    method: str,
    path: str,
    token: str,
    *,
    endpoint: str,
    params: dict | None = None,
    payload: Any = None,
) -> tuple[int, Any]:
    before_request(endpoint)
    url = f"{settings.VISMA_API_URL}/{path.lstrip('/')}"
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        data = dumps(payload).encode()
    try:
        response = session.request(
            method, url, params=params, data=data, headers=headers, timeout=timeout()
        )
    except requests.RequestException as exc:
        error: VismaError = _transport_error(exc)
        logger.warning("Visma %s %s: %s", method, path, error)
        raise error from None
    if not 200 <= response.status_code < 300:
        error = error_from_response(response)
        logger.warning("Visma %s %s: %s (ErrorId %s)", method, path, error, error.error_id)
        raise error
    try:
        body = response.json(parse_float=Decimal)
    except ValueError:
        raise UnexpectedResponse(
            f"Visma answered {method} {path} with something that is not JSON",
            response.status_code,
            outcome_unknown=method != "GET",
        ) from None
    return response.status_code, body


# ---------------------------------------------------------------------------- shapes


def _shape_error(what: str, problem: str, *, write: bool = False) -> UnexpectedResponse:
    return UnexpectedResponse(f"Unexpected {what} from Visma: {problem}", outcome_unknown=write)


# Visma's answers as pydantic models, field names as Visma spells them (the swagger in
# ../shared/visma/). Strict: a number that comes as text, or a flag as 0/1, is not what
# Visma documents. Unknown fields are ignored: Visma adds fields without notice.
class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


def _date_part(value: Any) -> str:
    # Visma's dates come as "2026-01-01" or "2026-01-01T00:00:00", always as text.
    if not isinstance(value, str):
        raise ValueError("a date must be text")
    return value[:10]


VismaDate = Annotated[date, BeforeValidator(_date_part), Strict(False)]
Guid = Annotated[uuid.UUID, Strict(False)]


S = TypeVar("S", bound=_Shape)


class _Meta(_Shape):
    CurrentPage: int
    TotalNumberOfPages: int


class _Page(_Shape):
    Meta: _Meta
    Data: list[dict[str, Any]]


class _CompanySettingsIn(_Shape):
    Name: str
    CorporateIdentityNumber: str | None = None
    AccountingLockedTo: VismaDate | None = None
    UsesCostCenter: bool | None = None

    @field_validator("AccountingLockedTo", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class _AccountIn(_Shape):
    # Visma documents Number as text ("1900"); some answers carry it as a number.
    Number: (
        Annotated[int, Field(ge=1)] | Annotated[str, StringConstraints(pattern=r"^\s*[0-9]+\s*$")]
    )
    Name: str
    IsActive: bool
    FiscalYearId: str | None = None
    VatCodeId: str | None = None
    # The account's rules for manual vouchers (ours are manual vouchers): Visma refuses a
    # row on a blocked account, one without a first cost centre where it is mandatory, and
    # a row text where none is allowed. Absent: what Visma assumes without them.
    IsBlockedForManualBooking: bool = False
    IsFirstCostCenterMandatory: bool = False
    AllowTransactionText: bool = True


class _VatCodeIn(_Shape):
    Id: Guid
    Code: Any = None
    Description: str | None = None
    VatRate: int | Decimal
    RelatedAccounts: Any = None


class _FiscalYearIn(_Shape):
    Id: Guid
    StartDate: VismaDate
    EndDate: VismaDate
    IsLockedForAccounting: bool

    @model_validator(mode="after")
    def _a_period(self) -> _FiscalYearIn:
        if self.EndDate < self.StartDate:
            raise ValueError("StartDate/EndDate do not make a period")
        return self


class _VoucherIn(_Shape):
    Id: str


class _CostCenterItemIn(_Shape):
    Id: Guid
    Name: str
    ShortName: str | None = None
    IsActive: bool


class _CostCenterIn(_Shape):
    Id: Guid
    Name: str
    IsActive: bool | None = None
    Items: list[_CostCenterItemIn] | None = None


def _shape(model: type[S], item: Any, what: str, *, write: bool = False) -> S:
    """`item` as `model`, or UnexpectedResponse naming the first bad field."""
    try:
        return model.model_validate(item)
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = path_of(first["loc"]) or "(answer)"
        raise _shape_error(what, f"{where}: {first['msg']}", write=write) from None


@sensitive_variables()
def _paginated(token: str, path: str, *, endpoint: str, params: dict | None = None) -> list[dict]:
    """Every item of a paginated list, following `Meta` to the last page."""
    items: list[dict] = []
    page = 1
    while True:
        query = {**(params or {}), "$page": page, "$pagesize": PAGE_SIZE}
        _status, body = _request("GET", path, token, endpoint=endpoint, params=query)
        answer = _shape(_Page, body, f"{path} list")
        if answer.Meta.CurrentPage != page:
            raise _shape_error(
                f"{path} list", f"asked for page {page}, got {answer.Meta.CurrentPage}"
            )
        items.extend(answer.Data)
        if page >= answer.Meta.TotalNumberOfPages or not answer.Data or page >= MAX_PAGES:
            return items
        page += 1


# ---------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class CompanySettings:
    name: str
    org_number: str  # CorporateIdentityNumber ("" when Visma has none)
    accounting_locked_to: date | None
    raw: dict = field(repr=False, compare=False, default_factory=dict)
    # CompanySettingsApi.UsesCostCenter: the company books on cost centres.
    uses_cost_center: bool = False


@dataclass(frozen=True)
class Account:
    number: int
    name: str
    is_active: bool
    fiscal_year_id: str
    vat_code_id: str | None = None
    blocked_for_manual_booking: bool = False
    first_cost_center_mandatory: bool = False
    allows_transaction_text: bool = True


@dataclass(frozen=True)
class VatCode:
    id: str
    code: str
    description: str
    rate: Decimal  # Visma's VatRate: a fraction, 0.25 for 25 %
    related_accounts: tuple[int, ...] = ()


@dataclass(frozen=True)
class CostCenterItem:
    """An item of one of the company's cost centres (CostCenterItemApi), e.g. the store
    "Torget" of the cost centre "Avdeling". Its id goes on a voucher row as
    CostCenterItemId1."""

    id: str
    name: str
    short_name: str
    is_active: bool
    cost_center_id: str
    cost_center_name: str
    # Inactive as a whole: none of its items may be used.
    cost_center_active: bool = True


@dataclass(frozen=True)
class FiscalYear:
    id: str
    start_date: date
    end_date: date
    is_locked: bool


def get_company_settings(token: str) -> CompanySettings:
    """GET /companysettings (needs an ea:sales* scope)."""
    _status, body = _request("GET", "companysettings", token, endpoint="companysettings")
    answer = _shape(_CompanySettingsIn, body, "company settings")
    return CompanySettings(
        name=answer.Name,
        org_number=answer.CorporateIdentityNumber or "",
        accounting_locked_to=answer.AccountingLockedTo,
        raw=body,
        uses_cost_center=bool(answer.UsesCostCenter),
    )


def list_accounts(token: str, *, fiscal_year_id: str | None = None) -> list[Account]:
    """The chart of accounts, every page: GET /accounts/{fiscalyearId} for one fiscal year
    (Visma keeps a chart per year), or GET /accounts (the current year's) without one.
    https://eaccountingapi.vismaonline.com/swagger/ui/index#!/Accounts"""
    path = f"accounts/{fiscal_year_id}" if fiscal_year_id else "accounts"
    accounts = []
    for item in _paginated(token, path, endpoint="accounts"):
        account = _shape(_AccountIn, item, "account")
        number = int(account.Number)
        if number < 1:
            raise _shape_error("account", f"Number {account.Number!r} is not an account number")
        accounts.append(
            Account(
                number=number,
                name=account.Name,
                is_active=account.IsActive,
                fiscal_year_id=account.FiscalYearId or fiscal_year_id or "",
                vat_code_id=account.VatCodeId or None,
                blocked_for_manual_booking=account.IsBlockedForManualBooking,
                first_cost_center_mandatory=account.IsFirstCostCenterMandatory,
                allows_transaction_text=account.AllowTransactionText,
            )
        )
    return accounts


def list_vat_codes(token: str) -> list[VatCode]:
    """GET /vatcodes, every page. Codes without a `Code` are left out (they cannot be
    chosen in the kontooppsett)."""
    codes = []
    for item in _paginated(token, "vatcodes", endpoint="vatcodes"):
        vat = _shape(_VatCodeIn, item, "VAT code")
        if not isinstance(vat.Code, str) or not vat.Code.strip():
            continue
        related = vat.RelatedAccounts if isinstance(vat.RelatedAccounts, dict) else {}
        accounts = tuple(
            number
            for key in ("AccountNumber1", "AccountNumber2", "AccountNumber3")
            if (number := _as_int(related.get(key)))
        )
        codes.append(
            VatCode(
                id=str(vat.Id),
                code=vat.Code.strip(),
                description=vat.Description or "",
                rate=Decimal(vat.VatRate),
                related_accounts=accounts,
            )
        )
    return codes


def list_fiscal_years(token: str) -> list[FiscalYear]:
    """GET /fiscalyears, every page."""
    years = []
    for item in _paginated(token, "fiscalyears", endpoint="fiscalyears"):
        year = _shape(_FiscalYearIn, item, "fiscal year")
        years.append(
            FiscalYear(
                id=str(year.Id),
                start_date=year.StartDate,
                end_date=year.EndDate,
                is_locked=year.IsLockedForAccounting,
            )
        )
    return years


def list_cost_centers(token: str) -> list[CostCenterItem]:
    """GET /costcenters, every page: each cost centre's items, one entry per item.
    https://eaccountingapi.vismaonline.com/swagger/ui/index#!/CostCenters/CostCenters_Get"""
    items = []
    for raw in _paginated(token, "costcenters", endpoint="costcenters"):
        centre = _shape(_CostCenterIn, raw, "cost center")
        for item in centre.Items or []:
            items.append(
                CostCenterItem(
                    id=str(item.Id),
                    name=item.Name,
                    short_name=item.ShortName or "",
                    is_active=item.IsActive,
                    cost_center_id=str(centre.Id),
                    cost_center_name=centre.Name,
                    cost_center_active=centre.IsActive is not False,
                )
            )
    return items


def voucher_date_filter(first: date, last: date) -> str:
    """The OData $filter for the vouchers dated `first` to `last`, written as working
    integrations write it. Visma's OData v4 stack may refuse a date-time property compared
    with a bare date (`VoucherDate eq 2026-11-27`, 400), and VoucherDate comes back
    without a zone, so an exact match may find nothing: a range of date-times."""
    return (
        f"VoucherDate ge {first.isoformat()}T00:00:00.00Z "
        f"and VoucherDate le {last.isoformat()}T23:59:59.00Z"
    )


def check_voucher_access(token: str) -> None:
    """GET /vouchers?$pagesize=1: one harmless read of the company's books. Visma answers
    403 here to a company without the API module or a user without access to the
    company (AccessDenied), which the connect wants to learn before it stores anything."""
    _request("GET", "vouchers", token, endpoint="vouchers", params={"$pagesize": 1})


def list_vouchers(token: str, *, filter: str | None = None) -> list[dict]:
    """GET /vouchers with an OData `$filter` (e.g. "VoucherDate eq 2026-11-27"), every
    page. Items are Visma's VoucherApi dicts (amounts as Decimal)."""
    params = {"$filter": filter} if filter else None
    vouchers = []
    for item in _paginated(token, "vouchers", endpoint="vouchers", params=params):
        _shape(_VoucherIn, item, "voucher")
        vouchers.append(item)
    return vouchers


def create_voucher(
    token: str,
    payload: dict,
    *,
    use_default_vat_codes: bool = False,
    use_automatic_vat_calculation: bool = False,
) -> dict:
    """POST /vouchers. Returns Visma's created voucher (Id, NumberAndNumberSeries, …).

    The payload is checked against Visma's VoucherApi schema first (InvalidPayload, not
    sent). A 201 whose body lacks the voucher's Id raises UnexpectedResponse with
    outcome_unknown=True: the voucher probably exists.
    """
    from .voucher_schema import validate_voucher_payload

    problems = validate_voucher_payload(payload)
    if problems:
        raise InvalidPayload(None, "; ".join(problems), errors=[{"Message": p} for p in problems])
    params = {
        "useDefaultVatCodes": str(use_default_vat_codes).lower(),
        "useAutomaticVatCalculation": str(use_automatic_vat_calculation).lower(),
    }
    _status, body = _request(
        "POST", "vouchers", token, endpoint="vouchers", params=params, payload=payload
    )
    _shape(_VoucherIn, body, "created voucher", write=True)
    return body


# ---------------------------------------------------------------------------- attachments
# The Z-report PDF that documents a voucher (issue 18, item 1, integrations.visma.attachments).
# https://eaccountingapi.vismaonline.com/swagger/ui/index#/Attachments and #/AttachmentLinks

# AttachmentLinkApi.DocumentType / Attachment.AttachedDocumentType: 3 = Voucher.
VOUCHER_DOCUMENT = 3


class _AttachmentIn(_Shape):
    Id: Guid
    FileName: str | None = None
    ContentType: str | None = None
    # The document it is linked to (None: not linked, "unmatched").
    DocumentId: Guid | None = None
    AttachedDocumentType: int | None = None


class _AttachmentLinkIn(_Shape):
    DocumentId: Guid | None = None
    DocumentType: int
    AttachmentIds: list[Guid]


@dataclass(frozen=True)
class Attachment:
    id: str
    file_name: str
    document_id: str | None  # the linked document's id, None while unmatched
    document_type: int | None = None


def _check(problems: list[str]) -> None:
    """A body that breaks Visma's schema is a defect of ours: never sent."""
    if problems:
        raise InvalidPayload(None, "; ".join(problems), errors=[{"Message": p} for p in problems])


def _attachment(answer: _AttachmentIn) -> Attachment:
    return Attachment(
        id=str(answer.Id),
        file_name=answer.FileName or "",
        document_id=str(answer.DocumentId) if answer.DocumentId else None,
        document_type=answer.AttachedDocumentType,
    )


def upload_attachment(
    token: str,
    *,
    file_name: str,
    data: bytes,
    content_type: str = "application/pdf",
    comment: str | None = None,
) -> Attachment:
    """POST /attachments (AttachmentUploadApi: ContentType, FileName, Data as base64).
    Answers 201 with the Attachment; one without its Id raises UnexpectedResponse with
    outcome_unknown=True (the file is probably stored)."""
    payload: dict[str, Any] = {
        "ContentType": content_type,
        "FileName": file_name,
        "Data": base64.b64encode(data).decode("ascii"),
    }
    if comment:
        payload["Comment"] = comment
    from .attachment_schema import validate_upload_payload

    _check(validate_upload_payload(payload))
    _status, body = _request("POST", "attachments", token, endpoint="attachments", payload=payload)
    return _attachment(_shape(_AttachmentIn, body, "uploaded attachment", write=True))


def list_unmatched_attachments(token: str) -> list[Attachment]:
    """GET /attachments?includeMatched=false, every page: the attachments not linked to
    any document yet (the "Dokumenter" inbox), without their download URLs."""
    params = {"includeMatched": "false", "includeTemporaryUrl": "false"}
    return [
        _attachment(_shape(_AttachmentIn, item, "attachment"))
        for item in _paginated(token, "attachments", endpoint="attachments", params=params)
    ]


def get_attachment(token: str, attachment_id: str) -> Attachment:
    """GET /attachments/{attachmentId}: whether (and to what) it is linked."""
    _status, body = _request(
        "GET",
        f"attachments/{uuid.UUID(attachment_id)}",
        token,
        endpoint="attachment_detail",
        params={"includeTemporaryUrl": "false"},
    )
    return _attachment(_shape(_AttachmentIn, body, "attachment"))


def link_attachments(
    token: str,
    *,
    document_id: str,
    attachment_ids: list[str],
    document_type: int = VOUCHER_DOCUMENT,
) -> None:
    """POST /attachmentlinks (AttachmentLinkApi): the attachments become the document's.
    Answers 200 with the links; one that does not name them raises UnexpectedResponse
    with outcome_unknown=True."""
    payload = {
        "DocumentId": document_id,
        "DocumentType": document_type,
        "AttachmentIds": list(attachment_ids),
    }
    from .attachment_schema import validate_link_payload

    _check(validate_link_payload(payload))
    _status, body = _request(
        "POST", "attachmentlinks", token, endpoint="attachmentlinks", payload=payload
    )
    answer = _shape(_AttachmentLinkIn, body, "attachment link", write=True)
    if {str(i) for i in answer.AttachmentIds} != {i.lower() for i in attachment_ids}:
        raise _shape_error("attachment link", "AttachmentIds differ from those sent", write=True)


def voucher_body(
    voucher: Voucher,
    vat_code_ids: dict[str, str],
    *,
    cost_center_item_id: str | None = None,
    without_text: Collection[int] = (),
) -> dict:
    """Visma's VoucherApi body of a provider-neutral voucher (accounting.builder).

    Amounts stay Decimal (sent as JSON numbers with their 2 decimals, see `dumps`); our
    VAT codes travel as Visma's VatCodeId on the sales rows (`vat_code_ids`: code → id).
    `cost_center_item_id`: the store's cost centre item (costcentres.py), on every row as
    CostCenterItemId1; absent, the field is not sent at all. (The published VoucherRowApi
    marks CostCenterItemId1 readOnly, unlike Id2/Id3 and PaymentVoucherRowApi's; an
    annotation JSON Schema does not enforce, and issue 18 asks for it on every row.)
    The rows of the accounts in `without_text` (AllowTransactionText false) go without
    their TransactionText, which Visma would refuse there; the voucher's own text stays.
    https://eaccountingapi.vismaonline.com/swagger/ui/index#!/Vouchers/Vouchers_Post"""
    rows = []
    for row in voucher.rows:
        item: dict[str, Any] = {
            "AccountNumber": row.account,
            "DebitAmount": row.debit,
            "CreditAmount": row.credit,
        }
        if row.account not in without_text:
            item["TransactionText"] = row.text[:60]
        if row.vat_code:
            item["VatCodeId"] = vat_code_ids.get(row.vat_code)
        if cost_center_item_id:
            item["CostCenterItemId1"] = cost_center_item_id
        rows.append(item)
    return {
        "VoucherDate": voucher.voucher_date.isoformat(),
        "VoucherText": voucher.text[:1000],
        "Rows": rows,
    }


def exact_json(payload: Any) -> Any:
    """`payload` as it went over the wire, for a stored copy: amounts stay Decimal with
    their own digits (4800.00, never the float 4800.0), dates become text."""
    return json.loads(dumps(payload), parse_float=Decimal)


# ---------------------------------------------------------------------------- drafts and
# reading back (issue 18, items 3 and 6: reconcile.py, drafts.py)


def get_voucher(token: str, fiscal_year_id: str, voucher_id: str) -> dict | None:
    """GET /vouchers/{fiscalyearId}/{voucherId}: one voucher, or None when Visma has none
    by that id in that fiscal year (404: deleted, or moved to another year)."""
    try:
        _status, body = _request(
            "GET", f"vouchers/{fiscal_year_id}/{voucher_id}", token, endpoint="voucher_detail"
        )
    except VismaError as exc:
        if exc.status == 404:
            return None
        raise
    _shape(_VoucherIn, body, "voucher")
    return body


def voucher_draft_body(voucher_payload: dict) -> dict:
    """Visma's VoucherDraftApi body of a VoucherApi body (`voucher_body`): the same date,
    text and rows; the row text is at most 50 characters there, and a draft has no
    Attachments (the schema allows no other field).
    https://eaccountingapi.vismaonline.com/swagger/ui/index#!/VoucherDrafts/VoucherDrafts_Post"""
    rows = []
    for row in voucher_payload["Rows"]:
        item = {key: value for key, value in row.items() if key in _DRAFT_ROW_FIELDS}
        if isinstance(item.get("TransactionText"), str):
            item["TransactionText"] = item["TransactionText"][:50]
        rows.append(item)
    return {
        "VoucherDate": voucher_payload["VoucherDate"],
        "VoucherText": voucher_payload["VoucherText"],
        "Rows": rows,
    }


_DRAFT_ROW_FIELDS = (
    "AccountNumber",
    "DebitAmount",
    "CreditAmount",
    "VatCodeId",
    "CostCenterItemId1",
    "CostCenterItemId2",
    "CostCenterItemId3",
    "TransactionText",
    "ProjectId",
)


def create_voucher_draft(token: str, payload: dict) -> dict:
    """POST /voucherdrafts?amountIncludesVat=false. Returns Visma's draft (Id, …).

    The amounts are as sent (amountIncludesVat=false: net amounts, the VAT on its own
    rows, as in our vouchers). Checked against Visma's VoucherDraftApi schema first
    (InvalidPayload, not sent); a 201 without the draft's Id is outcome_unknown."""
    from .voucher_schema import validate_voucher_draft_payload

    problems = validate_voucher_draft_payload(payload)
    if problems:
        raise InvalidPayload(None, "; ".join(problems), errors=[{"Message": p} for p in problems])
    _status, body = _request(
        "POST",
        "voucherdrafts",
        token,
        endpoint="voucherdrafts",
        params={"amountIncludesVat": "false"},
        payload=payload,
    )
    _shape(_VoucherIn, body, "created voucher draft", write=True)
    return body


def list_voucher_drafts(token: str, *, filter: str | None = None) -> list[dict]:
    """GET /voucherdrafts with an OData `$filter` (voucher_date_filter), every page."""
    params = {"$filter": filter} if filter else None
    drafts = []
    for item in _paginated(token, "voucherdrafts", endpoint="voucherdrafts", params=params):
        _shape(_VoucherIn, item, "voucher draft")
        drafts.append(item)
    return drafts


def get_voucher_draft(token: str, draft_id: str) -> dict | None:
    """GET /voucherdrafts/{voucherDraftId}, or None (404: converted or deleted)."""
    try:
        _status, body = _request(
            "GET", f"voucherdrafts/{draft_id}", token, endpoint="voucherdraft_detail"
        )
    except VismaError as exc:
        if exc.status == 404:
            return None
        raise
    _shape(_VoucherIn, body, "voucher draft")
    return body
