"""(3) Builder cost: vouchers built per second for settlements of 10, 100 and 1 000 lines,
and how the cost per line grows (target: linear, i.e. the cost per line roughly constant).

Pure CPU, no database: `accounting.builder.build_voucher` on plain values. The sizes are
measured interleaved, round after round, and the fastest round of each counts, so a
neighbour's burst of CPU hits all sizes alike instead of one.
"""

from __future__ import annotations

import time

from accounting.builder import build_voucher
from accounting.mapping import mapping_from_json

from .common import figure, result
from .data import mapping_json, settlement_data

SIZES = (10, 100, 1000)
ROUNDS = 5
LINES_PER_SAMPLE = 20_000  # each timed sample builds about this many lines
MAX_PER_LINE_RATIO = 3.0


def _no_overrides(lines: int):
    """The same settlement with a kontooppsett without product-group accounts: every sale
    line falls into its rate's row (4 sales rows, whatever the number of lines)."""
    data = mapping_json(lines)
    data["sales_by_product_group"] = {}
    return mapping_from_json(data, catalog=None)


def _per_voucher(cases: dict[int, tuple]) -> dict[int, float]:
    best = {lines: float("inf") for lines in cases}
    for _round in range(ROUNDS):
        for lines, (settlement, mapping) in cases.items():
            repeat = max(1, LINES_PER_SAMPLE // lines)
            start = time.perf_counter()
            for _ in range(repeat):
                build_voucher(settlement, mapping)
            best[lines] = min(best[lines], (time.perf_counter() - start) / repeat)
    return best


def run() -> dict:
    cases = {}
    rows = {}
    for lines in SIZES:
        settlement = settlement_data(lines)
        mapping = mapping_from_json(mapping_json(lines), catalog=None)
        voucher = build_voucher(settlement, mapping)  # also checks it builds at all
        rows[lines] = len(voucher.rows)
        cases[lines] = (settlement, mapping)
    seconds = _per_voucher(cases)

    flat_cases = {lines: (settlement_data(lines), _no_overrides(lines)) for lines in SIZES}
    flat_seconds = _per_voucher(flat_cases)

    small, large = SIZES[0], SIZES[-1]
    per_line = {lines: seconds[lines] / lines for lines in SIZES}
    ratio = per_line[large] / per_line[small]
    flat_ratio = (flat_seconds[large] / large) / (flat_seconds[small] / small)
    figures = [
        figure(
            f"vouchers/s, {lines} lines ({rows[lines]} rows)",
            round(1 / seconds[lines], 1),
            unit="/s",
        )
        for lines in SIZES
    ]
    figures += [
        figure(
            f"µs per line, {lines} lines",
            round(per_line[lines] * 1e6, 2),
            unit="µs",
        )
        for lines in SIZES
    ]
    figures += [
        figure(
            "time ratio per 10x lines (10→100, 100→1000)",
            f"{seconds[100] / seconds[10]:.1f}, {seconds[1000] / seconds[100]:.1f}",
            "≈10 (linear)",
        ),
        figure(
            "cost per line 1000 ÷ 10 lines (own account per group)",
            round(ratio, 2),
            f"≤ {MAX_PER_LINE_RATIO:g}",
            ratio <= MAX_PER_LINE_RATIO,
        ),
        figure(
            "cost per line 1000 ÷ 10 lines (all groups on their rate's account)",
            round(flat_ratio, 2),
            f"≤ {MAX_PER_LINE_RATIO:g}",
            flat_ratio <= MAX_PER_LINE_RATIO,
        ),
    ]
    return result(
        3,
        "Builder cost",
        figures,
        context={
            "seconds_per_voucher": {str(k): v for k, v in seconds.items()},
            "seconds_per_voucher_no_overrides": {str(k): v for k, v in flat_seconds.items()},
            "rows": {str(k): v for k, v in rows.items()},
        },
    )
