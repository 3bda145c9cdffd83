"""`manage.py rundemo`: the whole product on one machine, stopped with Ctrl-C.

`make demo` runs it after migrate and seed_demo. It starts two child processes:

- the web app (Django's threaded runserver: with DEBUG on it serves the static files, and
  being threaded it can answer the simulator's token request while the OAuth callback that
  made it is still waiting), with the Visma sandbox simulator mounted under /visma-sandbox/;
- ONE Celery worker with embedded beat, so the scheduled transfer runs by itself (short
  tick). The broker comes from settings: Redis when REDIS_URL is set, else kombu's
  filesystem broker under var/celery (no server needed).

Unless the operator configured a real Visma (VISMA_CLIENT_ID set), the children are pointed
at the simulator on this same server, and the simulator gets the demo client registered
(`sandbox_setup`) for this address, so "Connect Visma eAccounting" works with no setup.

Each child runs in its own process group: Ctrl-C or SIGTERM stops every group (TERM, then
KILL after a grace period); if one child dies, the others are stopped and the command
exits non-zero, saying which one died.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backoffice.settings import envbool

# The demo client the simulator registers and the app uses. Not a secret: it only opens
# the simulator on the operator's own machine.
DEMO_CLIENT_ID = "backoffice-demo"
DEMO_CLIENT_SECRET = "backoffice-demo-secret-not-for-production"
DEMO_LOGIN = ("admin@fjordkafe.no", "fjordkafe")
DEMO_TICK_SECONDS = "30"
CALLBACK_PATH = "/oppsett/integrasjoner/visma-eaccounting/callback/"

STOP_GRACE_SECONDS = 15
HEALTH_TIMEOUT_SECONDS = 60
WORKER_TIMEOUT_SECONDS = 60


@dataclass
class Child:
    name: str
    proc: subprocess.Popen


class Stop(Exception):
    """Raised from the signal handlers: the operator asked the demo to stop."""


def demo_environment(base: dict[str, str], *, host: str, port: int) -> tuple[dict[str, str], bool]:
    """The children's environment and whether they use the simulator.

    A real Visma configuration (VISMA_CLIENT_ID set by the operator) is left untouched and
    the simulator stays off; otherwise every VISMA_* variable points at the simulator
    mounted on this server (a value the operator set explicitly still wins).
    """
    env = dict(base)
    env.setdefault("DEBUG", "1")
    env.setdefault("TRANSFER_TICK_SECONDS", DEMO_TICK_SECONDS)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if env.get("VISMA_CLIENT_ID"):
        return env, False
    origin = f"http://{host}:{port}"
    env["VISMA_SANDBOX"] = "1"
    env["VISMA_CLIENT_ID"] = DEMO_CLIENT_ID
    env.setdefault("VISMA_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    env.setdefault("VISMA_IDENTITY_URL", f"{origin}/visma-sandbox/identity")
    env.setdefault("VISMA_API_URL", f"{origin}/visma-sandbox/api/v2")
    env.setdefault("VISMA_REDIRECT_URI", f"{origin}{CALLBACK_PATH}")
    return env, True


def simulator_login() -> tuple[str, str]:
    """The simulated Visma user's login, as the simulator defines it."""
    try:
        from visma_sandbox import chart
    except ImportError:
        return ("(see the simulator's page)", "")
    return chart.DEMO_USER_EMAIL, chart.DEMO_USER_PASSWORD


