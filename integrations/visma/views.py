"""Oppsett > Integrasjoner > Visma eAccounting: the settings, the connection, the connect
flow (../shared/DESIGN.md 3, 4.5).

The OAuth `state` is single-use and bound to this browser session and to the organisation
that started the flow: the session keeps {state: {org_id, code_verifier, redirect_uri,
created}} and the callback pops it before looking at anything else.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backoffice.ids import parse_id
from backoffice.tenancy import OrgRequest, admin_required, member_required
from settlements.models import Settlement

from . import catalog, client, costcentres, oauth, services, tasks, tokens
from .forms import TransferSettingsForm
from .models import (
    ConnectionEvent,
    ExportRun,
    SettlementExport,
    TransferSettings,
    VismaConnection,
    VismaFiscalYear,
    VismaVatCode,
)
from .schedule import next_run_after
from .selectors import active_run, run_json, run_label, transfer_refusal

SESSION_KEY = "visma_oauth_pending"
STATE_MAX_AGE_SECONDS = 15 * 60
MAX_PENDING = 5


def redirect_uri_for(request: HttpRequest) -> str:
    return settings.VISMA_REDIRECT_URI or request.build_absolute_uri(reverse("visma:callback"))


def not_configured_message(request: HttpRequest) -> str:
    return _(
        "Visma eAccounting er ikke satt opp på denne serveren ennå. Driftsansvarlig må "
        "registrere integrasjonen hos Visma med omdirigeringsadressen %(redirect_uri)s og "
        "sette miljøvariablene VISMA_CLIENT_ID og VISMA_CLIENT_SECRET, og så starte "
        "Backoffice på nytt."
    ) % {"redirect_uri": redirect_uri_for(request)}


# ---------------------------------------------------------------------------- the page


SUMMARY_LABELS = {
    "posted": gettext_lazy("overført"),
    "already_posted": gettext_lazy("var allerede overført"),
    "draft": gettext_lazy("lagt som kladd i Visma"),
    "needs_action": gettext_lazy("trenger handling"),
    "failed": gettext_lazy("feilet"),
    "waiting": gettext_lazy("venter"),
}


OPTIONAL_LINES = {"draft"}


def summary_lines(summary: dict) -> list[str]:
    """The last run's summary (written by the transfer) as short lines for the page."""
    if not isinstance(summary, dict):
        return []
    lines = [
        f"{summary[key]} {label}"
        for key, label in SUMMARY_LABELS.items()
        # Drafts only where there were some: most never use draft mode.
        if isinstance(summary.get(key), int) and (key not in OPTIONAL_LINES or summary[key])
    ]
    if summary.get("message"):
        lines.append(str(summary["message"]))
    if summary.get("reconcile_message"):
        lines.append(str(summary["reconcile_message"]))
    return lines


def _needs_action(summary: dict) -> bool:
    if not isinstance(summary, dict):
        return False
    count = summary.get("needs_action")
    return isinstance(count, int) and count > 0


@member_required
@require_http_methods(["GET", "HEAD", "POST"])
def integration(request: OrgRequest) -> HttpResponse:
    editable = request.membership.is_admin
    if request.method == "POST" and not editable:
        raise PermissionDenied(_("Bare administratorer kan endre Visma-innstillingene."))
    org = request.org
    transfer = TransferSettings.for_organization(org)
    if request.method == "POST":
        form = TransferSettingsForm(request.POST, instance=transfer)
        if form.is_valid():
            services.save_transfer_settings(form.save(commit=False), user=request.user)
            messages.success(request, _("Innstillingene for overføring er lagret."))
            return redirect("visma:integration")
    else:
        form = TransferSettingsForm(instance=transfer, editable=editable)

    connection = (
        VismaConnection.objects.filter(organization=org).select_related("connected_by").first()
    )
    status = connection.status if connection else VismaConnection.Status.NOT_CONNECTED
    chart = None
    if connection and connection.company_refreshed_at:
        chart = {
            "accounts": sum(1 for a in catalog.current_chart(org).values() if a.active),
            "vat_codes": VismaVatCode.objects.filter(organization=org).count(),
            "fiscal_years": VismaFiscalYear.objects.filter(organization=org),
            "refreshed_at": connection.company_refreshed_at,
            "locked_to": connection.accounting_locked_to,
        }
    running = active_run(org)
    # Shown from the saved settings (not the form being edited).
    saved = TransferSettings.objects.get(pk=transfer.pk)
    context = {
        "form": form,
        "editable": editable,
        "connection": connection,
        "status": status,
        "Status": VismaConnection.Status,
        "status_label": VismaConnection.Status(status).label,
        "configured": oauth.is_configured(),
        "not_configured_message": not_configured_message(request),
        "transfer": saved,
        "never": saved.interval == TransferSettings.Interval.NEVER,
        "next_run": next_run_after(timezone.now(), saved.interval, saved.run_time),
        "last_run_lines": summary_lines(saved.last_run_summary),
        "last_run_needs_action": _needs_action(saved.last_run_summary),
        "active_run": running,
        "active_run_label": run_label(running) if running else "",
        "chart": chart,
        "history": ConnectionEvent.objects.filter(organization=org).select_related("user")[
            :HISTORY_SHOWN
        ],
        "pending_change": services.pending_change(org),
        # Only when the company uses cost centres (costcentres.py).
        "cost_centres": costcentres.section(org, editable=editable),
        "reconcile_avvik": SettlementExport.objects.filter(
            settlement__organization=org, state=SettlementExport.State.AVVIK
        ).count(),
    }
    return render(request, "visma/integration.html", context)


