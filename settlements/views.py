"""The Dagsoppgjør pages. Every query goes through request.org: another organisation's
settlement is simply not found (404)."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from accounting.preview import voucher_preview
from backoffice.tenancy import OrgRequest, member_required

from .forms import SettlementFilterForm
from .models import Settlement
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
            Settlement.objects.filter(organization=request.org).select_related("location")
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
        .prefetch_related("sales", "payments", "cash_movements", "revisions"),
        pk=pk,
        organization=request.org,
    )
    return render(
        request,
        "settlements/detail.html",
        {
            "settlement": settlement,
            "report": zreport(settlement.as_data()),
            "preview": voucher_preview(settlement=settlement),
        },
    )


@require_safe
@member_required
def settlement_pdf(request, pk: int):
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
