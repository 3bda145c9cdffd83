"""The admin's two choices on a settlement with avvik (reconcile.py): "Send på nytt som
nytt bilag" and "Godta Vismas versjon". POST only, admins only, CSRF-checked."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backoffice.tenancy import OrgRequest, admin_required
from settlements.models import Settlement

from . import reconcile, tasks


def _settlement(request: OrgRequest, pk: int) -> Settlement:
    return get_object_or_404(
        Settlement.objects.select_related("organization"), pk=pk, organization=request.org
    )


@require_POST
@admin_required
def send_again(request: OrgRequest, pk: int) -> HttpResponse:
    settlement = _settlement(request, pk)
    back = reverse("settlements:detail", args=[settlement.pk])
    try:
        reconcile.send_again(settlement, user=request.user)
    except reconcile.Refused as exc:
        messages.add_message(request, exc.level, str(exc))
        return redirect(back)
    run = tasks.enqueue_settlement(settlement, user=request.user)
    messages.success(request, _("Oppgjøret sendes på nytt som nytt bilag."))
    return redirect(f"{back}?run={run.pk}")


@require_POST
@admin_required
def accept_visma(request: OrgRequest, pk: int) -> HttpResponse:
    settlement = _settlement(request, pk)
    try:
        text = reconcile.accept(settlement, user=request.user)
    except reconcile.Refused as exc:
        messages.add_message(request, exc.level, str(exc))
    else:
        messages.success(request, text)
    return redirect("settlements:detail", settlement.pk)
