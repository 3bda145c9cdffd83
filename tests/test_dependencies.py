"""Dependencies (issue 17, item 8): floors above the releases with known vulnerabilities,
a hashed lock file that the Docker image installs from, and pip-audit on it in make test
with a summary that says when it could not audit."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from scripts.audit_lock import summarize

ROOT = Path(__file__).resolve().parent.parent


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(line) for line in project["dependencies"]]
    return {canonicalize_name(req.name): req for req in reqs}


def locked() -> dict[str, tuple[Version, list[str]]]:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        match = re.match(r"([a-z0-9._-]+)==(\S+)", block)
        if match:
            pins[canonicalize_name(match[1])] = (
                Version(match[2]),
                re.findall(r"--hash=sha256:([0-9a-f]{64})", block),
            )
    return pins


@pytest.mark.parametrize(
    ("name", "vulnerable", "fixed"),
    [
        ("django", "5.2.7", "5.2.8"),
        ("requests", "2.32.3", "2.32.4"),
        ("cryptography", "44.0.0", "44.0.1"),
        ("authlib", "1.6.4", "1.9.10"),
    ],
)
def test_the_floors_leave_out_the_vulnerable_releases(name, vulnerable, fixed):
    specifier = requirements()[name].specifier

    assert not specifier.contains(vulnerable)
    assert specifier.contains(fixed)


def test_every_dependency_is_pinned_with_hashes_within_its_range():
    pins = locked()

    for name, requirement in requirements().items():
        version, hashes = pins[name]
        assert requirement.specifier.contains(version), (name, version)
    for name, (_version, hashes) in pins.items():
        assert hashes, f"{name} has no hash in requirements.lock"


def test_the_image_installs_exactly_the_lock():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")

    assert "RUN pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install ." not in dockerfile


def test_make_test_runs_the_deploy_checks_and_the_audit():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest: ", 1)[1].split("\n\n", 1)[0]

    assert "manage.py check --deploy --fail-level WARNING" in recipe
    assert "scripts/audit_lock.py" in recipe


def test_it_type_checks_the_app_in_make_test_and_make_lint():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    for target in ("test", "lint"):
        recipe = makefile.split(f"\n{target}: ", 1)[1].split("\n\n", 1)[0]
        assert "$(BIN)/mypy" in recipe, target
    mypy = project["tool"]["mypy"]
    assert "mypy_django_plugin.main" in mypy["plugins"]
    assert mypy["check_untyped_defs"] is True
    assert "disable_error_code" not in mypy
    assert "ignore_errors" not in str(project["tool"]), "no blanket ignores"


def dep(name, version, vulns=None, skip=None):
    entry = {"name": name, "version": version}
    if skip:
        return {"name": name, "skip_reason": skip}
    entry["vulns"] = vulns or []
    return entry


def test_the_audit_fails_on_a_known_vulnerability():
    report = {
        "dependencies": [
            dep("django", "5.2.7", [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.8"]}]),
            dep("requests", "2.32.4"),
        ]
    }

    code, lines = summarize(report, required=False)

    assert code == 1
    assert "VULNERABLE django 5.2.7: PYSEC-2025-1 (fixed in 5.2.8)" in lines
    assert lines[-1] == "pip-audit: 2 of 2 packages audited, 1 known vulnerabilities in 1 packages"


def test_the_audit_says_what_it_could_not_audit():
    report = {
        "dependencies": [
            dep("django", "", skip="Dependency not found on PyPI and could not be audited: x"),
            dep("requests", "2.32.4"),
        ]
    }

    code, lines = summarize(report, required=False)
    assert code == 0
    assert lines[0].startswith("pip-audit: NOT AUDITED: 1 of 2 packages")
    assert lines[-1] == "pip-audit: 1 of 2 packages audited, 0 known vulnerabilities"

    code, _lines = summarize(report, required=True)
    assert code == 1
