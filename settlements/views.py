"""The Dagsoppgjør pages. Every query goes through request.org: another organisation's
settlement is simply not found (404)."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounting.preview import voucher_preview
from backoffice.tenancy import OrgRequest, admin_required, member_required

from . import services
from .forms import CorrectionForm, SettlementFilterForm
from .limits import SettlementRefused
from .models import Settlement
from .parsing import SettlementInvalid
from .report import zreport
from .services import zreport_pdf
from .transfer import provider

PAGE_SIZE = 50


@member_required
def settlement_list(request: OrgRequest) -> HttpResponse:
    form = SettlementFilterForm(request.GET or None, organization=request.org)
    settlements = form.filter(
        # with_transfer: each row's transfer state (and voucher number) in the same query.
        provider().with_transfer(
            # Each Z-report once: a version a correction replaced is shown on the page of
            # its correction (and its own), not as a second row.
            Settlement.objects.filter(organization=request.org).current().select_related("location")
        )
    )
    page = Paginator(settlements, PAGE_SIZE).get_page(request.GET.get("page"))
    # The filters again in the page links, without the page number itself.
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "settlements/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@member_required
def settlement_detail(request: OrgRequest, pk: int) -> HttpResponse:
    settlement = get_object_or_404(
        provider()
        .with_transfer(Settlement.objects.select_related("location"))
        .select_related("corrects")
        .prefetch_related("sales", "payments", "cash_movements", "revisions"),
        pk=pk,
        organization=request.org,
    )
    superseded_by = Settlement.objects.filter(corrects=settlement).first()
    return render(
        request,
        "settlements/detail.html",
        {
            "settlement": settlement,
            "superseded_by": superseded_by,
            "correction_form": (
                CorrectionForm() if request.membership.is_admin and superseded_by is None else None
            ),
            "report": zreport(settlement.as_data()),
            "preview": voucher_preview(settlement=settlement),
        },
    )


@require_safe
@member_required
def settlement_pdf(request: OrgRequest, pk: int) -> HttpResponse:
    """The settlement's Z-report as the one-page PDF that goes to Visma with its voucher."""
    settlement = get_object_or_404(
        Settlement.objects.select_related("location", "organization").prefetch_related(
            "sales", "payments", "cash_movements"
        ),
        pk=pk,
        organization=request.org,
    )
    filename, pdf = zreport_pdf(settlement=settlement)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# At most this many of a refused file's errors in the message (the rest: fix and try again).
ERRORS_SHOWN = 5


@require_POST
@admin_required
def correct_settlement(request: OrgRequest, pk: int) -> HttpResponse:
    """ "Korriger": the admin uploads the corrected settlement (the till's JSON). Validated as
    the API validates it; stored as a correction (services.correct_settlement), so a
    settlement already in Visma is reversed there and the corrected one posted."""
    settlement = get_object_or_404(
        Settlement.objects.select_related("location"), pk=pk, organization=request.org
    )
    back = redirect("settlements:detail", pk=settlement.pk)
    form = CorrectionForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Velg filen med det rettede oppgjøret (JSON)."))
        return back
    upload = form.cleaned_data["file"]
    try:
        # Never more than the API takes: a larger file is refused before it is read.
        raw = upload.read(settings.SETTLEMENT_MAX_BODY_BYTES + 1)
        result = services.correct_settlement(settlement=settlement, raw=raw, user=request.user)
    except SettlementInvalid as exc:
        errors = [
            f"{error['path']}: {error['message']}" if error["path"] else error["message"]
            for error in exc.errors[:ERRORS_SHOWN]
        ]
        messages.error(
            request,
            _("Korrigeringen ble ikke lagret: %(errors)s") % {"errors": " · ".join(errors)},
        )
        return back
    except SettlementRefused as exc:
        messages.error(
            request, _("Korrigeringen ble ikke lagret: %(error)s") % {"error": exc.message}
        )
        return back
    if result.outcome == "unchanged":
        messages.info(
            request, _("Filen har det samme innholdet som oppgjøret; ingenting er endret.")
        )
        return back
    if result.outcome == "corrected":
        messages.success(
            request, _("Oppgjøret er rettet (den gamle versjonen gikk ikke i balanse).")
        )
        return back
    messages.success(
        request,
        _(
            "Korrigeringen er lagret som versjon %(version)s. Neste overføring motposterer "
            "bilaget til versjon %(previous)s og overfører denne."
        )
        % {"version": result.settlement.version, "previous": result.settlement.version - 1},
    )
    return redirect("settlements:detail", pk=result.settlement.pk)
