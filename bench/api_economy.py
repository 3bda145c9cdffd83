"""(1) API economy: Visma requests per posted voucher over a run of 1 000 settlements across
100 organisations (target: 1 POST /vouchers each, plus a small constant per organisation per
run; both reported).

Plan (bench/README.md): 100 organisations connected to the simulator (one sandbox company
each), 10 due settlements each (bench.data.bulk_settlements), run the export of every
organisation through the same code as the scheduled task, then count the simulator's
received requests by endpoint: POST /vouchers ÷ posted vouchers (target 1.00) and every
other request ÷ organisations (token refresh, fiscal years, ...: a small constant).
"""

from .common import pending

NEEDS = "the export service (integrations/visma export: claim → build → post → record)"


def run() -> dict:
    return pending(
        1,
        "API economy",
        NEEDS,
        [
            ("POST /vouchers per posted voucher (1 000 settlements, 100 orgs)", "= 1.00"),
            ("other Visma requests per organisation per run", "small constant (≤ 5)"),
        ],
    )