HISTORY_SHOWN = 10


# ---------------------------------------------------------------------------- connect


@sensitive_variables("url", "state", "code_verifier", "pending")
@require_POST
@admin_required
def connect(request: OrgRequest) -> HttpResponse:
    if not oauth.is_configured():
        messages.warning(request, not_configured_message(request))
        return redirect("visma:integration")
    redirect_uri = redirect_uri_for(request)
    url, state, code_verifier = oauth.authorization_request(redirect_uri)
    now = time.time()
    pending = {
        key: entry
        for key, entry in request.session.get(SESSION_KEY, {}).items()
        if now - entry.get("created", 0) < STATE_MAX_AGE_SECONDS
    }
    pending[state] = {
        "org_id": request.org.pk,
        "code_verifier": code_verifier,
        "redirect_uri": redirect_uri,
        "created": now,
    }
    # A few tabs may be connecting at once; older attempts are dropped.
    request.session[SESSION_KEY] = dict(list(pending.items())[-MAX_PENDING:])
    return HttpResponseRedirect(url)


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "visma/callback_forbidden.html", status=403)


# The authorization code and the PKCE verifier are one step from a token pair.
@sensitive_variables("code", "entry", "pending", "state")
@require_GET
@admin_required
def callback(request: OrgRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    pending = dict(request.session.get(SESSION_KEY, {}))
    entry = pending.pop(state, None) if state else None
    # Single use: the state is gone whatever happens next.
    request.session[SESSION_KEY] = pending
    if entry is None or entry.get("org_id") != request.org.pk:
        return _forbidden(request)

    back = redirect("visma:integration")
    if time.time() - entry.get("created", 0) > STATE_MAX_AGE_SECONDS:
        messages.error(request, _("Innloggingen hos Visma tok for lang tid. Prøv igjen."))
        return back
    error = request.GET.get("error", "")
    if error == "access_denied":
        messages.warning(
            request,
            _(
                "Tilkoblingen ble avbrutt: tilgangen ble ikke godkjent hos Visma. "
                "Klikk «Connect Visma eAccounting» for å prøve igjen."
            ),
        )
        return back
    if error:
        description = request.GET.get("error_description", "")
        messages.error(
            request,
            _("Visma avviste tilkoblingen (%(error)s). %(description)s")
            % {"error": error[:100], "description": description[:300]},
        )
        return back
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, _("Visma sendte ingen autorisasjonskode tilbake. Prøv igjen."))
        return back
    if not oauth.is_configured():
        messages.warning(request, not_configured_message(request))
        return back

    try:
        company, chart_problem = services.complete_connection(
            request.org,
            user=request.user,
            code=code,
            code_verifier=entry["code_verifier"],
            redirect_uri=entry["redirect_uri"],
        )
    except services.CompanyChangeNeeded:
        return redirect("visma:change_company")
    except services.ConnectFailed as exc:
        messages.error(request, str(exc))
        return back
    messages.success(
        request,
        _("Innlogging hos Visma lyktes. Koblet til %(company)s.") % {"company": company.name},
    )
    if chart_problem:
        messages.warning(
            request,
            _(
                "Kontoplanen kunne ikke hentes fra Visma nå (%(error)s). "
                "Prøv «Oppdater kontoplan fra Visma» om litt."
            )
            % {"error": chart_problem},
        )
    return back


@require_POST
@admin_required
def disconnect(request: OrgRequest) -> HttpResponse:
    result = services.disconnect(request.org, user=request.user)
    messages.success(request, _("Visma eAccounting er koblet fra."))
    if result.kept_at_visma:
        # Which other organisation is not said: it is another customer's business.
        messages.warning(
            request,
            _(
                "Backoffice har slettet sine Visma-nøkler for denne organisasjonen, men "
                "tilgangen er ikke trukket tilbake hos Visma: en annen organisasjon i "
                "Backoffice er koblet til Visma med den samme Visma-brukeren (eller kan "
                "være det), og Visma trekker tilbake alle tilgangene en bruker har gitt "
                "Backoffice på én gang. Vil du fjerne tilgangen helt, gjør du det i Visma "
                "eAccounting under Innstillinger > Apper og utvidelser (eller Visma-brukeren "
                "gjør det i sin oversikt over apper med tilgang); da kobles også den andre "
                "organisasjonen fra."
            ),
        )
    return redirect("visma:integration")


