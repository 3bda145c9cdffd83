"""The voucher preview of a stored settlement: the rows it would post, or what must be mapped
first (with a link to the kontooppsett), or why it cannot be posted at all."""

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from accounting.builder import Voucher
from accounting.preview import voucher_preview
from accounting.services import import_mapping
from settlements.domain import SettlementData
from settlements.models import Settlement
from settlements.services import ingest_settlement
from tests.conftest import set_transfer
from tests.test_voucher_builder import settlement_from_json

D = Decimal


def make_settlement(location, data: SettlementData, **fields) -> Settlement:
    """A stored settlement, through the ingestion service (as the API stores it), with any
    `fields` (a state, a reason) set afterwards."""
    settlement = ingest_settlement(location=location, data=data).settlement
    if fields:
        set_transfer(settlement, **fields)
        settlement.refresh_from_db()
    return settlement


def fetch(settlement: Settlement) -> Settlement:
    """The settlement as a page loads it (fresh, with its lines prefetched)."""
    return (
        Settlement.objects.select_related("location", "organization")
        .prefetch_related("sales", "payments", "cash_movements")
        .get(pk=settlement.pk)
    )


@pytest.fixture
def example_settlement(location, worked_example) -> Settlement:
    return make_settlement(location, settlement_from_json(worked_example["settlement"]))


@pytest.fixture(autouse=True)
def norwegian():
    with translation.override("nb"):
        yield


def render(preview) -> str:
    return render_to_string("accounting/_voucher_preview.html", {"preview": preview})


def test_it_previews_exactly_the_worked_example_voucher(org, example_settlement, worked_example):
    import_mapping(organization=org, data=worked_example["mapping"])

    preview = voucher_preview(settlement=fetch(example_settlement))

    voucher = preview["voucher"]
    assert isinstance(voucher, Voucher)
    assert [row.as_json() for row in voucher.rows] == worked_example["voucher"]["rows"]
    assert voucher.total_debit == voucher.total_credit == D("10670.00")
    assert voucher.reference == f"BO-{example_settlement.pk}"
    assert voucher.text == (
        f"Dagsoppgjør 27.11.2026 Fjordkafé Sentrum KASSE-1 Z1042 [BO-{example_settlement.pk}]"
    )
    html = render(preview)
    assert "Salg Klær 25 %" in html
    assert "Utgående mva 15 %" in html
    assert "10\u00a0670,00" in html  # the totals, as a Norwegian reads them
    assert "3\u00a0478,26" in html
    assert "mangler" not in html


def test_it_shows_vipps_missing_instead_of_a_preview_when_the_vipps_mapping_is_removed(
    org, example_settlement, worked_example
):
    mapping = dict(worked_example["mapping"])
    mapping["payments"] = {k: v for k, v in mapping["payments"].items() if k != "vipps"}
    import_mapping(organization=org, data=mapping)

    preview = voucher_preview(settlement=fetch(example_settlement))

    assert "voucher" not in preview
    assert preview["missing"] == ["Betalingsmåten vipps mangler konto"]
    html = render(preview)
    assert "Betalingsmåten vipps mangler konto" in html
    assert 'href="/oppsett/kontooppsett/"' in html
    assert "<table" not in html


def test_it_lists_everything_that_must_be_mapped_when_there_is_no_kontooppsett(example_settlement):
    preview = voucher_preview(settlement=fetch(example_settlement))
    assert "Salg 15 % mangler konto og MVA-kode" in preview["missing"]
    assert "Utgående mva 15 % mangler konto" in preview["missing"]
    assert len(preview["missing"]) == 13


def test_it_tells_an_unbalanced_settlement_apart(org, location, worked_example):
    body = dict(worked_example["settlement"], z_number=1043, tips="160.00")
    settlement = make_settlement(location, settlement_from_json(body))
    import_mapping(organization=org, data=worked_example["mapping"])

    preview = voucher_preview(settlement=fetch(settlement))

    assert preview == {"unbalanced": D("-10.00")}
    html = render(preview)
    assert "går ikke i balanse" in html
    assert "10,00" in html


def test_it_uses_only_the_settlements_own_organisation_mapping(
    org, other_org, example_settlement, worked_example
):
    import_mapping(organization=other_org, data=worked_example["mapping"])
    preview = voucher_preview(settlement=fetch(example_settlement))
    assert "missing" in preview


def test_it_previews_in_a_constant_number_of_queries(
    org, example_settlement, worked_example, django_assert_max_num_queries
):
    import_mapping(organization=org, data=worked_example["mapping"])
    settlement = fetch(example_settlement)
    with django_assert_max_num_queries(5):
        voucher_preview(settlement=settlement)
