"""The fault matrix: Visma and our own machinery break on purpose while hundreds of
settlements of three organisations go to the simulator, and afterwards every postable
settlement has exactly one voucher in Visma, none has two, and every other one has a
state that says why (issue 8, part 1).

- In this process (the production export called from the test): (a) answers lost after
  Visma stored the voucher, (b) 5xx, (c) 429 bursts, (d) timeouts, (e) access tokens
  expiring mid-run, (f) the refresh token revoked, then a reconnect.
- Real Celery worker processes against the same live server and database: (g) a worker
  SIGKILLed in the middle of a POST, (h) Redis restarted during a run, (i) two beat
  processes at once.
- (j) the search filter refused, (k) a company change on reconnect, (l) the Z-report PDF's
  upload failing, (m) settlements already in Visma corrected with the answers of reversals
  lost after Visma stored them (each reversal, like each voucher, is in Visma exactly once),
  (n) vouchers deleted (and changed) in Visma by its users after they were posted.

The counts are printed at the end of the run (conftest.py); FAULT_SETTLEMENTS sets the
volume (`make soak`).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations.visma import attachments, client, reconcile, selectors, transfer
from integrations.visma.models import (
    ExportRun,
    Problem,
    SettlementExport,
    TransferSettings,
    VismaConnection,
    VoucherAttachment,
)
from integrations.visma.tasks import export_organization_task
from settlements.models import Settlement
from visma_sandbox import services as sandbox
from visma_sandbox.models import FaultSwitch, SandboxVoucher

from .processes import broker_app, fault_worker, start_throwaway_redis, stop_throwaway_redis
from .support import (
    SEED,
    SETTLEMENTS,
    TALLY,
    WORKER_SETTLEMENTS,
    Shop,
    attachment_census,
    correct_posted,
    correction_census,
    due_left,
    populate,
    scaled,
    settle_and_count,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

State = SettlementExport.State

# (d): the simulator answers after LATENCY, the client gives up after TIMEOUT; the voucher
# is stored after the client gave up.
TIMEOUT_SECONDS = 1
LATENCY_MS = 1500


def assert_exactly_once(result, name: str) -> None:
    assert result.duplicates == 0, f"{name}: {result.duplicates} duplicate vouchers"
    assert result.lost == 0, f"{name}: {result.lost} settlements lost"
    assert not result.problems, f"{name}: " + "\n".join(result.problems)


def reconnect_where_needed(shops: list[Shop], connect) -> int:
    """What the admin does after the "må kobles til på nytt" e-mail."""
    reconnected = 0
    for shop in shops:
        status = VismaConnection.objects.get(organization=shop.organization).status
        if status == VismaConnection.Status.RECONNECT_REQUIRED:
            connect(shop.organization, shop.company)
            reconnected += 1
    return reconnected


# --------------------------------------------------------------------------- (a)–(f)


class Injector:
    """Wraps client.create_voucher and client.list_vouchers and, on a planned subset of
    the calls, arms one of the simulator's fault switches just before the request."""

    def __init__(
        self,
        rng: random.Random,
        plans: dict[int, list[str]],
        search_plan: list[str],
        posts: dict[int, int],
    ):
        self.rng = rng
        # Per organisation: its n-th POST -> fault kind, spread over the first nine tenths
        # of its posts.
        self.at_post = {}
        for pk, plan in plans.items():
            positions = rng.sample(range(max(len(plan), posts[pk] * 9 // 10)), k=len(plan))
            self.at_post[pk] = dict(zip(positions, plan, strict=True))
        self.search_plan = list(search_plan)
        self.posts: Counter = Counter()
        self.searches = 0
        self.shop: Shop | None = None
        self.injected: Counter = Counter()
        self.injected_at_post: Counter = Counter()
        self.in_flight_until = 0.0  # when the timed-out requests have surely landed
        self.original_create = client.create_voucher
        self.original_list = client.list_vouchers

    @property
    def exhausted(self) -> bool:
        return not any(self.at_post.values()) and not self.search_plan

    def create_voucher(self, token, payload, **kwargs):
        pk = self.shop.organization.pk
        kind = self.at_post[pk].pop(self.posts[pk], None)
        if kind and self._still_armed():
            # Faults do not overlap (a 429 left for the admin's reconnect proves nothing):
            # this one moves to the organisation's next free POST.
            later = self.posts[pk] + 1
            while later in self.at_post[pk]:
                later += 1
            self.at_post[pk][later] = kind
            kind = None
        self.posts[pk] += 1
        if kind:
            self.injected_at_post[kind] += 1
        return self._with_fault(kind, self.original_create, token, payload, **kwargs)

    def list_vouchers(self, token, **kwargs):
        if self.shop is None:
            # Not a run's search: the admin's reconnect reads vouchers once to check the
            # access (integrations.visma.services.complete_connection). Faults are planned
            # for the runs.
            return self.original_list(token, **kwargs)
        self.searches += 1
        kind = None
        if self.search_plan and self.searches % 2 and not self._still_armed():
            kind = self.search_plan.pop(0)
        return self._with_fault(kind, self.original_list, token, **kwargs)

    def _still_armed(self) -> bool:
        switch = sandbox.fault_switch(self.shop.company)
        return bool(switch.lose_after_store or switch.fail_5xx or switch.fail_429)

    def _with_fault(self, kind, call, *args, **kwargs):
        if kind is None:
            return call(*args, **kwargs)
        company = self.shop.company
        self.injected[kind] += 1
        if kind == "a":
            sandbox.set_fault(company=company, lose_after_store=1)
        elif kind == "b":
            sandbox.set_fault(company=company, fail_5xx=1)
        elif kind == "c":
            sandbox.set_fault(company=company, fail_429=2, retry_after_seconds=1)
        elif kind == "e":
            # Visma ends the token early; ours still looks valid: the call gets 401.
            sandbox.expire_access_tokens(company=company)
        elif kind == "f":
            sandbox.revoke_refresh_tokens(company=company)
            sandbox.expire_access_tokens(company=company)
        elif kind == "d":
            return self._timed_out(company, call, *args, **kwargs)
        return call(*args, **kwargs)

    def _timed_out(self, company, call, *args, **kwargs):
        sandbox.set_fault(company=company, latency_ms=LATENCY_MS)
        try:
            with override_settings(VISMA_TIMEOUT_SECONDS=TIMEOUT_SECONDS):
                call(*args, **kwargs)
        except client.TransportError:
            raise
        finally:
            sandbox.set_fault(company=company, latency_ms=0)
            # The simulator goes on after we gave up: by then it has answered.
            self.in_flight_until = time.monotonic() + LATENCY_MS / 1000 + 1
        raise AssertionError("the simulator's latency did not time the request out")


def armed_switches() -> list[str]:
    return [
        f"{switch.scope}: {switch.lose_after_store} lose, {switch.fail_5xx} 5xx, {switch.fail_429} 429"
        for switch in FaultSwitch.objects.all()
        if switch.lose_after_store or switch.fail_5xx or switch.fail_429 or switch.latency_ms
    ]


def test_it_posts_every_settlement_exactly_once_through_visma_faults(shops, connect, monkeypatch):
    """(a)–(f) over FAULT_SETTLEMENTS settlements of three organisations, in this process:
    runs one organisation after the other, round after round, as the scheduled task and
    its retries would; an admin reconnects after invalid_grant."""
    # A POST that timed out is searched for once it has had this long to land.
    monkeypatch.setattr(selectors, "STALE_CLAIM", timedelta(seconds=2))
    rng = random.Random(SEED)
    batch = populate(shops, SETTLEMENTS, rng)
    plan = (
        ["a"] * scaled(6, 30)
        + ["b"] * scaled(4, 50)
        + ["c"] * scaled(2, 100)
        + ["d"] * scaled(3, 60)
        + ["e"] * scaled(3, 60)
    )
    rng.shuffle(plan)
    # Every organisation loses its grant once (f) and gets its share of the rest.
    plans = {shop.organization.pk: ["f", *plan[i :: len(shops)]] for i, shop in enumerate(shops)}
    posts = Counter(
        Settlement.objects.filter(pk__in=batch.postable).values_list("organization_id", flat=True)
    )
    search_plan = ["b", "d", "c"] * max(1, SETTLEMENTS // 200)
    rng.shuffle(search_plan)
    injector = Injector(rng, plans, search_plan, posts)
    monkeypatch.setattr(client, "create_voucher", injector.create_voucher)
    monkeypatch.setattr(client, "list_vouchers", injector.list_vouchers)

    transient = reconnects = 0
    for round_number in range(20):
        for index, shop in enumerate(shops):
            injector.shop = shop
            if round_number == 0 and index == 1:
                # A 5xx while the run reads the company: the run cannot start, nothing moves.
                sandbox.set_fault(company=shop.company, fail_5xx=1)
                injector.injected["b"] += 1
            try:
                transfer.export_organization(organization=shop.organization)
            except transfer.TransientRunError:
                transient += 1
        injector.shop = None
        reconnects += reconnect_where_needed(shops, connect)
        if injector.exhausted and not due_left(batch):
            break
        sleep_until_landed(batch)
    assert injector.exhausted, f"faults left unused: {injector.at_post} {injector.search_plan}"
    assert not due_left(batch)
    assert transient == 1
    assert reconnects == len(shops)
    assert not armed_switches(), armed_switches()

    # Let requests that timed out on our side land in Visma, then a final clean run.
    time.sleep(max(0.0, injector.in_flight_until - time.monotonic()))
    sandbox.clear_faults()
    for shop in shops:
        injector.shop = shop
        transfer.export_organization(organization=shop.organization)

    # Every voucher whose answer was lost or timed out was found by the search, not sent
    # again: the doubt path did the work, not luck.
    found = SettlementExport.objects.filter(
        settlement__in=batch.postable, found_by_search=True
    ).count()
    assert found == injector.injected_at_post["a"] + injector.injected_at_post["d"]
    result = settle_and_count(
        f"in-process (a)-(f) ({found} vouchers found by search after a lost answer or timeout)",
        shops,
        batch,
        injector.injected,
    )
    assert_exactly_once(result, "in-process faults")


def sleep_until_landed(batch) -> None:
    """When only settlements whose POST timed out are left, wait until they are due."""
    waiting = Settlement.objects.filter(
        pk__in=batch.postable,
        visma_export__state=State.UNCERTAIN,
        visma_export__problem_code=Problem.IN_FLIGHT,
    ).order_by("-updated_at")
    latest = waiting.values_list("updated_at", flat=True).first()
    if latest is not None:
        left = (latest + selectors.STALE_CLAIM - timezone.now()).total_seconds()
        time.sleep(max(0.0, left) + 0.05)


# --------------------------------------------------------------------------- (g)–(i)

STALE_SECONDS = 2


def run_everywhere(shops: list[Shop], app=None, timeout: float = 120) -> None:
    """One export task per organisation through the broker, and wait for each result."""
    if app is None:
        results = [export_organization_task.delay(s.organization.pk, "manual") for s in shops]
    else:
        results = [
            app.send_task(
                "integrations.visma.tasks.export_organization_task",
                args=(s.organization.pk, "manual"),
            )
            for s in shops
        ]
    for result in results:
        result.get(timeout=timeout)


def posting(batch) -> list[int]:
    return list(
        Settlement.objects.filter(
            pk__in=batch.postable, visma_export__state=State.POSTING
        ).values_list("pk", flat=True)
    )


def post_in_flight(batch) -> list[int]:
    """Settlements claimed with their doubt written ahead: the request is on its way."""
    return list(
        Settlement.objects.filter(
            pk__in=batch.postable, visma_export__state=State.POSTING, visma_export__in_doubt=True
        ).values_list("pk", flat=True)
    )


def test_it_recovers_from_a_worker_killed_in_the_middle_of_a_post(shops, simulator, monkeypatch):
    """(g) A real worker is SIGKILLed while its POST is on the way to Visma (which stores
    it all the same). The settlement stays claimed ("overføres"); once the claim is stale a
    new worker searches Visma first and records the voucher it finds, or posts it."""
    monkeypatch.setattr(selectors, "STALE_CLAIM", timedelta(seconds=STALE_SECONDS))
    env = dict(simulator, TRANSFER_STALE_CLAIM_SECONDS=str(STALE_SECONDS))
    rng = random.Random(SEED + 7)
    batch = populate(shops, WORKER_SETTLEMENTS, rng)
    sandbox.set_fault(latency_ms=200)  # every request takes a while: easy to catch mid-POST

    killed: set[int] = set()
    kills = scaled(2, 250)
    for _ in range(kills):
        with fault_worker(env) as proc:
            for shop in rng.sample(shops, k=len(shops)):
                export_organization_task.delay(shop.organization.pk, "manual")
            assert wait_for(lambda k=killed: set(post_in_flight(batch)) - k, timeout=60, step=0.02)
            time.sleep(rng.uniform(0.0, 0.05))  # well inside the 200 ms the POST takes
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            claimed = set(posting(batch)) - killed
            assert len(claimed) == 1, "the kill left no claim behind"
            killed |= claimed
    # The killed POSTs land at the simulator a moment later. Their claims stay until they
    # are stale; a later worker of this loop may have taken a stale one over already.
    time.sleep(0.6)
    states = Settlement.objects.filter(pk__in=killed).values_list("visma_export__state", flat=True)
    assert set(states) <= {State.POSTING, State.POSTED}

    sandbox.set_fault(latency_ms=0)
    time.sleep(STALE_SECONDS)
    with fault_worker(env):
        run_everywhere(shops)  # takes the stale claims over, and the rest
        if due_left(batch):  # tasks the killed workers had taken: gone with them
            run_everywhere(shops)
    assert not due_left(batch)

    found = Settlement.objects.filter(pk__in=killed, visma_export__found_by_search=True).count()
    result = settle_and_count(
        f"worker SIGKILLed mid-POST (g) ({found} of {len(killed)} killed posts found in Visma)",
        shops,
        batch,
        Counter(g=kills),
    )
    assert_exactly_once(result, "killed worker")


def test_it_survives_redis_restarting_during_a_run(shops, simulator, throwaway_redis):
    """(h) Redis (broker, result backend and the shared rate limiter of the worker) stops
    and starts again, without its data, while a worker posts. The run under way leaves no
    settlement "overføres"; the worker reconnects and the next run posts the rest."""
    rng = random.Random(SEED + 8)
    batch = populate(shops, WORKER_SETTLEMENTS, rng)
    app = broker_app(throwaway_redis)
    sandbox.set_fault(latency_ms=150)
    restarts = scaled(1, 500)
    total = len(batch.postable)

    with fault_worker(simulator, broker_url=throwaway_redis):
        for shop in shops:
            app.send_task(
                "integrations.visma.tasks.export_organization_task",
                args=(shop.organization.pk, "manual"),
            )
        for n in range(restarts):
            # In the middle of a run: some posted, a POST on its way.
            threshold = (n + 1) * total // (restarts * 4)
            assert wait_for(
                lambda t=threshold: total - due_left(batch) >= t and post_in_flight(batch),
                timeout=60,
                step=0.02,
            )
            stop_throwaway_redis()
            time.sleep(2)
            start_throwaway_redis()
        # The run under way ends by itself, and leaves nothing claimed behind.
        assert wait_for(
            lambda: not ExportRun.objects.filter(status=ExportRun.Status.RUNNING).exists(),
            timeout=60,
        )
        assert not posting(batch), "a settlement was left claimed by the run Redis broke"
        # Queued tasks went with Redis's memory (no persistence): the next run posts the
        # rest, through the same worker, reconnected.
        sandbox.clear_faults()
        run_everywhere(shops, app)
        run_everywhere(shops, app)  # the final run
    assert not due_left(batch)

    result = settle_and_count("Redis restarted during a run (h)", shops, batch, Counter(h=restarts))
    assert_exactly_once(result, "Redis restart")


def test_two_beats_run_each_due_organisation_once(shops, simulator):
    """(i) Two workers, each with its own embedded beat ticking every second against one
    broker, plus a manual run of every organisation at the same moment: the dispatcher's
    claim gives each due organisation one scheduled run per due time, and the
    settlement claims keep two runs of one organisation from posting anything twice."""
    rng = random.Random(SEED + 9)
    env = dict(simulator, TRANSFER_TICK_SECONDS="1")
    organizations = [shop.organization for shop in shops]
    batches = []
    rounds = scaled(2, 250)
    scheduled = Counter()
    with fault_worker(env, beat=True), fault_worker(env, beat=True):
        for _ in range(rounds):
            started = timezone.now()
            batch = populate(shops, WORKER_SETTLEMENTS // rounds, rng)
            batches.append(batch)
            TransferSettings.objects.filter(organization__in=organizations).update(
                next_run_at=timezone.now() - timedelta(seconds=1)
            )
            for organization in organizations:
                export_organization_task.delay(organization.pk, "manual")
            assert wait_for(lambda b=batch: not due_left(b), timeout=90)
            # More ticks of both beats: nothing is due any more.
            assert wait_for(
                lambda: (
                    TransferSettings.objects.filter(
                        organization__in=organizations, next_run_at__lte=timezone.now()
                    ).count()
                    == 0
                ),
                timeout=30,
            )
            time.sleep(2)  # more ticks
            # One scheduled run per organisation and due time (a task's own retry would
            # come a minute later at the soonest).
            runs = ExportRun.objects.filter(
                trigger=ExportRun.Trigger.SCHEDULE, created_at__gte=started
            ).values_list("organization_id", flat=True)
            assert Counter(runs) == {organization.pk: 1 for organization in organizations}
            scheduled.update(runs)
        run_everywhere(shops)  # the final run
    batch = batches[0]
    for other in batches[1:]:
        batch.postable |= other.postable
        batch.unbalanced |= other.unbalanced
        batch.not_due |= other.not_due
        batch.locked |= other.locked
    result = settle_and_count(
        f"two beats at once (i) ({rounds} due times, {sum(scheduled.values())} scheduled runs)",
        shops,
        batch,
        Counter(i=rounds),
    )
    assert_exactly_once(result, "two beats")


# --------------------------------------------------------------------------- (j), (k)


def lose_some_answers(shops: list[Shop], rng: random.Random) -> None:
    for shop in shops:
        sandbox.set_fault(company=shop.company, lose_after_store=rng.randint(1, 3))


def run_until_done(shops: list[Shop], batch, rounds: int = 6) -> None:
    for _ in range(rounds):
        if not due_left(batch):
            return
        for shop in shops:
            transfer.export_organization(organization=shop.organization)


def test_it_finds_lost_answers_when_visma_refuses_the_search_filter(shops, monkeypatch):
    """(j) After lost answers, Visma refuses the search's filter about half the time (the
    simulator answers 400 to a date-time compared with a bare date, as Visma's OData v4
    stack does): the search pages the vouchers without the filter and still finds them."""
    rng = random.Random(SEED + 10)
    batch = populate(shops, WORKER_SETTLEMENTS, rng)
    real = transfer.search_filter
    refused = Counter()

    def sometimes_refused(day):
        if rng.random() < 0.5:
            refused["j"] += 1
            return f"VoucherDate eq {day.isoformat()}"
        return real(day)

    monkeypatch.setattr(transfer, "search_filter", sometimes_refused)
    lose_some_answers(shops, rng)
    for shop in shops:
        transfer.export_organization(organization=shop.organization)
    sandbox.clear_faults()
    run_until_done(shops, batch)

    assert refused["j"] > 0
    result = settle_and_count("search refused (j)", shops, batch, refused)
    assert_exactly_once(result, "search refused")


def test_a_company_change_on_reconnect_posts_each_settlement_once(shops, connect):
    """(k) Fjordkafé's organisation reconnects into another company (Kiosk Vest AS) while
    some of its posts are uncertain: the change is refused until the next run resolved
    them in Fjordkafé; after the admin confirms, the rest go to the new company. Every
    settlement is in Visma exactly once, in one company or the other."""
    from integrations.visma import services

    rng = random.Random(SEED + 11)
    batch = populate(shops, WORKER_SETTLEMENTS, rng)
    shop = next(s for s in shops if s.company == "Fjordkafé AS")
    organization = shop.organization
    admin = organization.memberships.filter(role="admin").first().user
    mine = list(
        Settlement.objects.filter(organization=organization, pk__in=batch.postable)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    first = mine[: len(mine) // 2]
    sandbox.set_fault(company="Fjordkafé AS", lose_after_store=2)
    transfer.export_organization(organization=organization, settlement_ids=first)
    sandbox.clear_faults()

    with pytest.raises(services.CompanyChangeNeeded):
        connect(organization, "Kiosk Vest AS")
    with pytest.raises(services.ConnectFailed, match="usikre"):
        services.confirm_company_change(organization, user=admin)
    transfer.export_organization(organization=organization, settlement_ids=first)
    services.confirm_company_change(organization, user=admin)
    assert VismaConnection.objects.get(organization=organization).company_name == "Kiosk Vest AS"
    run_until_done(shops, batch)

    moved = SandboxVoucher.objects.filter(
        company=sandbox.get_company("Kiosk Vest AS"), voucher_text__contains=shop.locations[0].name
    )
    assert moved.exists(), "the second half went to the new company"
    result = settle_and_count("company changed on reconnect (k)", shops, batch, Counter(k=1))
    assert_exactly_once(result, "company change")


# --------------------------------------------------------------------------- (l)


def test_each_voucher_goes_once_and_gets_its_z_report_once_through_upload_faults(
    shops, monkeypatch
):
    """(l) The upload of the Z-report PDF fails (500, nothing stored) or is stored with its
    answer lost, at random uploads of every organisation: every voucher still goes in the
    first run, exactly once; the PDFs are retried on the next runs, and in the end every
    voucher has exactly its own PDF linked, none has two, and no spare copy is left."""
    rng = random.Random(SEED + 12)
    batch = populate(shops, WORKER_SETTLEMENTS, rng)
    uploads: Counter = Counter()
    plans = {}
    for shop in shops:
        mine = Settlement.objects.filter(
            pk__in=batch.postable, organization=shop.organization
        ).count()
        kinds = ["500"] * scaled(2, 50) + ["lost"] * scaled(2, 100)
        positions = rng.sample(range(max(len(kinds), mine)), k=len(kinds))
        plans[shop.organization.pk] = dict(zip(positions, kinds, strict=True))
    injected: Counter = Counter()
    original = client.upload_attachment
    current: dict = {}

    def upload_attachment(token, **kwargs):
        shop = current["shop"]
        kind = plans[shop.organization.pk].pop(uploads[shop.organization.pk], None)
        uploads[shop.organization.pk] += 1
        if kind == "500":
            sandbox.set_fault(company=shop.company, fail_attachment_upload=1)
        elif kind == "lost":
            sandbox.set_fault(company=shop.company, lose_attachment_after_store=1)
        if kind:
            injected[kind] += 1
        return original(token, **kwargs)

    monkeypatch.setattr(client, "upload_attachment", upload_attachment)

    for shop in shops:
        current["shop"] = shop
        transfer.export_organization(organization=shop.organization)
    # No voucher waited for its PDF: all went in the first run, whatever the uploads did.
    assert not due_left(batch)
    waiting = VoucherAttachment.objects.exclude(state=VoucherAttachment.State.LINKED).count()
    assert waiting == sum(injected.values())
    for _round in range(5):
        if not VoucherAttachment.objects.exclude(state=VoucherAttachment.State.LINKED).exists():
            break
        for shop in shops:
            current["shop"] = shop
            transfer.export_organization(organization=shop.organization)
    assert not any(plans.values()), f"faults left unused: {plans}"
    assert all(switch.is_quiet for switch in FaultSwitch.objects.all())
    assert not attachments.waiting(shops[0].organization).exists()

    pdfs = attachment_census(shops, batch)
    result = settle_and_count(
        f"attachment upload failing (l) ({injected['500']} answered 500, {injected['lost']} "
        f"stored with the answer lost; {pdfs.linked} PDFs linked, {len(pdfs.missing)} "
        f"missing, {len(pdfs.doubled)} doubled, {pdfs.spare} spare)",
        shops,
        batch,
        Counter(l=sum(injected.values())),
    )
    assert_exactly_once(result, "attachment upload failing")
    assert not pdfs.problems, "\n".join(pdfs.problems)
    assert pdfs.linked == len(batch.postable)
    assert pdfs.spare == 0  # a lost answer's upload was found by its name, not made again


# --------------------------------------------------------------------------- (m)


def test_it_reverses_each_corrected_settlement_exactly_once_through_lost_answers(
    shops, monkeypatch
):
    """(m) Posted settlements of the three organisations are corrected by their tills
    ("correction": true). Every other reversal's answer, and one corrected voucher's, is
    lost after Visma stored it. Afterwards each corrected settlement has exactly one
    voucher, one reversal mirroring it ("Korrigering av bilag A…") and one corrected
    voucher: the search after a lost answer found the reversal by its own reference."""
    rng = random.Random(SEED + 13)
    batch = populate(shops, WORKER_SETTLEMENTS, rng)
    run_until_done(shops, batch)
    assert not due_left(batch)
    chosen = rng.sample(sorted(batch.postable), k=scaled(8, 25))
    corrected = {
        pk: correct_posted(Settlement.objects.select_related("location").get(pk=pk)).pk
        for pk in chosen
    }

    real = client.create_voucher
    lose_reversals = set(rng.sample(range(len(chosen)), k=len(chosen) // 2))
    posts: Counter = Counter()
    lost: Counter = Counter()
    current: dict[str, Shop] = {}

    def losing(token, payload, **kwargs):
        text = payload["VoucherText"]
        kind = "reversal" if text.startswith("Korrigering av bilag") else "voucher"
        if kind == "reversal" and posts[kind] in lose_reversals:
            sandbox.set_fault(company=current["shop"].company, lose_after_store=1)
            lost["m"] += 1
        elif "(korrigert, erstatter bilag" in text and not lost["a"]:
            sandbox.set_fault(company=current["shop"].company, lose_after_store=1)
            lost["a"] += 1
        posts[kind] += 1
        return real(token, payload, **kwargs)

    monkeypatch.setattr(client, "create_voucher", losing)
    for _round in range(6):
        for shop in shops:
            current["shop"] = shop
            transfer.export_organization(organization=shop.organization)
        left = Settlement.objects.filter(pk__in=corrected.values()).exclude(
            visma_export__state=State.POSTED
        )
        if not left.exists():
            break
    assert not armed_switches(), armed_switches()

    from integrations.visma.models import Reversal

    found = Reversal.objects.filter(settlement__in=chosen, found_by_search=True).count()
    assert lost["m"] == len(lose_reversals) and found == lost["m"]
    result = correction_census(shops, batch, corrected)
    TALLY.vouchers += result.vouchers
    TALLY.duplicates += result.duplicates
    TALLY.lost += result.lost
    TALLY.unexplained += len(result.problems)
    TALLY.fault("m", lost["m"])
    TALLY.fault("a", lost["a"])
    TALLY.settlements += len(corrected)
    TALLY.postable += len(corrected)
    TALLY.lines.append(
        f"corrections after posting (m): {len(corrected)} corrected of {len(batch.postable)} "
        f"posted, faults a={lost['a']}, m={lost['m']} ({found} reversals found by search); "
        f"{result.vouchers} vouchers, {result.duplicates} duplicates, {result.lost} lost, "
        f"{len(result.problems)} unexplained"
    )
    assert_exactly_once(result, "lost answer on a reversal")


def scheduled_run(shop: Shop) -> dict:
    """The dispatcher's scheduled run of the shop, as the worker runs it (with its retries
    and the nightly reconciliation); its summary."""
    run = ExportRun.objects.create(
        organization=shop.organization, trigger=ExportRun.Trigger.SCHEDULE
    )
    export_organization_task.apply(args=(shop.organization.pk, ExportRun.Trigger.SCHEDULE, run.pk))
    run.refresh_from_db()
    return run.summary


def nights(shops: list[Shop], batch, count: int = 6) -> list[dict]:
    summaries = []
    for _ in range(count):
        summaries = [scheduled_run(shop) for shop in shops]
        if not due_left(batch):
            break
    return summaries


def test_it_flags_vouchers_deleted_in_visma_and_never_sends_them_again_by_itself(
    shops, monkeypatch
):
    """(n) After the settlements are in Visma (some answers lost on the way), Visma users
    delete some vouchers and change the amounts of a few others. Night after night the
    scheduled run's reconciliation marks exactly those "avvik" and sends nothing; then the
    admin sends the deleted ones again as new vouchers (answers lost again) and accepts
    Visma's version of the changed ones: every settlement is in Visma exactly once."""
    monkeypatch.setattr(selectors, "STALE_CLAIM", timedelta(seconds=1))
    rng = random.Random(SEED + 14)
    batch = populate(shops, WORKER_SETTLEMENTS, rng)

    def armed() -> int:
        return sum(sandbox.fault_switch(shop.company).lose_after_store for shop in shops)

    lose_some_answers(shops, rng)
    lost = armed()
    nights(shops, batch, count=1)
    lost -= armed()  # the lost answers the night met
    sandbox.clear_faults()
    nights(shops, batch)
    assert not due_left(batch)

    posted = sorted(batch.postable)
    deleted = set(rng.sample(posted, k=scaled(4, 50)))
    changed = set(rng.sample(sorted(set(posted) - deleted), k=scaled(2, 100)))
    for pk in deleted:
        sandbox.delete_voucher(SettlementExport.objects.get(settlement_id=pk).visma_voucher_id)
    for pk in changed:
        voucher = SandboxVoucher.objects.get(
            uuid=SettlementExport.objects.get(settlement_id=pk).visma_voucher_id
        )
        rows = list(voucher.rows.all())
        once = {
            r.account_number
            for r in rows
            if [x.account_number for x in rows].count(r.account_number) == 1
        }
        debit = next(r for r in rows if r.debit and r.account_number in once)
        credit = next(r for r in rows if r.credit and r.account_number in once)
        sandbox.change_voucher(
            voucher,
            rows={
                debit.account_number: (debit.debit + 1, 0),
                credit.account_number: (0, credit.credit + 1),
            },
        )

    for _night in range(3):
        summaries = [scheduled_run(shop) for shop in shops]
        assert sum(s["avvik"] for s in summaries) == len(deleted) + len(changed)
    avvik = set(
        Settlement.objects.filter(
            pk__in=batch.postable, visma_export__state=State.AVVIK
        ).values_list("pk", flat=True)
    )
    assert avvik == deleted | changed  # exactly those: none of the untouched
    for pk in deleted:
        row = SettlementExport.objects.get(settlement_id=pk)
        assert row.problem_code == Problem.DELETED_IN_VISMA
        assert "Bilaget er slettet i Visma" in row.reason
        # Never sent again by itself.
        assert not SandboxVoucher.objects.filter(voucher_text__contains=f"[BO-{pk}").exists()
    for pk in changed:
        row = SettlementExport.objects.get(settlement_id=pk)
        assert row.problem_code == Problem.CHANGED_IN_VISMA and "Konto " in row.reason

    # The admin chooses: the deleted ones again as new vouchers, Visma's version of the
    # changed ones; some answers of the new vouchers are lost on the way.
    lose_some_answers(shops, rng)
    lost += armed()
    for pk in deleted | changed:
        settlement = Settlement.objects.select_related("organization").get(pk=pk)
        admin = settlement.organization.memberships.filter(role="admin").first().user
        if pk in deleted:
            reconcile.send_again(settlement, user=admin)
        else:
            reconcile.accept(settlement, user=admin)
    nights(shops, batch, count=1)
    lost -= armed()
    sandbox.clear_faults()
    nights(shops, batch)
    assert not due_left(batch)
    summaries = [scheduled_run(shop) for shop in shops]  # one more night: all reconciled
    assert sum(s["avvik"] for s in summaries) == 0
    for pk in deleted:
        [voucher] = SandboxVoucher.objects.filter(voucher_text__contains=f"[BO-{pk}")
        assert f"[BO-{pk}-2]" in voucher.voucher_text

    result = settle_and_count(
        f"vouchers deleted in Visma (n) ({len(deleted)} deleted and sent again by the admin, "
        f"{len(changed)} changed and accepted)",
        shops,
        batch,
        Counter(n=len(deleted), a=lost),
    )
    assert_exactly_once(result, "voucher deleted in Visma")
