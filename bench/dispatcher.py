"""(6) Dispatcher: wall time and queries of one tick over 10 000 organisations with 1 % due
(target: a constant number of queries, i.e. the same as for 100 organisations).

Plan (bench/README.md): 10 000 organisations with transfer settings bulk-created, 100 of
them due now (next run in the past), the tick called in-process with the Celery enqueue
replaced by a counter, under CaptureQueriesContext; then the same with 100 organisations
(1 due). Figures: queries at 10 000 vs at 100 (target equal), tasks enqueued (= 100, each
organisation once), a second tick right after enqueues 0 (the conditional UPDATE), and the
tick's wall time as context.
"""

from .common import pending

NEEDS = "the dispatcher (scheduled transfer: conditional UPDATE claim + enqueue)"


def run() -> dict:
    return pending(
        6,
        "Dispatcher tick",
        NEEDS,
        [
            ("queries per tick, 10 000 orgs (100 due) vs 100 orgs", "equal (constant)"),
            ("export tasks enqueued by the tick", "= 100"),
            ("tasks enqueued by a second tick", "= 0"),
        ],
    )
