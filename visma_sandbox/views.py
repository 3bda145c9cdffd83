"""The simulator's own page (/visma-sandbox/): what arrived, and the fault switches.

Test equipment: no login. It is only mounted when VISMA_SANDBOX is on, which the settings
refuse with DEBUG off unless VISMA_SANDBOX_FORCE is set for a staging demo.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from . import conf, services, vouchers
from .models import (
    AccessToken,
    FaultSwitch,
    RefreshToken,
    SandboxAttachment,
    SandboxClient,
    SandboxCompany,
    SandboxVoucher,
    SandboxVoucherDraft,
)

VOUCHERS_SHOWN = 100


def _company_facts(company: SandboxCompany) -> dict:
    now = timezone.now()
    # The chart shown is the current year's (each fiscal year has its own).
    year = vouchers.current_fiscal_year(company, timezone.localdate())
    chart = year.accounts.all() if year else company.accounts.none()
    return {
        "company": company,
        "fiscal_years": list(company.fiscal_years.all()),
        "chart_year": year,
        "inactive": list(chart.filter(is_active=False)),
        "blocked": list(chart.filter(blocked_for_manual_booking=True)),
        "account_count": chart.count(),
        "voucher_count": company.vouchers.count(),
        "live_access_tokens": AccessToken.objects.filter(
            company=company, revoked_at__isnull=True, expires_at__gt=now
        ).count(),
        "live_refresh_tokens": RefreshToken.objects.filter(
            company=company, revoked_at__isnull=True, used_at__isnull=True
        ).count(),
        "switch": services.fault_switch(company),
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not SandboxCompany.objects.exists():
        services.setup_demo()
    wanted = request.GET.get("company", "")
    vouchers = SandboxVoucher.objects.select_related("company", "client").prefetch_related(
        "rows__vat_code", "attachments"
    )
    unmatched = SandboxAttachment.objects.filter(voucher__isnull=True).select_related("company")
    drafts = SandboxVoucherDraft.objects.select_related("company").prefetch_related(
        "rows__vat_code"
    )
    if wanted:
        vouchers = vouchers.filter(company__org_number=wanted)
        unmatched = unmatched.filter(company__org_number=wanted)
        drafts = drafts.filter(company__org_number=wanted)
    context = {
        "companies": [_company_facts(company) for company in SandboxCompany.objects.all()],
        "global_switch": services.fault_switch(None),
        "lose_modes": FaultSwitch.LoseMode.choices,
        "quota": services.quota_per_minute(),
        "quota_default": conf.quota_per_minute_default(),
        "token_seconds": conf.access_token_seconds(),
        "clients": SandboxClient.objects.order_by("client_id"),
        "vouchers": vouchers[:VOUCHERS_SHOWN],
        "voucher_total": vouchers.count(),
        "unmatched": unmatched.defer("data")[:VOUCHERS_SHOWN],
        "drafts": drafts[:VOUCHERS_SHOWN],
        "shown": VOUCHERS_SHOWN,
        "wanted": wanted,
        "identity_url": request.build_absolute_uri(reverse("visma_sandbox:identity_root")).rstrip(
            "/"
        ),
        "api_url": request.build_absolute_uri(reverse("visma_sandbox:api_root")).rstrip("/"),
    }
    return render(request, "visma_sandbox/home.html", context)


def _count(request: HttpRequest, name: str) -> int | None:
    raw = request.POST.get(name, "").strip()
    if raw == "":
        return None
    value = int(raw)
    if value < 0:
        raise ValueError(name)
    return value


@require_POST
def control(request: HttpRequest) -> HttpResponse:
    """One endpoint for every button of the page (action=…)."""
    action = request.POST.get("action", "")
    scope = request.POST.get("company") or None
    company = SandboxCompany.objects.filter(org_number=scope).first() if scope else None
    where = company.name if company else "all companies"
    try:
        if action == "faults":
            services.set_fault(
                company=company,
                lose_after_store=_count(request, "lose_after_store"),
                lose_mode=request.POST.get("lose_mode") or None,
                fail_5xx=_count(request, "fail_5xx"),
                fail_429=_count(request, "fail_429"),
                retry_after_seconds=_count(request, "retry_after_seconds"),
                latency_ms=_count(request, "latency_ms"),
                fail_attachment_upload=_count(request, "fail_attachment_upload"),
                lose_attachment_after_store=_count(request, "lose_attachment_after_store"),
            )
            messages.success(request, f"Fault switches set for {where}.")
        elif action == "expire_tokens":
            count = services.expire_access_tokens(company=company)
            messages.success(request, f"{count} access token(s) of {where} expired.")
        elif action == "revoke_refresh":
            count = services.revoke_refresh_tokens(company=company)
            messages.success(request, f"{count} refresh token(s) of {where} revoked.")
        elif action == "clear_faults":
            services.clear_faults()
            messages.success(request, "Every fault switch is off.")
        elif action == "quota":
            per_minute = _count(request, "quota_per_minute")
            services.set_quota(per_minute or None)
            messages.success(request, f"Quota: {services.quota_per_minute()} per minute.")
        elif action in ("delete_voucher", "approve_draft", "delete_draft"):
            messages.success(request, _as_visma_user(action, request.POST.get("id", "")))
        elif action == "reset":
            services.reset_sandbox()
            messages.success(request, "The simulator is reset: no vouchers, no tokens, no faults.")
        else:
            messages.error(request, f"Unknown action {action!r}.")
    except LookupError:
        messages.error(request, "No such voucher or draft (already deleted or approved?).")
    except vouchers.VismaError as error:
        messages.error(request, f"Visma refused it: {error.message} (ErrorCode {error.code}).")
    except ValueError:
        messages.error(request, "Counts must be whole numbers, 0 or more.")
    return HttpResponseRedirect(reverse("visma_sandbox:home"))


@require_GET
def attachment_file(request: HttpRequest, attachment_id) -> HttpResponse:
    """An uploaded attachment's file, as its TemporaryUrl gives it."""
    attachment = get_object_or_404(SandboxAttachment, uuid=attachment_id)
    response = HttpResponse(bytes(attachment.data), content_type=attachment.content_type)
    response["Content-Disposition"] = f'inline; filename="{attachment.file_name}"'
    return response


def _as_visma_user(action: str, object_id: str) -> str:
    """What a Visma user does in eAccounting's screens: delete a voucher, approve (book)
    or delete a draft. Raises LookupError for an id that names nothing."""
    try:
        if action == "delete_voucher":
            voucher = SandboxVoucher.objects.get(uuid=object_id)
            services.delete_voucher(voucher)
            return f"Voucher {voucher} deleted, as a Visma user would."
        draft = SandboxVoucherDraft.objects.get(uuid=object_id)
    except (SandboxVoucher.DoesNotExist, SandboxVoucherDraft.DoesNotExist, ValidationError):
        raise LookupError(object_id) from None
    if action == "approve_draft":
        voucher = services.approve_draft(draft)
        return f"Draft approved: voucher {voucher}."
    services.delete_draft(draft)
    return "Draft deleted."
