"""Business actions of the Visma integration: connect, disconnect, refresh the company's
chart, save the transfer settings, check a voucher date against the company's books.

Rule for the VismaConnection row: the token fields are only written under its row lock
(tokens.py, connect, disconnect); everything else updates just its own columns, so a page
action never writes back a stale token pair.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from backoffice import audit
from backoffice.models import Organization

from . import access, catalog, client, costcentres, crypto, oauth, tokens
from .models import (
    ConnectionEvent,
    PendingCompanyChange,
    Reversal,
    SettlementExport,
    TransferSettings,
    VismaAccount,
    VismaConnection,
    VismaCostCenterItem,
    VismaFiscalYear,
    VismaVatCode,
)
from .schedule import next_run_after

logger = logging.getLogger(__name__)


class ConnectFailed(Exception):
    """The connect flow failed; the message is for the admin who clicked."""


class CompanyChangeNeeded(Exception):
    """The sign-in landed in another company than the books are in. Nothing changed: the
    new tokens wait in PendingCompanyChange for an admin's confirmation."""


# How long a sign-in that landed in another company waits for the admin's confirmation.
PENDING_CHANGE_MINUTES = 15


@dataclass(frozen=True)
class ChartSummary:
    company_name: str
    accounts: int
    active_accounts: int
    vat_codes: int
    fiscal_years: int


# ---------------------------------------------------------------------------- connect


@sensitive_variables()
def complete_connection(
    organization: Organization, *, user, code: str, code_verifier: str, redirect_uri: str
) -> tuple[client.CompanySettings, str | None]:
    """Exchange the callback's code, read the company, store the pair encrypted and mark
    the connection "tilkoblet"; then fill the chart cache. Returns the company and, when the
    chart could not be fetched, why (the connection stands; the admin may retry with the
    button). Raises ConnectFailed with a message for the admin."""
    try:
        pair = oauth.exchange_code(code, code_verifier=code_verifier, redirect_uri=redirect_uri)
    except oauth.OAuthFailure as exc:
        if exc.transient:
            raise ConnectFailed(
                _("Visma svarte ikke på innloggingen. Prøv igjen om litt.")
            ) from None
        raise ConnectFailed(
            _("Visma godtok ikke innloggingen (%(error)s). Prøv å koble til på nytt.")
            % {"error": exc.error}
        ) from None

    try:
        company = client.get_company_settings(pair.access_token)
        problem = access.company_problem(company.raw)
        if problem is None:
            # One harmless read of the books: a company without the API module, a user
            # without access to the company, … answer 403 here, so the admin learns it
            # now on this page and not from the first night's run.
            client.check_voucher_access(pair.access_token)
    except client.AccessDenied as exc:
        _give_back(pair)
        raise ConnectFailed(exc.advice) from None
    except client.VismaError as exc:
        _give_back(pair)
        if isinstance(exc, client.MissingScope):
            message = _(
                "Visma ga ikke tilgang til firmainnstillingene (mangler rettighet). "
                "Koble til på nytt og godta alle tilgangene."
            )
        else:
            message = _("Innloggingen lyktes, men Visma-selskapet kunne ikke leses: %(error)s") % {
                "error": exc.detail or str(exc)
            }
        raise ConnectFailed(message) from None

    if problem is not None:
        _give_back(pair)
        raise ConnectFailed(problem)

    last = last_company(organization)
    if last is not None and not _same_company(last, company):
        # Never silently: the books would move to another company. An admin confirms it
        # on its own page (confirm_company_change) or cancels it.
        with transaction.atomic():
            PendingCompanyChange.objects.filter(organization=organization).delete()
            PendingCompanyChange.objects.create(
                organization=organization,
                user=user,
                company_name=company.name,
                company_org_number=company.org_number,
                company_id=_company_id(company),
                access_token_encrypted=crypto.encrypt(pair.access_token),
                refresh_token_encrypted=crypto.encrypt(pair.refresh_token),
                expires_in=pair.expires_in,
                scope=pair.scope[:500],
                visma_user_id=pair.subject,
            )
        raise CompanyChangeNeeded(company.name)

    action = (
        ConnectionEvent.Action.CONNECTED if last is None else ConnectionEvent.Action.RECONNECTED
    )
    return _store_connection(
        organization,
        user=user,
        company=company,
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        scope=pair.scope,
        visma_user_id=pair.subject,
        action=action,
    )


