"""The token store: hands out a valid access token for an organisation, refreshing it a
minute before it expires.

Visma rotates refresh tokens: every refresh answers with a new one and cancels the old. Two
workers refreshing at once would spend the same refresh token twice and the loser would
get invalid_grant, i.e. a needless "må kobles til på nytt". So the refresh runs under a row
lock on the organisation's VismaConnection (`select_for_update` inside one transaction),
re-checks after taking the lock whether another worker already refreshed, and stores the
new pair in the same transaction.

When Visma answers invalid_grant the grant is gone: the connection becomes "må kobles til på
nytt", the organisation's admins get one e-mail, and every caller gets ReconnectRequired
(exports pause; settlements wait until an admin reconnects).

Known limit: if the refresh request reaches Visma but its answer is lost (timeout), Visma has
already rotated, and the next refresh fails with invalid_grant. Nothing can recover that
silently; the admins are told to reconnect.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection as db_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from backoffice import audit

from . import client, crypto, oauth
from .models import VismaConnection

logger = logging.getLogger(__name__)

T = TypeVar("T")


class TokenUnavailable(Exception):
    """No access token can be had right now (see the subclasses)."""


class NotConnected(TokenUnavailable):
    """The organisation has not connected Visma eAccounting."""


class ReconnectRequired(TokenUnavailable):
    """The connection needs an admin to connect again; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RefreshFailed(TokenUnavailable):
    """The identity server could not refresh the token now (down, misconfigured client).
    The connection stays as it is; try again later."""


def _usable(connection: VismaConnection | None) -> VismaConnection:
    if connection is None or connection.status == VismaConnection.Status.NOT_CONNECTED:
        raise NotConnected(_("Visma eAccounting er ikke tilkoblet."))
    if connection.status == VismaConnection.Status.RECONNECT_REQUIRED:
        raise ReconnectRequired(connection.reason)
    return connection


@sensitive_variables()
def get_access_token(organization) -> str:
    """A valid access token for the organisation's Visma company.

    Raises NotConnected, ReconnectRequired or RefreshFailed (all TokenUnavailable).
    """
    connection = _usable(VismaConnection.objects.filter(organization=organization).first())
    if not connection.access_token_expires_soon():
        try:
            return connection.access_token
        except crypto.InvalidToken:
            pass  # handled under the lock below, like every other problem with the pair
    return _refresh(organization)


@sensitive_variables()
def force_refresh(organization, *, rejected_token: str | None = None) -> str:
    """A new access token after Visma answered 401 to `rejected_token`. When another worker
    has already replaced that token, its fresh one is returned without a second refresh.
    Without `rejected_token` it always refreshes."""
    return _refresh(organization, force=True, rejected_token=rejected_token)


@contextmanager
def _refresh_lock(organization_id: int) -> Iterator[None]:
    """PostgreSQL serializes refreshes with the row lock in _refresh. SQLite (development and
    the demo) ignores select_for_update, so there a file lock does it, across threads and
    processes; it is taken before the transaction starts, so the re-check sees the winner's
    committed pair."""
    if db_connection.vendor != "sqlite":
        yield
        return
    path = Path(settings.VAR_DIR) / f"visma-refresh-{organization_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@sensitive_variables()
def _refresh(organization, *, force: bool = False, rejected_token: str | None = None) -> str:
    with _refresh_lock(organization.pk):
        return _refresh_locked(organization, force=force, rejected_token=rejected_token)


@sensitive_variables()
def _refresh_locked(organization, *, force: bool, rejected_token: str | None) -> str:
    # Where rows can be locked, the lock (and so the transaction) spans the refresh. SQLite
    # has no row locks (a file lock serializes instead), and a transaction held open across
    # the HTTP call would fail to write if anything else wrote meanwhile (the demo's
    # embedded simulator does: it rotates the token in the same database).
    atomic = transaction.atomic() if db_connection.features.has_select_for_update else nullcontext()
    with atomic:
        connection = _usable(
            VismaConnection.objects.select_for_update().filter(organization=organization).first()
        )
        try:
            current = connection.access_token
            refresh_token = connection.refresh_token
        except crypto.InvalidToken:
            reason = _reason(
                "De lagrede Visma-nøklene kan ikke dekrypteres (er FIELD_ENCRYPTION_KEY byttet?)."
            )
        else:
            # Re-check under the lock: another worker may have refreshed while we waited.
            replaced = rejected_token is not None and current != rejected_token
            if not connection.access_token_expires_soon() and (not force or replaced):
                return current
            if not refresh_token:
                reason = _reason("Visma-tilkoblingen mangler fornyelsesnøkkel.")
            else:
                try:
                    tokens = oauth.refresh(refresh_token)
                except oauth.InvalidGrant as exc:
                    reason = _reason(
                        "Visma godtar ikke lenger tilgangen (%(error)s).", error=exc.error
                    )
                except oauth.OAuthFailure as exc:
                    logger.error(
                        "Visma token refresh failed for organisation %s: %s",
                        organization.pk,
                        exc.error,
                    )
                    raise RefreshFailed(
                        _("Visma kunne ikke fornye tilgangen nå (%(error)s). Prøver igjen senere.")
                        % {"error": exc.error}
                    ) from None
                else:
                    connection.set_tokens(
                        access_token=tokens.access_token,
                        refresh_token=tokens.refresh_token,
                        expires_in=tokens.expires_in,
                        scope=tokens.scope or connection.scope,
                    )
                    # A connection made before the user was recorded learns it here.
                    connection.visma_user_id = tokens.subject or connection.visma_user_id
                    connection.save(
                        update_fields=[
                            "access_token_encrypted",
                            "refresh_token_encrypted",
                            "expires_at",
                            "scope",
                            "token_refreshed_at",
                            "visma_user_id",
                            "updated_at",
                        ]
                    )
                    return tokens.access_token
        _set_reconnect_required(connection, reason, clear_tokens=True)
    notify_admins_once(organization)
    raise ReconnectRequired(reason)


