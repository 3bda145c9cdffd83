"""Connect an organisation to the Visma simulator the way the browser's consent would:
the simulator issues a code for a company, the production code exchanges it. Used by the
transfer tests and by the benchmarks (bench/visma.py)."""

from __future__ import annotations

import base64
import hashlib
import secrets

SCOPES = "ea:api offline_access ea:accounting ea:sales_readonly"


def connect(
    organization,
    *,
    user,
    env: dict[str, str],
    company: str = "Fjordkafé AS",
    visma_user: str = "demo@visma.example",
) -> None:
    """`env` holds VISMA_CLIENT_ID and VISMA_REDIRECT_URI (tests.browser.worker.visma_env);
    `visma_user` is the simulated Visma user who signs in and allows."""
    from integrations.visma import services as visma_services
    from integrations.visma.models import TransferSettings
    from visma_sandbox import oauth as sandbox_oauth
    from visma_sandbox import services as sandbox
    from visma_sandbox.models import SandboxUser

    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    request = sandbox_oauth.parse_authorize_request(
        {
            "client_id": env["VISMA_CLIENT_ID"],
            "redirect_uri": env["VISMA_REDIRECT_URI"],
            "response_type": "code",
            "scope": SCOPES,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    code = sandbox_oauth.issue_code(
        request,
        user=SandboxUser.objects.get(email=visma_user),
        company=sandbox.get_company(company),
    )
    visma_services.complete_connection(
        organization,
        user=user,
        code=code,
        code_verifier=verifier,
        redirect_uri=env["VISMA_REDIRECT_URI"],
    )
    TransferSettings.for_organization(organization)