@sensitive_variables()
def _store_connection(
    organization: Organization,
    *,
    user,
    company: client.CompanySettings,
    access_token: str,
    refresh_token: str,
    expires_in: int,
    scope: str,
    visma_user_id: str,
    action: str,
    refresh: bool = True,
) -> tuple[client.CompanySettings, str | None]:
    """Store the new connection and, with `refresh`, read the company's chart; returns the
    company and why the chart could not be read (None when it was, or was not asked)."""
    now = timezone.now()
    with transaction.atomic():
        connection, _created = VismaConnection.objects.select_for_update().get_or_create(
            organization=organization
        )
        connection.status = VismaConnection.Status.CONNECTED
        connection.reason = ""
        connection.company_name = company.name
        connection.company_org_number = company.org_number
        connection.accounting_locked_to = company.accounting_locked_to
        connection.uses_cost_center = company.uses_cost_center
        connection.connected_by = user
        connection.connected_at = now
        connection.visma_user_id = visma_user_id
        connection.reconnect_notified_at = None
        connection.set_tokens(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=expires_in,
            scope=scope,
        )
        connection.save()
        record_event(
            organization,
            action,
            user=user,
            name=company.name,
            org_number=company.org_number,
            company_id=_company_id(company),
        )
        audit.record(
            organization=organization,
            action=audit.Action.VISMA_CONNECTED,
            actor=user,
            details=[f"{company.name} ({company.org_number or '–'})"],
        )
    TransferSettings.for_organization(organization)
    return company, _refresh_after_connect(organization) if refresh else None


def _refresh_after_connect(organization: Organization) -> str | None:
    """Read the new company's chart (outside any transaction: no lock is held while Visma
    answers); why it could not be read, or None."""
    try:
        refresh_company_data(organization)
    except (client.VismaError, tokens.TokenUnavailable) as exc:
        logger.warning("Chart refresh after connect failed for %s: %s", organization.pk, exc)
        return str(exc)
    return None


# ---------------------------------------------------------------- the company and its history


def _company_id(company: client.CompanySettings) -> str:
    value = company.raw.get("CompanyIdentifier") if isinstance(company.raw, dict) else None
    return str(value)[:64] if value else ""


def record_event(
    organization: Organization,
    action: str,
    *,
    user,
    name: str,
    org_number: str,
    company_id: str = "",
) -> None:
    """One entry of the connection's history (who, when, which company)."""
    ConnectionEvent.objects.create(
        organization=organization,
        user=user if getattr(user, "pk", None) else None,
        action=action,
        company_name=name,
        company_org_number=org_number,
        company_id=company_id,
    )


_BOOKS_WENT_TO = (
    ConnectionEvent.Action.CONNECTED,
    ConnectionEvent.Action.RECONNECTED,
    ConnectionEvent.Action.COMPANY_CHANGED,
)


def last_company(organization: Organization) -> ConnectionEvent | None:
    """The company the books last went to (connected, reconnected or changed to), also
    after a disconnect; None for an organisation never connected."""
    return (
        ConnectionEvent.objects.filter(organization=organization, action__in=_BOOKS_WENT_TO)
        .order_by("-at", "-id")
        .first()
    )


def _same_company(event: ConnectionEvent, company: client.CompanySettings) -> bool:
    new_id = _company_id(company)
    if event.company_id and new_id:
        return event.company_id == new_id
    if event.company_org_number and company.org_number:
        return event.company_org_number == company.org_number
    return event.company_name == company.name


def pending_change(organization: Organization) -> PendingCompanyChange | None:
    """The sign-in waiting for confirmation, if it is still fresh (older ones are gone)."""
    cutoff = timezone.now() - timedelta(minutes=PENDING_CHANGE_MINUTES)
    PendingCompanyChange.objects.filter(organization=organization, created_at__lt=cutoff).delete()
    return PendingCompanyChange.objects.filter(organization=organization).first()


def uncertain_in_old_company(organization: Organization) -> int:
    """Settlements whose POST to the current company has an unknown outcome: they must be
    resolved there (found or posted) before the books may move to another company, or
    they would be searched for in, and posted again to, the new one."""
    return (
        SettlementExport.objects.filter(
            settlement__organization=organization, in_doubt=True
        ).count()
        # A reversal in doubt (corrections.py) must be found where it may be, too.
        + Reversal.objects.filter(settlement__organization=organization, in_doubt=True).count()
    )