def _reason(text: str, **params) -> str:
    # The reason is stored once and shown to everyone, so it is kept in the site's own
    # language (bokmål), not in the language of whichever request hit the problem.
    return text % params if params else text


def _set_reconnect_required(connection: VismaConnection, reason: str, *, clear_tokens: bool):
    connection.status = VismaConnection.Status.RECONNECT_REQUIRED
    connection.reason = reason
    fields = ["status", "reason", "updated_at"]
    if clear_tokens:
        connection.clear_tokens()
        fields += ["access_token_encrypted", "refresh_token_encrypted", "expires_at"]
        fields += ["token_refreshed_at"]
    connection.save(update_fields=fields)
    audit.record(
        organization=connection.organization_id,
        action=audit.Action.VISMA_RECONNECT_REQUIRED,
        via="Visma",
        details=[reason],
    )
    logger.warning(
        "Visma connection of organisation %s needs reconnecting: %s",
        connection.organization_id,
        reason,
    )


def mark_reconnect_required(organization, reason: str, *, clear_tokens: bool = False) -> None:
    """Pause the connection until an admin connects again, and tell the admins (once)."""
    with transaction.atomic():
        connection = (
            VismaConnection.objects.select_for_update().filter(organization=organization).first()
        )
        if connection is None or connection.status == VismaConnection.Status.NOT_CONNECTED:
            return
        if connection.status == VismaConnection.Status.RECONNECT_REQUIRED:
            return  # the first reason is the one to fix; the admins were told already
        _set_reconnect_required(connection, reason, clear_tokens=clear_tokens)
    notify_admins_once(organization)


def notify_admins_once(organization) -> bool:
    """E-mail the organisation's admins that Visma needs reconnecting, once per incident
    (reconnect_notified_at is cleared by a successful connect). True when sent now."""
    now = timezone.now()
    claimed = VismaConnection.objects.filter(
        organization=organization,
        status=VismaConnection.Status.RECONNECT_REQUIRED,
        reconnect_notified_at__isnull=True,
    ).update(reconnect_notified_at=now)
    if not claimed:
        return False
    connection = VismaConnection.objects.get(organization=organization)
    recipients = organization.admin_emails()
    if not recipients:
        logger.warning("Organisation %s has no admin with an e-mail address", organization.pk)
        return False
    url = settings.SITE_URL.rstrip("/") + reverse("visma:integration")
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Visma eAccounting må kobles til på nytt (%(org)s)") % {
            "org": organization.name
        }
        body = _(
            "Hei,\n\n"
            "Backoffice kan ikke lenger overføre dagsoppgjør for %(org)s til Visma eAccounting.\n"
            "Årsak: %(reason)s\n\n"
            "Ingen oppgjør går tapt: de venter og overføres når tilkoblingen er i orden.\n"
            "Logg inn, gå til Oppsett > Integrasjoner > Visma eAccounting og klikk "
            "«Connect Visma eAccounting»:\n%(url)s\n"
        ) % {"org": organization.name, "reason": connection.reason, "url": url}
    try:
        send_mail(subject, body, None, recipients)
    except Exception:
        logger.exception("Could not e-mail the admins of organisation %s", organization.pk)
        # Let the next failure try again.
        VismaConnection.objects.filter(pk=connection.pk).update(reconnect_notified_at=None)
        return False
    return True


@sensitive_variables()
def call(organization, func: Callable[..., T], *args, **kwargs) -> T:
    """`func(access_token, *args, **kwargs)` for the organisation, e.g.
    `call(org, client.list_accounts)`. A 401 gets one retry with a refreshed token; a
    missing scope (4006) marks the connection "må kobles til på nytt" (only a new consent
    grants it). Raises TokenUnavailable or client.VismaError."""
    token = get_access_token(organization)
    try:
        return func(token, *args, **kwargs)
    except client.AuthError:
        token = force_refresh(organization, rejected_token=token)
    except client.MissingScope as exc:
        _missing_scope(organization, exc)
        raise
    try:
        return func(token, *args, **kwargs)
    except client.MissingScope as exc:
        _missing_scope(organization, exc)
        raise


def _missing_scope(organization, exc: client.MissingScope) -> None:
    mark_reconnect_required(
        organization,
        _reason(
            "Tilgangen mangler en rettighet Visma krever (%(message)s).",
            message=exc.message or "ErrorCode 4006",
        ),
    )