@require_http_methods(["GET", "HEAD", "POST"])
@admin_required
def change_company(request: OrgRequest) -> HttpResponse:
    """A sign-in at Visma that landed in another company than the books are in: the admin
    reads what a change means and confirms it, or keeps the old company."""
    pending = services.pending_change(request.org)
    if pending is None:
        messages.info(request, _("Ingen innlogging venter på bekreftelse."))
        return redirect("visma:integration")
    if request.method == "POST":
        if request.POST.get("decision") == "change":
            try:
                name, chart_problem = services.confirm_company_change(
                    request.org, user=request.user
                )
            except services.ConnectFailed as exc:
                messages.error(request, str(exc))
                return redirect("visma:change_company")
            messages.success(
                request,
                _("Innlogging hos Visma lyktes. Koblet til %(company)s.") % {"company": name},
            )
            if chart_problem:
                messages.warning(request, chart_problem)
        else:
            services.cancel_company_change(request.org, user=request.user)
            messages.info(request, _("Selskapet ble ikke byttet. Ingenting er endret."))
        return redirect("visma:integration")
    return render(
        request,
        "visma/change_company.html",
        {
            "pending": pending,
            "old": services.last_company(request.org),
            "doubtful": services.uncertain_in_old_company(request.org),
        },
    )


@require_POST
@admin_required
def refresh_chart(request: OrgRequest) -> HttpResponse:
    try:
        summary = services.refresh_company_data(request.org)
    except tokens.ReconnectRequired as exc:
        messages.error(
            request,
            _("Visma-tilkoblingen må kobles til på nytt: %(reason)s") % {"reason": exc.reason},
        )
    except tokens.TokenUnavailable as exc:
        messages.error(request, str(exc) or _("Visma eAccounting er ikke tilkoblet."))
    except client.VismaError as exc:
        messages.error(
            request,
            _("Kontoplanen kunne ikke hentes fra Visma: %(error)s") % {"error": exc.detail or exc},
        )
    else:
        messages.success(
            request,
            _(
                "Kontoplanen er oppdatert fra Visma: %(accounts)s aktive kontoer og "
                "%(vat_codes)s mva-koder."
            )
            % {"accounts": summary.active_accounts, "vat_codes": summary.vat_codes},
        )
    return redirect("visma:integration")


@require_POST
@admin_required
def cost_centres(request: OrgRequest) -> HttpResponse:
    """The cost centre item per store (only for a company that uses cost centres)."""
    back = redirect(f"{reverse('visma:integration')}#kostnadssteder")
    section = costcentres.section(request.org, editable=True, data=request.POST)
    if section is None:
        messages.info(request, _("Visma-selskapet bruker ikke kostnadssteder."))
        return back
    if not section.form.is_valid():
        errors = [str(e) for field in section.form.errors.values() for e in field]
        messages.error(request, " ".join(errors))
        return back
    costcentres.save_choices(request.org, section.form, user=request.user)
    messages.success(request, _("Kostnadsstedene er lagret."))
    return back


# ---------------------------------------------------------------------------- transfer now


def _is_connected(organization) -> bool:
    return VismaConnection.objects.filter(
        organization=organization, status=VismaConnection.Status.CONNECTED
    ).exists()


@require_POST
@admin_required
def transfer_now(request: OrgRequest) -> HttpResponse:
    """ "Overfør nå" for the whole organisation: a queued run the page then follows."""
    if not _is_connected(request.org):
        # Without a connection the run would only mark every settlement "trenger handling".
        messages.warning(request, _("Koble til Visma eAccounting før du overfører."))
    elif active_run(request.org) is not None:
        # A double click (or a second admin) would only queue a run that finds nothing to do.
        messages.info(request, _("En overføring pågår allerede."))
    else:
        tasks.enqueue_organization_run(request.org, user=request.user)
        messages.success(request, _("Overføringen er startet."))
    return redirect(f"{reverse('visma:integration')}#overforinger")


@require_GET
@member_required
def transfer_status(request: OrgRequest) -> JsonResponse:
    """The progress of the organisation's latest run (or of `?run=ID`, one of its own), for
    the page that polls while a run is active."""
    runs = ExportRun.objects.filter(organization=request.org)
    run: ExportRun | None
    if "run" in request.GET:
        run_id = parse_id(request.GET["run"])
        if run_id is None:
            raise Http404
        run = get_object_or_404(runs, pk=run_id)
    else:
        run = runs.order_by("-created_at", "-id").first()
    return JsonResponse(run_json(run))


@require_POST
@admin_required
def transfer_settlement(request: OrgRequest, pk: int) -> HttpResponse:
    """ "Overfør nå" / "Prøv igjen" on one settlement of the signed-in organisation."""
    settlement = get_object_or_404(
        Settlement.objects.select_related("organization"), pk=pk, organization=request.org
    )
    back = reverse("settlements:detail", args=[settlement.pk])
    refusal = transfer_refusal(settlement, connected=_is_connected(request.org))
    if refusal is not None:
        messages.add_message(request, refusal.level, refusal.text)
        return redirect(back)
    run = tasks.enqueue_settlement(settlement, user=request.user)
    messages.success(request, _("Overføringen er startet."))
    # The page follows this run until it is done.
    return redirect(f"{back}?run={run.pk}")
