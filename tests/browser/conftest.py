"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

- Never a browser download: Playwright launches /usr/bin/chromium (`.ci/run` installs it
  with apt); PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD keeps any install step from fetching one.
- One browser per test module, a fresh context (cookies, language) per test.
- `shot("name")` saves a full-page PNG as screenshots/<test name>/NN-name.png at the
  repository root; a failing test also leaves a `failure.png` there.
- Playwright's sync API keeps an event loop running in this thread while it is started, and
  Django refuses database work from a thread with a running loop unless
  DJANGO_ALLOW_ASYNC_UNSAFE is set: the usual setting for Playwright with pytest-django (the
  ORM calls here are plain synchronous ones). It is set only while Playwright runs (one
  browser per test module), so other tests, and the subprocesses they start (such as
  `check --deploy`, which warns about it), never see it.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.clock import machine_clock_env  # noqa: E402

from .worker import apply_to_settings, celery_worker, visma_env  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# Long enough for a slow CI machine, short enough that a broken page fails in seconds.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=machine_clock_env()
            )
            yield browser
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Remember each phase's outcome on the item, so the page fixture knows a test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def safe_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-")


def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    return SCREENSHOTS / safe_name(request.node.name)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    # nb-NO: the browser asks for Norwegian like a Norwegian user's would (Django's
    # LocaleMiddleware reads Accept-Language; headless chromium would say en-US).
    context = browser.new_context(viewport=VIEWPORT, locale="nb-NO", timezone_id="Europe/Oslo")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = screenshot_dir(request)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / "failure.png", full_page=True)
    context.close()


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """shot("name") saves the page as screenshots/<test>/NN-name.png and returns the path."""
    folder = screenshot_dir(request)
    shutil.rmtree(folder, ignore_errors=True)  # only this run's pictures, in order
    folder.mkdir(parents=True)
    count = 0

    def take(name: str) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{safe_name(name)}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture
def simulator(live_server, settings) -> dict[str, str]:
    """The Visma simulator mounted on the live server, ready to connect to: demo companies
    and users, the test client registered with the live server's callback, and this
    process's VISMA_* settings pointing at it. Returns those VISMA_* values as environment
    for a worker (`celery_worker(simulator)`)."""
    from visma_sandbox import services

    env = visma_env(live_server.url)
    apply_to_settings(settings, env)
    services.setup_demo()
    services.register_client(
        client_id=env["VISMA_CLIENT_ID"],
        client_secret=env["VISMA_CLIENT_SECRET"],
        redirect_uris=[env["VISMA_REDIRECT_URI"]],
    )
    return env


@pytest.fixture
def worker(simulator) -> Iterator[subprocess.Popen]:
    """A real Celery worker on the live server's test database, talking to the simulator."""
    with celery_worker(simulator) as proc:
        yield proc
