"""The audit trail (issue 17, item 9): one append-only log per organisation of who changed
what and when, shown to its admins at Oppsett > Logg.

    audit.record(organization=org, actor=request.user, action=AuditEvent.Action.…,
                 details=["Hvor ofte: Daglig → Ukentlig"])

`actor` is the signed-in user, or None with `via` naming the command or system part
("manage.py issue_api_key", "Visma") that acted. Written in the caller's transaction, so
a change and its line are committed together.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import AuditEvent, Organization

Action = AuditEvent.Action


def actor_label(actor, via: str = "") -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.get_username()
    return via or "system"


def record(
    *,
    organization: Organization | int,
    action: str,
    actor=None,
    via: str = "",
    details: Iterable[str] = (),
) -> AuditEvent:
    organization_id = organization if isinstance(organization, int) else organization.pk
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        organization_id=organization_id,
        actor=user,
        actor_label=actor_label(actor, via)[:200],
        action=action,
        details=[str(line)[:500] for line in details][:100],
    )