def module_exists(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


class Command(BaseCommand):
    help = "Run the demo: web app, Visma simulator and a Celery worker with beat (Ctrl-C stops)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        # The demo is development: manage.py turns DEBUG on for rundemo unless the operator
        # set it (DEBUG=0 means this machine is production: no demo there).
        if not envbool("DEBUG", "0"):
            raise CommandError(
                "rundemo is for development (DEBUG=1): it serves static files itself and "
                "runs with development keys. `make demo` sets DEBUG=1."
            )
        self.ensure_port_free(host, port)
        env, sandbox = demo_environment(dict(os.environ), host=host, port=port)
        origin = f"http://{host}:{port}"
        self.children: list[Child] = []
        previous = {
            sig: signal.signal(sig, self.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        code = 0
        try:
            if sandbox:
                self.register_demo_client(env)
            self.start_children(env, host=host, port=port)
            self.wait_healthy(origin)
            self.wait_worker()
            self.print_welcome(origin, env, sandbox)
            self.watch()
        except Stop:
            self.stdout.write("\nStopping the demo ...")
        except CommandError as exc:
            self.stderr.write(f"\n{exc}")
            code = 1
        finally:
            self.stop_children()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if code:
            sys.exit(code)
        self.stdout.write("Demo stopped.")

    # -- steps ---------------------------------------------------------------------------

    def ensure_port_free(self, host: str, port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                raise CommandError(
                    f"{host}:{port} is already in use (another demo still running?). "
                    "Stop it, or choose another port with --port."
                ) from None

    def register_demo_client(self, env: dict[str, str]) -> None:
        """Register the demo client and companies in the simulator (idempotent).

        Run as a child with the children's environment: this process may have been started
        without VISMA_SANDBOX=1, and then the simulator's command is not installed here.
        """
        if not module_exists("visma_sandbox.management.commands.sandbox_setup"):
            self.stderr.write(
                "The simulator has no sandbox_setup command: no demo client registered."
            )
            return
        result = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "sandbox_setup",
                "--client-id",
                env["VISMA_CLIENT_ID"],
                "--client-secret",
                env["VISMA_CLIENT_SECRET"],
                "--redirect-uri",
                env["VISMA_REDIRECT_URI"],
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,  # the welcome says all of it; shown when it fails
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            self.stderr.write(result.stdout + result.stderr)
            raise CommandError(
                "sandbox_setup failed (see above). Were the migrations run with "
                "VISMA_SANDBOX=1? `make demo` does that."
            )

    def start_children(self, env: dict[str, str], *, host: str, port: int) -> None:
        schedule = settings.VAR_DIR / "celerybeat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        self.spawn(
            "Celery worker",
            [sys.executable, "-m", "celery", "-A", "backoffice", "worker", "-B",
             "--pool=solo", "--loglevel=INFO", f"--schedule={schedule}",
             "--hostname=demo@%h", "--without-gossip", "--without-mingle"],
            env,
        )  # fmt: skip
        self.spawn(
            "web app",
            [sys.executable, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
            env,
        )

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        # A new session per child: the terminal's Ctrl-C reaches only this process, which
        # then stops each child's whole group (the worker's embedded beat included).
        proc = subprocess.Popen(
            argv, cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL, start_new_session=True
        )
        self.children.append(Child(name, proc))

    def wait_healthy(self, origin: str) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self.check_children()
            try:
                with urllib.request.urlopen(f"{origin}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise CommandError(
            f"The web app did not answer {origin}/healthz within {HEALTH_TIMEOUT_SECONDS} s."
        )

    def wait_worker(self) -> None:
        """One round trip through the broker: the worker is up and takes tasks."""
        from celery.exceptions import TimeoutError as CeleryTimeout

        from backoffice.tasks import ping

        result = ping.delay("rundemo")
        deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self.check_children()
            try:
                if result.get(timeout=1) == "pong:rundemo":
                    return
            except CeleryTimeout:
                continue
        raise CommandError(f"The Celery worker did not answer within {WORKER_TIMEOUT_SECONDS} s.")

    def print_welcome(self, origin: str, env: dict[str, str], sandbox: bool) -> None:
        email, password = DEMO_LOGIN
        broker = (
            "Redis"
            if env.get("REDIS_URL")
            else f"filesystem broker under {settings.VAR_DIR / 'celery'}"
        )
        tick = env["TRANSFER_TICK_SECONDS"]
        lines = [
            "",
            "=" * 72,
            f"  Backoffice demo is running at  {origin}/  (this address: Visma returns to it)",
            f"  Sign in as                     {email} / {password}",
        ]
        if sandbox:
            visma_email, visma_password = simulator_login()
            lines += [
                f"  Visma simulator                {origin}/visma-sandbox/",
                f"  Visma sign-in (simulator)      {visma_email} / {visma_password}",
            ]
        else:
            lines.append(
                f"  Visma                          {env.get('VISMA_IDENTITY_URL') or 'identity.vismaonline.com'} (your own client)"
            )
        lines += [
            f"  Celery worker + beat           {broker}; transfer tick every {tick} s",
            "",
            "  Next steps in the browser:",
            "   1. Oppsett > Integrasjoner: choose interval and look-back,",
            "      click Connect Visma eAccounting",
            "   2. Sign in at Visma, click Yes, allow: back in the Backoffice,",
            "      the page reads Visma Account connected",
            '   3. Oppsett > Kontooppsett: click "Bruk standard kontoplan", then save',
            '   4. Dagsoppgjør: click "Overfør nå" and watch the settlements turn',
            "      overført with their voucher numbers (or wait for the next tick)",
        ]
        if sandbox:
            lines.append(f"   5. See the vouchers on the simulator's page: {origin}/visma-sandbox/")
        lines += ["", "  Ctrl-C stops everything.", "=" * 72, ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    def watch(self) -> None:
        while True:
            self.check_children()
            time.sleep(0.5)

    # -- process control -----------------------------------------------------------------

    def on_signal(self, signum, frame) -> None:
        raise Stop()

    def check_children(self) -> None:
        for child in self.children:
            code = child.proc.poll()
            if code is not None:
                how = (
                    f"was killed by {signal.Signals(-code).name}"
                    if code < 0
                    else f"exited with {code}"
                )
                raise CommandError(
                    f"The {child.name} stopped unexpectedly ({how}); stopping the others. "
                    "Its output is above."
                )

    def stop_children(self) -> None:
        # A second Ctrl-C while stopping must not interrupt the clean-up half way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in self.children:
            self.signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {child.name} did not stop in time: killing it.")
            # Leftovers in the group (the embedded beat) go too, finished or not.
            self.signal_group(child, signal.SIGKILL)
            child.proc.wait()

    @staticmethod
    def signal_group(child: Child, sig: int) -> None:
        try:
            os.killpg(child.proc.pid, sig)
        except ProcessLookupError:
            pass
