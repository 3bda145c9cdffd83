"""Defects the fault matrix found in the transfer, each pinned by its own test."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import override_settings

from integrations.visma import client, selectors, transfer
from integrations.visma.models import Problem, SettlementExport
from integrations.visma.tasks import export_organization_task
from tests.conftest import status_of
from tests.transfer.conftest import vouchers_in
from visma_sandbox import services as sandbox

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State


def timing_out_first_post(monkeypatch, *, latency_ms: int = 1500, timeout: int = 1) -> dict:
    """The first POST /vouchers waits longer at the simulator than we do: we give up, it
    stores the voucher a moment later. Returns the count of POSTs sent."""
    original = client.create_voucher
    posts = {"n": 0}

    def create_voucher(token, payload, **kwargs):
        posts["n"] += 1
        if posts["n"] > 1:
            return original(token, payload, **kwargs)
        sandbox.set_fault(latency_ms=latency_ms)
        try:
            with override_settings(VISMA_TIMEOUT_SECONDS=timeout):
                return original(token, payload, **kwargs)
        finally:
            sandbox.set_fault(latency_ms=0)

    monkeypatch.setattr(client, "create_voucher", create_voucher)
    return posts


def test_it_does_not_post_again_while_a_timed_out_post_may_still_land(
    org, connect, mapped, ingest, worked_example, monkeypatch
):
    """Defect 1: after a read timeout the next run searched at once, found nothing (the
    simulator was still working on the first POST), posted again: two vouchers."""
    monkeypatch.setattr(selectors, "STALE_CLAIM", timedelta(seconds=2))
    connect(org)
    settlement = ingest(worked_example["settlement"])
    posts = timing_out_first_post(monkeypatch)

    first = transfer.export_organization(organization=org)
    assert first.summary()["failed"] == 1
    settlement.refresh_from_db()
    assert (status_of(settlement).state, status_of(settlement).problem) == (
        State.UNCERTAIN,
        Problem.IN_FLIGHT,
    )
    # The scheduled task's retry waits for the POST to land, not just its first minute.
    assert 1 < first.seconds_until_retry() <= 2

    # Retried at once ("Prøv igjen", another run): no search, no second POST.
    second = transfer.export_organization(organization=org)
    assert [o.result for o in second.outcomes] == ["uncertain"]
    assert posts["n"] == 1
    time.sleep(0.8)
    assert vouchers_in().count() == 1  # the first POST landed after all

    time.sleep(1.3)
    third = transfer.export_organization(organization=org)
    assert [o.result for o in third.outcomes] == ["found"]
    assert posts["n"] == 1
    [voucher] = vouchers_in()
    record = SettlementExport.objects.get(settlement=settlement)
    assert record.visma_voucher_id == str(voucher.uuid) and record.found_by_search


def test_the_task_retries_a_timed_out_post_only_after_it_may_have_landed(
    org, connect, mapped, ingest, worked_example, monkeypatch
):
    connect(org)
    ingest(worked_example["settlement"])
    timing_out_first_post(monkeypatch)
    retried = {}

    def retry(**kwargs):
        retried.update(kwargs)

    monkeypatch.setattr(export_organization_task, "retry", retry)
    export_organization_task(org.pk)

    # STALE_CLAIM (10 minutes) rather than the first step of the back-off (1 minute).
    assert retried["countdown"] > 500


def test_it_goes_on_posting_while_the_rate_limiters_redis_is_down(
    org, connect, mapped, ingest, worked_example, monkeypatch
):
    """Defect 2: with the shared limiter's Redis restarting, the limiter raised a redis
    ConnectionError out of the run: the task failed, the settlement it held stayed
    "overføres" for ten minutes and the rest of the run never went out."""
    from backoffice import ratelimit

    connect(org)
    settlement = ingest(worked_example["settlement"])
    # Nothing listens on port 1: every call to this limiter's Redis is refused.
    monkeypatch.setattr(
        ratelimit, "_limiter", ratelimit.SlidingWindowLimiter(redis_url="redis://127.0.0.1:1/0")
    )
    monkeypatch.setattr(client, "_local_limiter", None)

    result = transfer.export_organization(organization=org)

    assert result.summary()["posted"] == 1
    settlement.refresh_from_db()
    assert status_of(settlement).state == State.POSTED
    assert vouchers_in().count() == 1


def test_a_full_rate_limiter_keeps_the_request_back_as_visma_would(monkeypatch):
    from backoffice import ratelimit

    class Full:
        def acquire(self, key, limit):
            raise TimeoutError("rate limit: no slot within 120 s")

    monkeypatch.setattr(ratelimit, "_limiter", Full())
    with pytest.raises(client.RateLimited) as caught:
        client.get_company_settings("token")  # refused before any HTTP
    assert caught.value.retry_after == 60


def test_an_unexpected_error_mid_post_leaves_no_claim_behind(
    org, connect, mapped, ingest, worked_example, monkeypatch
):
    """Defect 3: any exception that is not a Visma error (a defect, a dependency) escaped
    the run with the settlement still claimed ("overføres") and its doubt written ahead,
    and the settlements after it waited for the next scheduled run."""
    connect(org)
    first = ingest(worked_example["settlement"])
    second = ingest(dict(worked_example["settlement"], z_number=1043))
    original = client.before_request
    calls = {"posts": 0}

    def before_request(endpoint):
        if endpoint == "vouchers":
            calls["posts"] += 1
            if calls["posts"] == 1:
                raise RuntimeError("something we did not foresee")
        return original(endpoint)

    monkeypatch.setattr(client, "before_request", before_request)

    result = transfer.export_organization(organization=org)

    assert [o.result for o in result.outcomes] == ["uncertain", "posted"]
    assert result.retry_soon  # the scheduled task tries again soon
    first.refresh_from_db()
    assert status_of(first).state == State.UNCERTAIN
    assert "RuntimeError" in status_of(first).reason
    assert SettlementExport.objects.get(settlement=first).in_doubt  # next time: search first
    assert vouchers_in().count() == 1

    result = transfer.export_organization(organization=org)

    assert [o.result for o in result.outcomes] == ["posted"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert status_of(first).state == status_of(second).state == State.POSTED
    assert vouchers_in().count() == 2


def test_a_sqlite_database_url_opens_the_file_like_the_default_does():
    """Defect 4: a worker given DATABASE_URL=sqlite:///… (how tests and a SQLite
    deployment share the file) opened it without the busy timeout and IMMEDIATE
    transactions, and two workers failed each other at once with "database is locked"
    (the voucher was in Visma, its record was not written)."""
    from backoffice.settings import database_from_url

    default = database_from_url(None)
    from_url = database_from_url("sqlite:////tmp/shared.sqlite3")

    assert from_url["NAME"] == "/tmp/shared.sqlite3"
    assert from_url["OPTIONS"] == default["OPTIONS"]
