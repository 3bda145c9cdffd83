"""The transfer against the Visma simulator over real HTTP (pytest-django's live server):
the production OAuth code connects, the production client posts, the simulator checks
like Visma and keeps the vouchers, so a test can count what really arrived."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounting.services import import_mapping
from backoffice.models import Organization
from settlements.parsing import parse_settlement
from settlements.services import ingest_settlement
from tests.browser.worker import apply_to_settings, visma_env
from tests.simulator import connect as simulated_consent
from visma_sandbox import services as sandbox
from visma_sandbox.models import SandboxVoucher


@pytest.fixture
def simulator(live_server, settings) -> dict[str, str]:
    env = visma_env(live_server.url)
    apply_to_settings(settings, env)
    sandbox.setup_demo()
    sandbox.register_client(
        client_id=env["VISMA_CLIENT_ID"],
        client_secret=env["VISMA_CLIENT_SECRET"],
        redirect_uris=[env["VISMA_REDIRECT_URI"]],
    )
    return env


@pytest.fixture
def connect(simulator, alice) -> Callable[[Organization, str], None]:
    """connect(org, "Fjordkafé AS"): the production code exchanges a code the simulator
    issued for that company (what the browser's consent would have produced)."""

    def _connect(
        organization: Organization,
        company_name: str = "Fjordkafé AS",
        *,
        user=None,
        visma_user: str = "demo@visma.example",
    ) -> None:
        simulated_consent(
            organization,
            user=user or alice,
            env=simulator,
            company=company_name,
            visma_user=visma_user,
        )

    return _connect


@pytest.fixture
def mapped(org, worked_example):
    import_mapping(organization=org, data=worked_example["mapping"])
    return org


@pytest.fixture
def ingest(location):
    def _ingest(body: dict, loc=None):
        result = ingest_settlement(location=loc or location, data=parse_settlement(body))
        return result.settlement

    return _ingest


def vouchers_in(company_name: str = "Fjordkafé AS"):
    return SandboxVoucher.objects.filter(company=sandbox.get_company(company_name))
