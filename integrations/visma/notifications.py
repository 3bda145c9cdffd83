"""The e-mail to an organisation's admins when settlements need their action."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from backoffice.models import Organization

from . import state
from .models import Problem
from .selectors import export_of

if TYPE_CHECKING:
    from .transfer import Outcome

# Passing failures (retried automatically) and a lost connection (which has its own
# e-mail, tokens.mark_reconnect_required) are not told here.
_QUIET = ("", Problem.CONNECTION, Problem.TRANSIENT)


def notify_new_problems(organization: Organization, outcomes: Iterable[Outcome]) -> None:
    """One e-mail per new problem, not per attempt: a settlement's problem is told once;
    the same problem on the next run stays quiet. All of a run's new problems share one
    e-mail."""
    fresh = []
    for outcome in outcomes:
        if outcome.result != "needs_action" or outcome.problem in _QUIET:
            continue
        row = export_of(outcome.settlement)
        if row is None or row.notified_problem != outcome.problem:
            fresh.append(outcome)
    if not fresh:
        return
    recipients = organization.admin_emails()
    if recipients:
        with translation.override("nb"):
            lines = [f"- {o.label}: {o.message}" for o in fresh]
            url = (
                settings.SITE_URL.rstrip("/") + reverse("settlements:list") + "?state=needs_action"
            )
            send_mail(
                _("Dagsoppgjør trenger handling før de kan overføres til Visma"),
                _("Disse dagsoppgjørene ble ikke overført til Visma eAccounting:")
                + "\n\n"
                + "\n".join(lines)
                + "\n\n"
                + _("Se detaljer: %(url)s") % {"url": url},
                None,
                recipients,
                fail_silently=True,
            )
    for outcome in fresh:
        state.mark_notified(outcome.settlement, outcome.problem)


def notify_run_failed(organization: Organization, message: str) -> None:
    """One e-mail to the admins when a transfer run broke off: why, and what to do."""
    recipients = organization.admin_emails()
    if not recipients:
        return
    with translation.override("nb"):
        url = settings.SITE_URL.rstrip("/") + reverse("visma:integration")
        send_mail(
            _("Overføringen til Visma eAccounting stoppet"),
            _("Overføringen av dagsoppgjør til Visma eAccounting stoppet:")
            + "\n\n"
            + message
            + "\n\n"
            + _("Se detaljer: %(url)s") % {"url": url},
            None,
            recipients,
            fail_silently=True,
        )
