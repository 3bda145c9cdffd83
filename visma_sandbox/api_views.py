"""The simulated API v2 (VISMA_API_URL = http://HOST/visma-sandbox/api/v2).

Every request goes through `api_endpoint`: fault latency, bearer token (401), the shared
quota (429, 4010), the fault switches (429 / 500), the scopes (403, 4006); the view then
answers for the token's company only.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from functools import wraps
from typing import cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import attachments, drafts, oauth, runtime, vouchers
from .models import (
    AccessToken,
    FaultSwitch,
    SandboxAttachment,
    SandboxVoucher,
    SandboxVoucherDraft,
)
from .odata import ODataError, paginate
from .vouchers import VismaError

SALES_READ = ("ea:sales", "ea:sales_readonly")
ACCOUNTING_READ = ("ea:accounting", "ea:accounting_readonly")
ACCOUNTING_WRITE = ("ea:accounting",)
# GET/POST /attachments and POST /attachmentlinks (the swagger's "Requires any of").
ATTACHMENTS_READ = (
    "ea:purchase",
    "ea:purchase_readonly",
    "ea:accounting",
    "ea:accounting_readonly",
)
ATTACHMENTS_WRITE = ("ea:purchase", "ea:accounting")


class SandboxRequest(HttpRequest):
    """A request `api_endpoint` let through, with the fault switches it read (for type
    checking only: the decorator sets the attribute on Django's request)."""

    sandbox_switches: list[FaultSwitch]


def visma_error(error: VismaError, headers: dict | None = None) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status, headers=headers)


