"""The simulator the browser tests connect to is mounted on the live server and knows the
test client's callback there (the `simulator` fixture the walk-through builds on)."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_it_shows_the_simulator_set_up_for_the_live_server(page, live_server, simulator, shot):
    page.goto(f"{live_server.url}/visma-sandbox/")

    expect(page.get_by_text("Fjordkafé AS").first).to_be_visible()
    expect(page.get_by_text(simulator["VISMA_REDIRECT_URI"])).to_be_visible()
    expect(page.get_by_text(simulator["VISMA_API_URL"])).to_be_visible()
    shot("simulator")