@sensitive_variables()
def confirm_company_change(organization: Organization, *, user) -> tuple[str, str | None]:
    """Apply the pending sign-in: the connection moves to the new company. Refused while
    any settlement is uncertain in the old one. Every admin is told. Returns the new
    company's name and, when its chart could not be fetched, why. The change is one
    transaction; the new company's chart is read after it, with no lock held while Visma
    answers (on SQLite a write of the simulator's in the same database would wait)."""
    with transaction.atomic():
        company, old = _apply_company_change(organization, user=user)
    chart_problem = _refresh_after_connect(organization)
    notify_company_changed(organization, user=user, old=old, new=company)
    return company.name, chart_problem


def _apply_company_change(organization: Organization, *, user):
    pending = pending_change(organization)
    if pending is None:
        raise ConnectFailed(
            _("Innloggingen som ventet på bekreftelse, er utløpt. Koble til på nytt.")
        )
    doubtful = uncertain_in_old_company(organization)
    if doubtful:
        raise ConnectFailed(
            _(
                "%(count)s dagsoppgjør er usikre i det gamle selskapet. De må avklares der "
                "først (neste overføring søker etter dem der), så kan selskapet byttes."
            )
            % {"count": doubtful}
        )
    old = last_company(organization)
    company = client.CompanySettings(
        name=pending.company_name,
        org_number=pending.company_org_number,
        accounting_locked_to=None,
        raw={"CompanyIdentifier": pending.company_id} if pending.company_id else {},
    )
    access_token = crypto.decrypt(pending.access_token_encrypted)
    refresh_token = crypto.decrypt(pending.refresh_token_encrypted)
    expires_in, scope, visma_user_id = pending.expires_in, pending.scope, pending.visma_user_id
    pending.delete()
    _store_connection(
        organization,
        user=user,
        company=company,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=expires_in,
        scope=scope,
        visma_user_id=visma_user_id,
        action=ConnectionEvent.Action.COMPANY_CHANGED,
        refresh=False,
    )
    return company, old


def cancel_company_change(organization: Organization, *, user) -> None:
    """Drop the pending sign-in (its tokens are forgotten; the books stay where they are)."""
    pending = pending_change(organization)
    if pending is None:
        return
    record_event(
        organization,
        ConnectionEvent.Action.CHANGE_REFUSED,
        user=user,
        name=pending.company_name,
        org_number=pending.company_org_number,
        company_id=pending.company_id,
    )
    pending.delete()


def notify_company_changed(organization: Organization, *, user, old, new) -> None:
    recipients = organization.admin_emails()
    if not recipients:
        return
    with translation.override("nb"):
        send_mail(
            _("Backoffice fører nå regnskapet i et annet Visma-selskap"),
            _(
                "%(user)s byttet Visma-selskap for %(org)s: nye bilag går nå til %(new)s "
                "(%(new_number)s). Bilag som allerede er overført, blir i %(old)s "
                "(%(old_number)s)."
            )
            % {
                "user": getattr(user, "email", "") or getattr(user, "username", ""),
                "org": organization.name,
                "new": new.name,
                "new_number": new.org_number or "–",
                "old": old.company_name if old else "–",
                "old_number": (old.company_org_number if old else "") or "–",
            },
            None,
            recipients,
            fail_silently=True,
        )


@sensitive_variables()
def _revoke_quietly(refresh_token: str) -> None:
    try:
        oauth.revoke(refresh_token)
    except oauth.OAuthFailure as exc:
        # Not fatal: the grant expires on its own; the operator sees it in the log.
        logger.warning("Visma token revocation failed: %s", exc.error)


def grant_in_use(visma_user_id: str, *, besides: Organization | None = None) -> bool:
    """Does an organisation here (other than `besides`) hold a grant from this Visma user?

    Visma's identity server (an IdentityServer) answers a revocation by revoking every
    refresh token the user holds for this client, in every company, so revoking one
    organisation's would cut off all the others that user connected. A connection or a
    sign-in waiting for a change of company whose user is not known ("": connected before
    it was recorded, or a token that does not say) may be the same user's, and so does
    every grant when this one's user is not known."""
    connections = VismaConnection.objects.exclude(refresh_token_encrypted="").exclude(
        status=VismaConnection.Status.NOT_CONNECTED
    )
    if besides is not None:
        connections = connections.exclude(organization=besides)
    cutoff = timezone.now() - timedelta(minutes=PENDING_CHANGE_MINUTES)
    pending = PendingCompanyChange.objects.filter(created_at__gte=cutoff)
    if visma_user_id:
        same = Q(visma_user_id=visma_user_id) | Q(visma_user_id="")
        connections, pending = connections.filter(same), pending.filter(same)
    return connections.exists() or pending.exists()


