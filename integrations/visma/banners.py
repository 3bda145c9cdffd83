"""A banner on every page while the Visma connection needs an admin (../shared/DESIGN.md 2)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from .models import VismaConnection


def banners(organization) -> list[dict]:
    connection = (
        VismaConnection.objects.filter(
            organization=organization, status=VismaConnection.Status.RECONNECT_REQUIRED
        )
        .only("reason")
        .first()
    )
    if connection is None:
        return []
    return [
        {
            "level": "error",
            "text": _("Visma-tilkoblingen må kobles til på nytt: %(reason)s")
            % {"reason": connection.reason or _("ukjent årsak")},
            "url": reverse("visma:integration"),
            "link_text": _("Koble til på nytt"),
        }
    ]