def unauthorized() -> JsonResponse:
    # Visma's answer to a missing, expired or revoked bearer token: its own error form,
    # ErrorCode 4005 (not authorised).
    error = VismaError(
        vouchers.NOT_AUTHORISED,
        "AuthorizationException - The access token is missing, expired or revoked.",
        status=401,
    )
    return visma_error(error, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def too_many_requests(limit: int | None, seconds: int) -> JsonResponse:
    quota = f"maximum admitted {limit} per Minute. " if limit else ""
    error = VismaError(
        vouchers.TOO_MANY_REQUESTS,
        f"API calls quota exceeded! {quota}Try again in {seconds} seconds.",
        status=429,
    )
    return visma_error(error, headers={"Retry-After": str(seconds)})


def _endpoint(request: HttpRequest) -> str:
    """The quota counts per client and endpoint: the route's name ("vouchers" for GET and
    POST /vouchers alike, "voucher_detail" for every /vouchers/{fy}/{id})."""
    match = request.resolver_match
    assert match is not None and match.url_name  # resolved, and every API route is named
    return match.url_name


def api_endpoint(scopes: dict[str, tuple[str, ...]]):
    """`scopes`: per HTTP method, the scopes of which the token needs one (and ea:api)."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in scopes:
                return JsonResponse(
                    {
                        "Message": f"The requested resource does not support http method '{request.method}'."
                    },
                    status=405,
                    headers={"Allow": ", ".join(scopes)},
                )
            token = oauth.access_token_from(request)
            switches = runtime.switches_for(token.company if token else None)
            latency = runtime.latency_seconds(switches)
            if latency:
                time.sleep(latency)
            if token is None:
                return unauthorized()
            over = runtime.consume_quota(
                client_id=token.client.client_id, endpoint=_endpoint(request)
            )
            if over:
                return too_many_requests(*over)
            tripped = runtime.take(switches, "fail_429")
            if tripped:
                return too_many_requests(None, tripped.retry_after_seconds)
            if runtime.take(switches, "fail_5xx"):
                return visma_error(
                    VismaError(
                        vouchers.SERVER_ERROR,
                        "An unexpected error occurred (sandbox fault switch).",
                        status=500,
                    )
                )
            granted = set(token.scope.split())
            needed = scopes[request.method]
            if "ea:api" not in granted or not granted.intersection(needed):
                missing = " or ".join(needed)
                return visma_error(
                    VismaError(
                        vouchers.MISSING_SCOPE,
                        f"The access token lacks a scope this endpoint requires: ea:api and {missing}.",
                        status=403,
                    )
                )
            denied = runtime.access_error(switches, write=request.method != "GET")
            if denied:
                message = vouchers.ACCESS_ERRORS.get(denied, "Forbidden")
                return visma_error(VismaError(denied, message, status=403))
            cast(SandboxRequest, request).sandbox_switches = switches
            try:
                return view(request, token, *args, **kwargs)
            except VismaError as error:
                return visma_error(error)
            except ODataError as error:
                return visma_error(VismaError(vouchers.VALIDATION, str(error)))

        return wrapper

    return decorator


def _today():
    return timezone.localdate()


@api_endpoint({"GET": SALES_READ})
def company_settings(request: HttpRequest, token: AccessToken) -> JsonResponse:
    return JsonResponse(vouchers.serialize_company_settings(token.company))


def _chart(request: HttpRequest, year) -> JsonResponse:
    items = [
        vouchers.serialize_account(account, year)
        for account in year.accounts.select_related("vat_code")
    ]
    return JsonResponse(paginate(items, request.GET, type_name="AccountApi"))


@api_endpoint({"GET": ACCOUNTING_READ})
def accounts(request: HttpRequest, token: AccessToken) -> JsonResponse:
    """GET /accounts: the chart of the current fiscal year (Visma keeps one per year)."""
    year = vouchers.current_fiscal_year(token.company, _today())
    if year is None:
        return JsonResponse(paginate([], request.GET, type_name="AccountApi"))
    return _chart(request, year)


@api_endpoint({"GET": ACCOUNTING_READ})
def accounts_of_year(request: HttpRequest, token: AccessToken, fiscal_year_id) -> JsonResponse:
    """GET /accounts/{fiscalyearId}: the chart of that fiscal year."""
    year = token.company.fiscal_years.filter(uuid=fiscal_year_id).first()
    if year is None:
        raise VismaError(
            vouchers.FISCAL_YEAR_MISSING,
            f"FiscalYearDoesNotExist: there is no fiscal year {fiscal_year_id}.",
            errors=[("fiscalyearId", "No fiscal year")],
        )
    return _chart(request, year)


@api_endpoint({"GET": ACCOUNTING_READ})
def vat_codes(request: HttpRequest, token: AccessToken) -> JsonResponse:
    company = token.company
    items = [vouchers.serialize_vat_code(vat, company) for vat in company.vat_codes.all()]
    return JsonResponse(paginate(items, request.GET, type_name="VatCodeApi"))


@api_endpoint({"GET": SALES_READ + ACCOUNTING_READ})
def fiscal_years(request: HttpRequest, token: AccessToken) -> JsonResponse:
    items = [vouchers.serialize_fiscal_year(year) for year in token.company.fiscal_years.all()]
    return JsonResponse(paginate(items, request.GET, type_name="FiscalYearApi"))


@api_endpoint({"GET": SALES_READ + ACCOUNTING_READ})
def cost_centers(request: HttpRequest, token: AccessToken) -> JsonResponse:
    """GET /costcenters: the company's cost centres with their items (none for a company
    that does not use them)."""
    items = [
        vouchers.serialize_cost_center(centre)
        for centre in token.company.cost_centers.prefetch_related("items")
    ]
    return JsonResponse(paginate(items, request.GET, type_name="CostCenterApi"))


@api_endpoint({"GET": ACCOUNTING_READ, "POST": ACCOUNTING_WRITE})
def voucher_list(request: SandboxRequest, token: AccessToken) -> HttpResponse:
    if request.method == "POST":
        return _post_voucher(request, token)
    stored = (
        SandboxVoucher.objects.filter(company=token.company)
        .order_by("voucher_date", "series", "number")
        .prefetch_related("rows__vat_code", "rows__cost_center_item1")
    )
    items = [vouchers.serialize_voucher(voucher) for voucher in stored]
    return JsonResponse(paginate(items, request.GET, type_name="VoucherApi"))


def _unsupported_media(request: HttpRequest) -> JsonResponse | None:
    content_type = request.content_type or ""
    if content_type not in ("application/json", "text/json"):
        return JsonResponse(
            {"Message": f"The request entity's media type '{content_type}' is not supported."},
            status=415,
        )
    return None


def _json_body(request: HttpRequest) -> object:
    try:
        return json.loads(request.body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise VismaError(
            vouchers.VALIDATION, f"The request body is not valid JSON: {error}"
        ) from None


def _post_voucher(request: SandboxRequest, token: AccessToken) -> HttpResponse:
    refused = _unsupported_media(request)
    if refused:
        return refused
    payload = _json_body(request)
    voucher = vouchers.create_voucher(
        company=token.company, client=token.client, payload=payload, query=request.GET
    )
    lost = runtime.take(request.sandbox_switches, "lose_after_store")
    if lost:
        return runtime.lost_response(request, lost.lose_mode)
    body = vouchers.serialize_voucher(voucher)
    return JsonResponse(body, status=201)


@api_endpoint({"GET": ACCOUNTING_READ})
def voucher_detail(request: HttpRequest, token: AccessToken, fiscal_year_id, voucher_id):
    """GET /vouchers/{fiscalyearId}/{voucherId}."""
    voucher = (
        SandboxVoucher.objects.filter(company=token.company, uuid=voucher_id)
        .prefetch_related("rows__vat_code")
        .first()
    )
    year = token.company.fiscal_years.filter(uuid=fiscal_year_id).first()
    if (
        voucher is None
        or year is None
        or not (year.start_date <= voucher.voucher_date <= year.end_date)
    ):
        return JsonResponse({"Message": "The voucher was not found."}, status=404)
    return JsonResponse(vouchers.serialize_voucher(voucher))


def _flag(request: HttpRequest, name: str) -> bool:
    return vouchers._flag(request.GET, name, True)


@api_endpoint({"GET": ATTACHMENTS_READ, "POST": ATTACHMENTS_WRITE})
def attachment_list(request: SandboxRequest, token: AccessToken) -> HttpResponse:
    """GET /attachments (includeMatched, includeTemporaryUrl: default true) and POST
    /attachments (AttachmentUploadApi)."""
    if request.method == "POST":
        return _post_attachment(request, token)
    stored = SandboxAttachment.objects.filter(company=token.company).select_related(
        "voucher", "client"
    )
    if not _flag(request, "includeMatched"):
        stored = stored.filter(voucher__isnull=True)
    with_url = _flag(request, "includeTemporaryUrl")
    items = [
        attachments.serialize_attachment(a, request=request, with_url=with_url) for a in stored
    ]
    return JsonResponse(paginate(items, request.GET, type_name="Attachment"))


def _post_attachment(request: SandboxRequest, token: AccessToken) -> HttpResponse:
    refused = _unsupported_media(request)
    if refused:
        return refused
    if runtime.take(request.sandbox_switches, "fail_attachment_upload"):
        return visma_error(
            VismaError(
                vouchers.SERVER_ERROR,
                "An unexpected error occurred while storing the attachment (sandbox fault switch).",
                status=500,
            )
        )
    attachment = attachments.create_attachment(
        company=token.company, client=token.client, payload=_json_body(request)
    )
    lost = runtime.take(request.sandbox_switches, "lose_attachment_after_store")
    if lost:
        return runtime.lost_response(request, lost.lose_mode)
    return JsonResponse(attachments.serialize_attachment(attachment, request=request), status=201)


@api_endpoint({"GET": ATTACHMENTS_READ})
def attachment_detail(request: HttpRequest, token: AccessToken, attachment_id) -> JsonResponse:
    """GET /attachments/{attachmentId}."""
    attachment = (
        SandboxAttachment.objects.filter(company=token.company, uuid=attachment_id)
        .select_related("voucher", "client")
        .first()
    )
    if attachment is None:
        return JsonResponse({"Message": "The attachment was not found."}, status=404)
    with_url = _flag(request, "includeTemporaryUrl")
    return JsonResponse(
        attachments.serialize_attachment(attachment, request=request, with_url=with_url)
    )


@api_endpoint({"POST": ATTACHMENTS_WRITE})
def attachment_links(request: HttpRequest, token: AccessToken) -> JsonResponse:
    """POST /attachmentlinks (AttachmentLinkApi); 200 with the links."""
    refused = _unsupported_media(request)
    if refused:
        return refused
    return JsonResponse(
        attachments.link_attachments(company=token.company, payload=_json_body(request))
    )


# --- voucher drafts (VoucherDraftApi): visma_sandbox/drafts.py ------------------------------


@api_endpoint({"GET": ACCOUNTING_READ, "POST": ACCOUNTING_WRITE})
def voucher_drafts(request: SandboxRequest, token: AccessToken) -> HttpResponse:
    """GET /voucherdrafts (paginated, $filter) and POST /voucherdrafts."""
    if request.method == "POST":
        refused = _unsupported_media(request)
        if refused is not None:
            return refused
        draft = drafts.create_draft(
            company=token.company,
            client=token.client,
            payload=_json_body(request),
            query=request.GET,
        )
        lost = runtime.take(request.sandbox_switches, "lose_after_store")
        if lost:
            return runtime.lost_response(request, lost.lose_mode)
        return JsonResponse(drafts.serialize_draft(draft), status=201)
    stored = (
        SandboxVoucherDraft.objects.filter(company=token.company)
        .order_by("voucher_date", "created_utc", "pk")
        .prefetch_related("rows__vat_code")
    )
    items = [drafts.serialize_draft(draft) for draft in stored]
    return JsonResponse(paginate(items, request.GET, type_name="VoucherDraftApi"))


def _draft_or_none(token: AccessToken, draft_id) -> SandboxVoucherDraft | None:
    return (
        SandboxVoucherDraft.objects.filter(company=token.company, uuid=draft_id)
        .prefetch_related("rows__vat_code")
        .first()
    )


def _draft_not_found() -> JsonResponse:
    return JsonResponse({"Message": "The voucher draft was not found."}, status=404)


@api_endpoint({"GET": ACCOUNTING_READ, "PUT": ACCOUNTING_WRITE, "DELETE": ACCOUNTING_WRITE})
def voucher_draft_detail(request: HttpRequest, token: AccessToken, draft_id) -> HttpResponse:
    """GET, PUT and DELETE /voucherdrafts/{voucherDraftId}."""
    draft = _draft_or_none(token, draft_id)
    if draft is None:
        return _draft_not_found()
    if request.method == "DELETE":
        draft.delete()
        return HttpResponse(status=200)
    if request.method == "PUT":
        refused = _unsupported_media(request)
        if refused is not None:
            return refused
        replaced = _draft_or_none(
            token, drafts.replace_draft(draft, _json_body(request), request.GET).uuid
        )
        assert replaced is not None  # replaced just now, in this company
        draft = replaced
    return JsonResponse(drafts.serialize_draft(draft))


@api_endpoint({"POST": ACCOUNTING_WRITE})
def voucher_draft_convert(request: HttpRequest, token: AccessToken, draft_id) -> JsonResponse:
    """POST /voucherdrafts/{voucherDraftId}/convert: 201 with the voucher (VoucherApi)."""
    draft = _draft_or_none(token, draft_id)
    if draft is None:
        return _draft_not_found()
    voucher = drafts.convert_draft(draft)
    voucher = SandboxVoucher.objects.prefetch_related("rows__vat_code").get(pk=voucher.pk)
    return JsonResponse(vouchers.serialize_voucher(voucher), status=201)


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return JsonResponse(
        {"Message": f"No HTTP resource was found that matches the request URI '{request.path}'."},
        status=404,
    )
