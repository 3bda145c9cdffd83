"""Dagsoppgjør > Kalender (issue 18, item 4): the month, one register's day, and marking a
register closed (admins). Every query goes through request.org: another organisation's
register is simply not found (404)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from backoffice.models import Register
from backoffice.tenancy import OrgRequest, admin_required, member_required

from .calendar_forms import CloseRegisterForm
from .missing import (
    EXPECTED_RULE,
    close_register,
    day_text,
    missing_between,
    recent_warnings,
    reopen_register,
)
from .models import RegisterClosure, Settlement
from .month import KINDS, LETTERS, month_of, parse_month
from .transfer import provider


def _calendar_url(day: date) -> str:
    return reverse("settlements:calendar") + f"?month={day:%Y-%m}"


@member_required
@require_GET
def calendar_page(request: OrgRequest) -> HttpResponse:
    today = timezone.localdate()
    wanted = request.GET.get("month", "")
    first = parse_month(wanted, today=today)
    if first is None:
        messages.warning(
            request,
            _("«%(value)s» er ikke en måned (år og måned, som %(example)s); viser denne måneden.")
            % {"value": wanted[:20], "example": f"{today:%Y-%m}"},
        )
        first = today.replace(day=1)
    month = month_of(organization=request.org, first=first, today=today)
    closures = (
        RegisterClosure.objects.filter(register__location__organization=request.org)
        .filter(Q(day__isnull=True) | Q(day__gte=month.first, day__lte=month.last))
        .select_related("register__location")
        .order_by("register__location__name", "register__code", "day")
    )
    return render(
        request,
        "settlements/calendar.html",
        {
            "month": month,
            "warnings": recent_warnings(organization=request.org, today=today),
            "kinds": KINDS,
            "letters": LETTERS,
            "rule": EXPECTED_RULE,
            "closures": closures,
            "is_admin": request.membership.is_admin,
            "this_month": today.replace(day=1),
        },
    )


def _register(request: OrgRequest, register_id: int) -> Register:
    return get_object_or_404(
        Register.objects.select_related("location"),
        pk=register_id,
        location__organization=request.org,
    )


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Http404("not a date") from None


@member_required
@require_GET
def register_day(request: OrgRequest, register_id: int, day: str) -> HttpResponse:
    register = _register(request, register_id)
    on = _day(day)
    settlements = list(
        provider().with_transfer(
            Settlement.objects.filter(
                organization=request.org,
                location=register.location,
                register_id=register.code,
                business_date=on,
            ).order_by("z_number")
        )
    )
    closures = {c.day: c for c in RegisterClosure.objects.filter(register=register)}
    missing = bool(
        missing_between(
            organization=request.org,
            start=on,
            end=on,
            registers={(register.location_id, register.code): register},
        )
    )
    return render(
        request,
        "settlements/register_day.html",
        {
            "register": register,
            "day": on,
            "day_text": day_text(on),
            "settlements": settlements,
            "day_closure": closures.get(on),
            "for_good": closures.get(None),
            "missing": missing,
            "is_past": on < timezone.localdate(),
            "rule": EXPECTED_RULE,
            "letters": LETTERS,
            "is_admin": request.membership.is_admin,
            "calendar_url": _calendar_url(on),
            "here": request.get_full_path(),
        },
    )


def _next(request: OrgRequest, fallback: str) -> str:
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return fallback


@require_POST
@admin_required
def close(request: OrgRequest, register_id: int) -> HttpResponse:
    """Stengt denne dagen / Stengt for godt: the register stops warning."""
    register = _register(request, register_id)
    form = CloseRegisterForm(request.POST)
    today = timezone.localdate()
    if not form.is_valid():
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(
            request,
            _("%(register)s ble ikke merket stengt: %(problems)s")
            % {"register": register.code, "problems": problems},
        )
        return redirect(_next(request, _calendar_url(today)))
    day = form.closed_day
    _closure, created = close_register(
        register=register, day=day, user=request.user, note=form.cleaned_data["note"]
    )
    names = {"register": register.code, "store": register.location.name}
    if day is None:
        text = _("%(register)s i %(store)s er merket stengt for godt og varsles ikke mer.")
    else:
        names["day"] = day_text(day)
        text = _("%(register)s i %(store)s er merket stengt %(day)s.")
    if created:
        messages.success(request, text % names)
    else:
        messages.info(request, _("Det var allerede merket: ") + text % names)
    return redirect(_next(request, _calendar_url(day or today)))


@require_POST
@admin_required
def reopen(request: OrgRequest, closure_id: int) -> HttpResponse:
    """Angre: the register is expected again by the rule."""
    closure = get_object_or_404(
        RegisterClosure.objects.select_related("register__location"),
        pk=closure_id,
        register__location__organization=request.org,
    )
    names = {"register": closure.register.code, "store": closure.register.location.name}
    if closure.day is None:
        text = _("%(register)s i %(store)s er ikke lenger merket stengt for godt.")
    else:
        names["day"] = day_text(closure.day)
        text = _("%(register)s i %(store)s er ikke lenger merket stengt %(day)s.")
    reopen_register(closure=closure)
    messages.success(request, text % names)
    return redirect(_next(request, _calendar_url(closure.day or timezone.localdate())))