@sensitive_variables()
def _give_back(pair: oauth.TokenSet) -> None:
    """Revoke a pair the connect will not keep, unless that would cut off a connection
    here (grant_in_use); then it is only forgotten and expires at Visma by itself."""
    if grant_in_use(pair.subject):
        logger.info("Visma grant not revoked: the same Visma user's grant is in use here")
        return
    _revoke_quietly(pair.refresh_token)


@dataclass(frozen=True)
class Disconnected:
    # True: the access at Visma was left alone, since another organisation here holds a
    # grant from the same Visma user; the admin removes it in Visma if they want it gone.
    kept_at_visma: bool


@sensitive_variables()
def disconnect(organization: Organization, *, user=None) -> Disconnected:
    """Forget the tokens and the company's chart, and revoke the grant at Visma (best
    effort) unless another organisation here holds a grant from the same Visma user, which
    Visma's revocation would end too (grant_in_use)."""
    refresh_token = ""
    with transaction.atomic():
        connection = (
            VismaConnection.objects.select_for_update().filter(organization=organization).first()
        )
        if connection is None:
            return Disconnected(kept_at_visma=False)
        if connection.company_name:
            record_event(
                organization,
                ConnectionEvent.Action.DISCONNECTED,
                user=user,
                name=connection.company_name,
                org_number=connection.company_org_number,
            )
        if connection.has_tokens:
            try:
                refresh_token = connection.refresh_token
            except crypto.InvalidToken:
                logger.warning("Undecryptable Visma tokens of %s dropped", organization.pk)
        shared = bool(refresh_token) and grant_in_use(
            connection.visma_user_id, besides=organization
        )
        if connection.status != VismaConnection.Status.NOT_CONNECTED:
            details = [connection.company_name] if connection.company_name else []
            if shared:
                details.append("tilgangen hos Visma er ikke trukket tilbake (delt)")
            audit.record(
                organization=organization,
                action=audit.Action.VISMA_DISCONNECTED,
                actor=user,
                details=details,
            )
        connection.clear_tokens()
        connection.status = VismaConnection.Status.NOT_CONNECTED
        connection.reason = ""
        connection.scope = ""
        connection.company_name = ""
        connection.company_org_number = ""
        connection.connected_by = None
        connection.connected_at = None
        connection.visma_user_id = ""
        connection.accounting_locked_to = None
        connection.uses_cost_center = False
        connection.company_refreshed_at = None
        connection.reconnect_notified_at = None
        connection.save()
        VismaAccount.objects.filter(organization=organization).delete()
        VismaVatCode.objects.filter(organization=organization).delete()
        VismaFiscalYear.objects.filter(organization=organization).delete()
        VismaCostCenterItem.objects.filter(organization=organization).delete()
    if shared:
        logger.info(
            "Visma grant of organisation %s not revoked: the same Visma user's grant is in "
            "use by another organisation",
            organization.pk,
        )
        return Disconnected(kept_at_visma=True)
    # Outside the transaction: no row lock held while waiting for Visma.
    if refresh_token:
        _revoke_quietly(refresh_token)
    return Disconnected(kept_at_visma=False)


# ---------------------------------------------------------------------------- the chart


# An open fiscal year that ended longer ago than this holds no settlement a run can still
# take (the look-back is at most 90 days): its chart is not read.
CHARTED_DAYS_BACK = 366


def charted_years(years: list[client.FiscalYear], today: date) -> list[client.FiscalYear]:
    """The fiscal years whose charts are read: the current one (the kontooppsett's) and
    every open year with days a settlement may still have (December's, posted in
    January). A locked year's vouchers are refused before its chart matters."""
    current = catalog.current_year(years, today)
    earliest = today - timedelta(days=CHARTED_DAYS_BACK)
    return [
        year
        for year in years
        if year is current
        or (not year.is_locked and year.start_date <= today and year.end_date >= earliest)
    ]


