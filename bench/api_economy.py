"""(1) API economy: Visma requests per posted voucher over a run of 1 000 settlements across
100 organisations (target: 1 POST /vouchers each, plus a small constant per organisation
per run; both reported).

The simulator runs under gunicorn with the bench settings (bench/visma.py, port 8107);
100 organisations (BENCH_API_ORGS) are connected to it through the production OAuth code
(all to the demo company "Fjordkafé AS": vouchers are told apart by their reference), each
with the worked example's kontooppsett and 10 due settlements. `export_organization` runs
in-process for each organisation, as the scheduled task does. Every request the production
client sends is counted by endpoint (its one entry point, client._request); the posted
vouchers are counted in the simulator's own table. The quota is lifted for this one
(simulator and limiter): here the count matters, not the pace, which (4) measures.
"""

from __future__ import annotations

import os
import time

from django.test.utils import override_settings

from integrations.visma.models import SettlementExport

from .common import figure, result

ORGS = int(os.environ.get("BENCH_API_ORGS", "100"))
PER_ORG = 10


def run() -> dict:
    from integrations.visma.models import ExportRun
    from integrations.visma.transfer import export_organization
    from settlements.models import Settlement
    from visma_sandbox import services as sandbox
    from visma_sandbox.models import SandboxVoucher

    from .visma import connected_orgs, counting_requests, simulator

    with simulator() as env, override_settings(VISMA_RATE_LIMIT_PER_MINUTE=100_000):
        sandbox.set_quota(100_000)
        start = time.perf_counter()
        orgs = connected_orgs(ORGS, PER_ORG, env, prefix="api")
        setup_s = time.perf_counter() - start
        vouchers_before = SandboxVoucher.objects.count()
        start = time.perf_counter()
        results = {}
        with counting_requests() as counts:
            for org in orgs:
                run_result = export_organization(
                    organization=org, trigger=ExportRun.Trigger.SCHEDULE
                )
                for outcome in run_result.outcomes:
                    results[outcome.result] = results.get(outcome.result, 0) + 1
        export_s = time.perf_counter() - start
        sandbox.set_quota(None)
    posted_in_visma = SandboxVoucher.objects.count() - vouchers_before
    posted_here = Settlement.objects.filter(
        visma_export__state=SettlementExport.State.POSTED
    ).count()
    voucher_posts = sum(
        n for (method, ep), n in counts.items() if method == "POST" and ep == "vouchers"
    )
    # The Z-report PDF of each voucher (issue 18, item 1): one upload and one link per
    # voucher, counted apart from the per-organisation constant.
    attachment_requests = sum(
        n
        for (method, ep), n in counts.items()
        if method == "POST" and ep in ("attachments", "attachmentlinks")
    )
    other = sum(counts.values()) - voucher_posts - attachment_requests
    settlements = ORGS * PER_ORG
    per_voucher = voucher_posts / posted_in_visma if posted_in_visma else float("inf")
    figures = [
        figure(
            f"POST /vouchers per posted voucher ({settlements} settlements, {ORGS} orgs)",
            round(per_voucher, 2),
            "= 1.00",
            voucher_posts == posted_in_visma == settlements,
        ),
        figure(
            "other Visma requests per organisation per run",
            round(other / ORGS, 2),
            "small constant (≤ 5)",
            other / ORGS <= 5,
        ),
        figure(
            "attachment requests per posted voucher (upload + link of its Z-report)",
            round(attachment_requests / posted_in_visma, 2) if posted_in_visma else 0,
            "≤ 2",
            bool(posted_in_visma) and attachment_requests <= 2 * posted_in_visma,
        ),
        figure(
            "vouchers in the simulator / settlements posted", f"{posted_in_visma} / {posted_here}"
        ),
        figure(
            "export wall time; vouchers/s (no quota)",
            f"{export_s:.0f} s; {settlements / export_s:.1f}/s",
        ),
    ]
    by_endpoint = {f"{m} {ep}": n for (m, ep), n in sorted(counts.items())}
    return result(
        1,
        "API economy",
        figures,
        notes=[
            f"requests by endpoint: {by_endpoint}",
            f"outcomes: {results}; setup of {ORGS} connected orgs {setup_s:.0f} s",
            "token requests are not in the count (none needed: the tokens are fresh)",
        ],
        context={"requests_by_endpoint": by_endpoint, "outcomes": results},
    )
