"""The seam between the settlements and the accounting integration that transfers them,
as accounting.catalog is for the chart of accounts.

settlements/ stores what the till said and whether it balances; where a settlement is
in its transfer (waiting, posted as voucher A17, needs action and why) belongs to the
integration. The pages, the API answer and the import command ask `provider()`, and never
import an integration: setting `SETTLEMENT_TRANSFER_PROVIDER` names the integration's
provider (a dotted path to an object with the methods of `TransferProvider`). Unset, a
settlement is only "venter" or, when it is not postable (it does not balance, or what the
till said holds it: Settlement.hold_code), "trenger handling".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .models import POSTABLE
from .texts import UNBALANCED, unbalanced_reason

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from .models import Settlement

PENDING = "pending"
NEEDS_ACTION = "needs_action"


@dataclass(frozen=True)
class TransferStatus:
    """What a page shows of one settlement's transfer."""

    state: str  # "pending", "posted", "needs_action", … (the API's "state")
    label: StrOrPromise  # the state in the reader's language
    reason: str = ""  # why it waits and what to do
    problem: str = ""  # the reason as a code ("unbalanced", "mapping_missing", …)
    voucher_number: str = ""  # once posted


class TransferProvider(Protocol):
    def state_choices(self) -> list[tuple[str, StrOrPromise]]: ...

    def with_transfer(self, queryset: QuerySet[Settlement]) -> QuerySet[Settlement]:
        """The queryset with what `status` reads, so a list page asks nothing per row."""
        ...

    def filter_state(self, queryset: QuerySet[Settlement], state: str) -> QuerySet[Settlement]: ...

    def status(self, settlement: Settlement) -> TransferStatus: ...

    def panel(self, settlement: Settlement, request: HttpRequest) -> str:
        """The HTML of the transfer's section on the settlement's page ("" for none)."""
        ...

    def list_actions(self, request: HttpRequest) -> str:
        """The HTML of the list page's transfer buttons ("" for none)."""
        ...


def untouched_status(settlement: Settlement) -> TransferStatus:
    """A settlement no transfer has touched: waiting, or waiting for the till's corrected
    settlement when it is not postable: it does not balance (the reason in the reader's
    language), or what the till said holds it (hold_reason, as stored, in Norwegian)."""
    if settlement.is_postable:
        return TransferStatus(PENDING, _("venter"))
    if not settlement.is_balanced:
        return TransferStatus(
            NEEDS_ACTION,
            _("trenger handling"),
            reason=unbalanced_reason(settlement.balance_difference),
            problem=UNBALANCED,
        )
    return TransferStatus(
        NEEDS_ACTION,
        _("trenger handling"),
        reason=settlement.hold_reason,
        problem=settlement.hold_code,
    )


class NoTransfer:
    """No accounting system: nothing is ever transferred."""

    def state_choices(self) -> list[tuple[str, StrOrPromise]]:
        return [(PENDING, _("venter")), (NEEDS_ACTION, _("trenger handling"))]

    def with_transfer(self, queryset: QuerySet[Settlement]) -> QuerySet[Settlement]:
        return queryset

    def filter_state(self, queryset: QuerySet[Settlement], state: str) -> QuerySet[Settlement]:
        if state == PENDING:
            return queryset.filter(**POSTABLE)
        if state == NEEDS_ACTION:
            return queryset.exclude(**POSTABLE)
        return queryset.none()

    def status(self, settlement: Settlement) -> TransferStatus:
        return untouched_status(settlement)

    def panel(self, settlement: Settlement, request: HttpRequest) -> str:
        return ""

    def list_actions(self, request: HttpRequest) -> str:
        return ""


@cache
def _load(path: str) -> TransferProvider:
    return import_string(path) if path else NoTransfer()


def provider() -> TransferProvider:
    return _load(getattr(settings, "SETTLEMENT_TRANSFER_PROVIDER", ""))
