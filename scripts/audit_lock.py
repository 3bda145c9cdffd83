"""`make audit` / `make test`: pip-audit on requirements.lock, with an honest summary.

pip-audit asks a vulnerability service about each pinned release: PyPI's JSON API
(/pypi/NAME/VERSION/json, the default) or OSV (api.osv.dev). When it cannot get an answer
for a package it skips it and still says "No known vulnerabilities found" with exit 0, so
a machine without that service would pass an audit that audited nothing. This script
counts what was really audited:

- any known vulnerability: the vulnerabilities are listed, exit 1;
- packages that could not be audited: says so loudly, with pip-audit's reason, and exits 1
  when AUDIT_REQUIRED=1 (`make audit` sets it: use it where the service is reachable),
  else 0 (make test on a machine that reaches only the package index, not its JSON API);
- otherwise: "N packages audited, no known vulnerabilities", exit 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def summarize(report: dict, *, required: bool) -> tuple[int, list[str]]:
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = len(deps) - len(skipped)
    lines = []
    for dep in vulnerable:
        ids = ", ".join(
            f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['?'])})"
            for v in dep["vulns"]
        )
        lines.append(f"VULNERABLE {dep['name']} {dep.get('version', '')}: {ids}")
    if skipped:
        reasons = sorted({d["skip_reason"].split(":")[0] for d in skipped})
        lines.append(
            f"pip-audit: NOT AUDITED: {len(skipped)} of {len(deps)} packages in "
            f"{LOCK.name} ({'; '.join(reasons)}). The vulnerability service did not answer "
            "for them; run `make audit` where it does."
        )
    lines.append(
        f"pip-audit: {audited} of {len(deps)} packages audited, "
        f"{sum(len(d['vulns']) for d in vulnerable)} known vulnerabilities"
        + (f" in {len(vulnerable)} packages" if vulnerable else "")
    )
    if vulnerable:
        return 1, lines
    if skipped and required:
        return 1, lines
    return 0, lines


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    required = os.environ.get("AUDIT_REQUIRED") == "1"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        try:
            run = subprocess.run(
                [str(pip_audit), "--requirement", str(LOCK), "--require-hashes",
                 "--disable-pip", "--progress-spinner", "off", "--timeout", "10",
                 "--format", "json", "--output", str(out), *sys.argv[1:]],
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            print("pip-audit: NOT AUDITED: no answer from the vulnerability service in 300 s")
            return 1 if required else 0
        if not out.exists():
            last = (run.stderr.strip().splitlines() or ["no output"])[-1][:400]
            print(f"pip-audit: NOT AUDITED: pip-audit failed (exit {run.returncode}): {last}")
            return 1 if required else 0
        report = json.loads(out.read_text())
    code, lines = summarize(report, required=required)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
