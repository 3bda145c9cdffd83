"""(4) Quota use: with the simulator's quota at N requests/minute/endpoint and 4 workers
sharing the Redis limiter (backoffice/ratelimit.py), vouchers posted per minute ÷ N over a
run long enough to matter (target ≥ 0.95), and the count of 429 answers (target 0).

Plan (bench/README.md): the simulator under gunicorn on a bench port with
visma_sandbox.services.set_quota(N) (N = 120/min so a 2-minute run posts ~240 vouchers and
stays inside the 10-minute budget), VISMA_RATE_LIMIT_PER_MINUTE = N, many organisations
with due settlements, a Celery worker with --concurrency 4 (or 4 processes running the
export task) for 2+ full minutes; posted per minute from the simulator's stored vouchers
÷ N, and the simulator's 429 count. The simulator counts in fixed minute windows, the
limiter in a sliding 60 s window (stricter), so 0 429s is expected; the ratio shows how
much of the quota the limiter's waiting leaves unused.
"""

from .common import pending

NEEDS = "the export Celery task and the client wired to backoffice/ratelimit.py"


def run() -> dict:
    return pending(
        4,
        "Quota use",
        NEEDS,
        [
            ("vouchers posted per minute ÷ quota N (4 workers)", "≥ 0.95"),
            ("429 answers from the simulator", "= 0"),
        ],
    )
