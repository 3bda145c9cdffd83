"""(2) Database economy: queries per exported settlement, for settlements of 10, 100 and
1 000 lines (target: constant, not growing with lines).

The simulator under gunicorn (bench/visma.py), organisations connected to the demo
company, whose chart gets the extra accounts of bench.data.mapping_json(1 000) so every
line is postable; settlements from bench.data.settlement_data stored with
ingest_settlement. For each size, one organisation with 10 due settlements and one with
20 are exported under CaptureQueriesContext: (queries at 20 − queries at 10) ÷ 10 is the
cost of one settlement without the run's constant (pre-flight, chart refresh, run record).
Judged: that per-settlement cost at 1 000 lines ÷ at 10 lines (target ≈ 1).
"""

from __future__ import annotations

import time

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext, override_settings

from .common import figure, result

SIZES = (10, 100, 1000)


def _add_accounts(company_name: str) -> None:
    """The accounts that mapping_json(1 000) uses, present and active in the demo chart."""
    from visma_sandbox import services as sandbox
    from visma_sandbox.models import SandboxAccount

    from .data import mapping_json

    mapping = mapping_json(max(SIZES))
    numbers = {g["account"] for g in mapping["sales_by_product_group"].values()}
    numbers |= set(mapping["payments"].values())
    company = sandbox.get_company(company_name)
    # Each fiscal year has its own chart.
    SandboxAccount.objects.bulk_create(
        [
            SandboxAccount(company=company, fiscal_year=year, number=n, name=f"Benk {n}")
            for year in company.fiscal_years.all()
            for n in sorted(numbers)
        ],
        ignore_conflicts=True,
    )
    # The demo chart keeps a few accounts inactive (e.g. 1950) to test that check.
    SandboxAccount.objects.filter(company=company, number__in=numbers).update(is_active=True)


def _org_with(lines: int, count: int, env, tag: str):
    from accounting.services import save_mapping
    from settlements.services import ingest_settlement

    from .data import business_day, make_member, make_org, mapping_data, settlement_data
    from .visma import connect

    org, stores = make_org(f"db-{tag}")
    admin = make_member(org, f"db-admin-{tag}")
    save_mapping(organization=org, mapping=mapping_data(lines))
    for z in range(1, count + 1):
        ingest_settlement(
            location=stores[0],
            data=settlement_data(lines, z_number=z, day=business_day(1 + z), reference=f"Z{z}"),
        )
    connect(org, admin, env)
    return org


def _export_queries(org) -> tuple[int, int, float, list[str]]:
    from integrations.visma.transfer import export_organization

    # A full query log (9 000 entries, left by an earlier benchmark) would count 0.
    reset_queries()
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        run = export_organization(organization=org)
        seconds = time.perf_counter() - start
    problems = sorted(
        {o.message for o in run.outcomes if o.result != "posted"} | {run.message} - {""}
    )
    return len(ctx.captured_queries), run.count("posted"), seconds, problems


def run() -> dict:
    from visma_sandbox import services as sandbox

    from .visma import COMPANY, simulator

    per_settlement: dict[int, float] = {}
    detail = {}
    # The tills' API limits (issue 17: 500 sale lines, 200 new names a day) would refuse the
    # 1 000-line settlements this measures; they are not what is measured here.
    with (
        simulator() as env,
        override_settings(
            VISMA_RATE_LIMIT_PER_MINUTE=100_000,
            SETTLEMENT_MAX_SALES=10_000,
            SETTLEMENT_MAX_PAYMENTS=10_000,
            SETTLEMENT_NEW_NAMES_PER_DAY=100_000,
        ),
    ):
        sandbox.set_quota(100_000)
        _add_accounts(COMPANY)
        for lines in SIZES:
            ten = _org_with(lines, 10, env, f"{lines}-10")
            twenty = _org_with(lines, 20, env, f"{lines}-20")
            q10, posted10, s10, problems10 = _export_queries(ten)
            q20, posted20, s20, problems20 = _export_queries(twenty)
            per_settlement[lines] = (q20 - q10) / 10
            detail[lines] = {
                "queries_10": q10,
                "queries_20": q20,
                "posted": [posted10, posted20],
                "seconds": [round(s10, 2), round(s20, 2)],
                "problems": sorted(set(problems10 + problems20))[:3],
            }
        sandbox.set_quota(None)

    all_posted = all(d["posted"] == [10, 20] for d in detail.values())
    ratio = per_settlement[1000] / per_settlement[10] if per_settlement[10] else float("inf")
    figures = [
        figure(
            f"queries per exported settlement, {str(lines) if lines < 1000 else '1 000'} lines",
            per_settlement[lines],
            "constant",
        )
        for lines in SIZES
    ]
    figures += [
        figure(
            "queries per settlement 1 000 ÷ 10 lines", round(ratio, 2), "≈ 1 (≤ 1.1)", ratio <= 1.1
        ),
        figure("every settlement posted (10 + 20 per size)", all_posted, "True", all_posted),
        figure(
            "queries per run (10 settlements), 10 / 100 / 1 000 lines",
            " / ".join(str(detail[n]["queries_10"]) for n in SIZES),
        ),
    ]
    return result(
        2,
        "Database economy",
        figures,
        notes=[f"{n} lines: {d}" for n, d in detail.items()],
        context={"detail": detail},
    )
