"""What every benchmark returns, and the shape of a figure in the table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def figure(name: str, value, target: str = "", ok: bool | None = None, unit: str = "") -> dict:
    """One row of the table. ok=None: context only (a wall time, a count beside the point)."""
    return {"figure": name, "value": value, "unit": unit, "target": target, "ok": ok}


def result(
    number: int, title: str, figures: list[dict], *, notes: list[str] = (), context=None
) -> dict:
    judged = [f["ok"] for f in figures if f["ok"] is not None]
    verdict = "ok" if judged and all(judged) else ("gap" if judged else "pending")
    return {
        "id": number,
        "title": title,
        "figures": figures,
        "verdict": verdict,
        "notes": list(notes),
        "context": context or {},
    }


def pending(number: int, title: str, needs: str, figures: list[tuple[str, str]]) -> dict:
    """A benchmark whose code does not exist yet: every figure says what it waits for."""
    message = f"not yet measured: needs {needs}"
    return {
        "id": number,
        "title": title,
        "figures": [figure(name, "not yet measured", target) for name, target in figures],
        "verdict": "pending",
        "notes": [message],
        "context": {},
    }


def best_of(fn: Callable[[], object], *, rounds: int = 5) -> float:
    """The fastest of `rounds` runs of fn, in seconds: on a shared machine the minimum is the
    run least disturbed by others."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def median_of(fn: Callable[[], object], *, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
