"""(2) Database economy: queries per exported settlement, for settlements of 10, 100 and
1 000 lines (target: constant, not growing with lines).

Plan (bench/README.md): one organisation connected to the simulator, 20 due settlements of
each size (bench.data.settlement_data turned into rows), the export run under
django.test.utils.CaptureQueriesContext; queries ÷ settlements per size, and the ratio
1 000 lines ÷ 10 lines (target 1.0: lines are prefetched, the claim and the record are a
fixed number of statements per settlement).
"""

from .common import pending

NEEDS = "the export service (integrations/visma export: claim → build → post → record)"


def run() -> dict:
    return pending(
        2,
        "Database economy",
        NEEDS,
        [
            ("queries per exported settlement, 10 lines", "constant"),
            ("queries per exported settlement, 100 lines", "constant"),
            ("queries per exported settlement, 1 000 lines", "constant"),
            ("queries 1 000 ÷ 10 lines", "= 1.0"),
        ],
    )
