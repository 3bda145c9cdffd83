"""The transfer's part of the settlement pages, from the provider (settlements.transfer):

{% load transfer %}{% transfer_status s as t %} … {{ t.label }}
{% transfer_panel settlement request %}   {% transfer_actions request %}
"""

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from ..models import Settlement
from ..transfer import TransferStatus, provider

register = template.Library()


@register.simple_tag
def transfer_status(settlement: Settlement) -> TransferStatus:
    return provider().status(settlement)


@register.simple_tag
def transfer_panel(settlement: Settlement, request: HttpRequest) -> SafeString:
    # The provider renders its section with Django's templates (autoescaped).
    return mark_safe(provider().panel(settlement, request))  # noqa: S308


@register.simple_tag
def transfer_actions(request: HttpRequest) -> SafeString:
    return mark_safe(provider().list_actions(request))  # noqa: S308
