"""The fault matrix's fixtures and its summary at the end of the run.

- `shops`: three organisations with the worked-example kontooppsett, connected over real
  OAuth to the three simulated companies (Fjordkafé AS, Bakeri Nord AS, Kiosk Vest AS) on
  the live server.
- `throwaway_redis`: a redis-server of our own on port 6390, to be restarted at will (the
  shared server on 6379 is never touched).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User

from accounting.services import import_mapping
from backoffice.models import Location, Membership, Organization
from tests.transfer.conftest import connect, ingest, mapped, simulator  # noqa: F401  (fixtures)
from visma_sandbox import services as sandbox

from .processes import (
    REDIS_PORT,
    THROWAWAY_REDIS_URL,
    redis_cli,
    start_throwaway_redis,
    stop_throwaway_redis,
)
from .support import FAULT_KINDS, SEED, SETTLEMENTS, TALLY, Shop


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TALLY.lines:
        return
    terminalreporter.section("fault matrix")
    terminalreporter.write_line(
        f"FAULT_SETTLEMENTS={SETTLEMENTS} FAULT_SEED={SEED} (set either to change the run)"
    )
    for line in TALLY.lines:
        terminalreporter.write_line(line)
    terminalreporter.write_line("faults injected:")
    for kind, text in FAULT_KINDS.items():
        terminalreporter.write_line(f"  ({kind}) {text}: {TALLY.faults.get(kind, 0)}")
    terminalreporter.write_line(
        f"fault matrix: {TALLY.settlements} settlements ({TALLY.postable} postable), "
        f"{sum(TALLY.faults.values())} faults injected, {TALLY.vouchers} vouchers in Visma, "
        f"{TALLY.duplicates} duplicates, {TALLY.lost} lost, {TALLY.unexplained} unexplained"
    )


# --------------------------------------------------------------------------- the shops

SHOPS = [
    # (slug, name, simulated company, locations)
    ("fjordkafe", "Fjordkafé AS", "Fjordkafé AS", [("sentrum", "Fjordkafé Sentrum")]),
    ("bakeri-nord", "Bakeri Nord AS", "Bakeri Nord AS", [("torget", "Bakeri Torget"), ("havna", "Bakeri Havna")]),
    ("kiosk-vest", "Kiosk Vest AS", "Kiosk Vest AS", [("stasjon", "Kiosk Stasjonen")]),
]  # fmt: skip


@pytest.fixture
def shops(simulator, connect, worked_example) -> list[Shop]:  # noqa: F811
    """Three organisations, each with an admin, its stores, the worked example's
    kontooppsett and a live connection to its own simulated company."""
    sandbox.set_quota(1_000_000)  # the quota is not under test here; faults are explicit
    result = []
    for slug, name, company, locations in SHOPS:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            organization = Organization.objects.create(slug=slug, name=name)
        admin = User.objects.create_user(f"admin-{slug}", f"admin@{slug}.example", "pw")
        Membership.objects.create(user=admin, organization=organization, role=Membership.Role.ADMIN)
        stores = [
            Location.objects.create(organization=organization, code=code, name=label)
            for code, label in locations
        ]
        import_mapping(organization=organization, data=worked_example["mapping"])
        connect(organization, company)
        result.append(Shop(organization, company, stores))
    return result


# --------------------------------------------------------------------------- redis


@pytest.fixture
def throwaway_redis() -> Iterator[str]:
    """Our own redis-server on port 6390 (no persistence), stopped afterwards."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: install Debian's redis-server")
    if redis_cli("ping").returncode == 0:
        pytest.fail(
            f"something already answers on port {REDIS_PORT}: not ours to restart (a leftover "
            f"of an interrupted run? redis-cli -p {REDIS_PORT} shutdown nosave)"
        )
    start_throwaway_redis()
    try:
        yield THROWAWAY_REDIS_URL
    finally:
        stop_throwaway_redis()