def refresh_company_data(organization: Organization) -> ChartSummary:
    """Fetch company settings, fiscal years, their charts and the VAT codes, and replace the
    cache.

    Raises tokens.TokenUnavailable or client.VismaError; the old cache stays on failure.
    Called on connect, by the "Oppdater kontoplan fra Visma" button and before each run.
    """
    company = tokens.call(organization, client.get_company_settings)
    years = tokens.call(organization, client.list_fiscal_years)
    # Only a company that uses cost centres is asked for them (costcentres.py).
    cost_centers = (
        tokens.call(organization, client.list_cost_centers) if company.uses_cost_center else []
    )

    today = timezone.localdate()
    # Visma keeps a chart per fiscal year (GET /accounts/{fiscalyearId}); without any year
    # GET /accounts is all there is.
    charts: dict[str | None, list[client.Account]] = {}
    for year in charted_years(years, today):
        charts[year.id] = tokens.call(organization, client.list_accounts, fiscal_year_id=year.id)
    if not years:
        charts[None] = tokens.call(organization, client.list_accounts)
    vat_codes = tokens.call(organization, client.list_vat_codes)
    unique_codes = {code.id: code for code in vat_codes}

    with transaction.atomic():
        VismaAccount.objects.filter(organization=organization).delete()
        VismaVatCode.objects.filter(organization=organization).delete()
        VismaFiscalYear.objects.filter(organization=organization).delete()
        stored_years = {
            str(y.visma_id): y
            for y in VismaFiscalYear.objects.bulk_create(
                VismaFiscalYear(
                    organization=organization,
                    visma_id=y.id,
                    start_date=y.start_date,
                    end_date=y.end_date,
                    is_locked=y.is_locked,
                )
                for y in years
            )
        }
        for year_id, accounts in charts.items():
            # One entry per number and chart (a list that repeats one keeps the last).
            chart = {a.number: a for a in accounts}
            VismaAccount.objects.bulk_create(
                VismaAccount(
                    organization=organization,
                    fiscal_year=stored_years[year_id] if year_id else None,
                    number=a.number,
                    name=a.name[:200],
                    is_active=a.is_active,
                    vat_code_visma_id=_uuid_or_none(a.vat_code_id),
                    blocked_for_manual_booking=a.blocked_for_manual_booking,
                    first_cost_center_mandatory=a.first_cost_center_mandatory,
                    allows_transaction_text=a.allows_transaction_text,
                )
                for a in chart.values()
            )
        VismaVatCode.objects.bulk_create(
            VismaVatCode(
                organization=organization,
                visma_id=v.id,
                code=v.code[:20],
                description=v.description[:300],
                rate=v.rate,
                related_accounts=list(v.related_accounts),
            )
            for v in unique_codes.values()
        )
        costcentres.replace_cache(organization, cost_centers)
        VismaConnection.objects.filter(organization=organization).update(
            company_name=company.name,
            company_org_number=company.org_number,
            accounting_locked_to=company.accounting_locked_to,
            uses_cost_center=company.uses_cost_center,
            company_refreshed_at=timezone.now(),
            updated_at=timezone.now(),
        )
    current = catalog.current_chart(organization)
    return ChartSummary(
        company_name=company.name,
        accounts=len(current),
        active_accounts=sum(1 for a in current.values() if a.active),
        vat_codes=len(unique_codes),
        fiscal_years=len(years),
    )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------- schedule


# Field → its name on the page, in the log's language (bokmål).
AUDITED_SETTINGS = {
    "interval": "Hvor ofte",
    "lookback_days": "Hent oppgjør bakover (dager)",
    "run_time": "Klokkeslett",
    "attach_zreport": "Legg ved Z-rapport som PDF",
    "send_as_draft": "Send som kladd (bilagsforslag) til regnskapsfører",
}


def _setting_text(transfer_settings: TransferSettings, name: str) -> str:
    value = getattr(transfer_settings, name)
    if name == "interval":
        return str(TransferSettings.Interval(value).label)
    if name == "run_time":
        return value.strftime("%H:%M") if value else "–"
    if isinstance(value, bool):
        return "på" if value else "av"
    return str(value)


def save_transfer_settings(transfer_settings: TransferSettings, *, user=None) -> TransferSettings:
    """Save the form's values, recompute when the dispatcher should run next, and log
    what changed (old → new) in the audit trail."""
    transfer_settings.next_run_at = next_run_after(
        timezone.now(), transfer_settings.interval, transfer_settings.run_time
    )
    with transaction.atomic():
        before = TransferSettings.objects.filter(pk=transfer_settings.pk).first()
        transfer_settings.save()
        changes = []
        with translation.override("nb"):  # the log is kept in the site's own language
            for name, label in AUDITED_SETTINGS.items():
                old = _setting_text(before, name) if before else "–"
                new = _setting_text(transfer_settings, name)
                if old != new:
                    changes.append(f"{label}: {old} → {new}")
        if changes:
            audit.record(
                organization=transfer_settings.organization_id,
                action=audit.Action.TRANSFER_SETTINGS,
                actor=user,
                details=changes,
            )
    return transfer_settings
