"""(4) Quota use: with the simulator's quota at N requests/minute per client and endpoint
and 4 workers sharing the limiter, vouchers posted per minute ÷ N (target ≥ 0.95) and the
count of 429s (target 0).

The simulator under gunicorn (bench/visma.py) with `set_quota(N)`, N = 60 so a run of
~80 s spans more than one window and fits the budget; the exporters run with
VISMA_RATE_LIMIT_PER_MINUTE = N (the limiter in Redis, shared by the threads: each thread
has its own connections, as a Celery worker process would). 4 threads export different
organisations' due settlements (5 each) one organisation after the other until RUN_SECONDS
have passed. Every request is time-stamped on the client side (bench/visma.py).

Vouchers per minute: the POST /vouchers that Visma accepted in whole minutes counted from
the first POST, up to when the first worker ran out of work, ÷ the minutes, ÷ N.
The limiter admits N − 1 % (59 for 60) in any sliding 60 s, so ≈ 0.98 is its ceiling; the
chart refresh's GETs are other endpoints with their own quota.
"""

from __future__ import annotations

import os
import threading
import time

from django.db import connection
from django.test.utils import override_settings

from .common import figure, result

N = int(os.environ.get("BENCH_QUOTA_N", "60"))
RUN_SECONDS = float(os.environ.get("BENCH_QUOTA_SECONDS", "125"))
WORKERS = 4
ORGS = 18
PER_ORG = 10
TARGET = 0.95


def run() -> dict:
    from integrations.visma.transfer import export_organization
    from visma_sandbox import services as sandbox

    from .visma import connected_orgs, counting_requests, simulator

    errors: list[str] = []
    with simulator(workers=2) as env, override_settings(VISMA_RATE_LIMIT_PER_MINUTE=N):
        orgs = connected_orgs(ORGS, PER_ORG, env, prefix="quota")
        sandbox.set_quota(N)

        idle_at: list[float] = []

        def worker(mine: list, deadline: float) -> None:
            try:
                for org in mine:
                    if time.monotonic() >= deadline:
                        break
                    export_organization(organization=org)
            except Exception as exc:  # reported, not hidden
                errors.append(repr(exc))
            finally:
                idle_at.append(time.monotonic())
                connection.close()

        with counting_requests() as counts:
            start = time.monotonic()
            deadline = start + RUN_SECONDS
            threads = [
                threading.Thread(target=worker, args=(orgs[k::WORKERS], deadline))
                for k in range(WORKERS)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            end = time.monotonic()
        sandbox.set_quota(None)

    posts = sorted(
        t
        for t, method, ep, status in counts.stamps
        if ep == "vouchers" and status < 300 and method == "POST"
    )
    too_many = sum(n for (kind, _ep), n in counts.items() if kind == "429")
    # The limiter lets a burst through, then waits until the sliding minute frees slots, so
    # the pace is judged over whole minutes from the first POST, up to the moment the first
    # worker ran out of work (after that fewer than 4 compete).
    t0 = posts[0] if posts else start
    minutes = int((min(idle_at, default=end) - t0) // 60)
    in_minutes = sum(1 for p in posts if p < t0 + 60 * minutes)
    per_minute = in_minutes / minutes if minutes else 0.0
    ratio = per_minute / N
    figures = [
        figure(
            f"vouchers posted per minute ÷ N (N = {N}/min, {WORKERS} workers)",
            round(ratio, 3),
            f"≥ {TARGET}",
            ratio >= TARGET,
        ),
        figure("429 answers from the simulator", too_many, "= 0", too_many == 0),
        figure(
            "vouchers posted; run length",
            f"{len(posts)}; {end - start:.0f} s",
        ),
    ]
    by_endpoint = {f"{m} {ep}": n for (m, ep), n in sorted(counts.items())}
    notes = [
        f"{in_minutes} vouchers in the first {minutes} whole minutes from the first POST "
        f"(all {WORKERS} workers busy): {per_minute:.1f}/min; the limiter admits "
        f"{N - max(1, N // 100)} per sliding minute",
        f"requests by endpoint: {by_endpoint}",
    ]
    if errors:
        notes.append(f"worker errors: {errors[:3]}")
    return result(
        4, "Quota use", figures, notes=notes, context={"requests_by_endpoint": by_endpoint}
    )
