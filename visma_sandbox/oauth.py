"""The simulated identity server's rules (Visma's is an IdentityServer at
identity.vismaonline.com): authorization requests, codes, PKCE, token issue and rotation,
client authentication and revocation. Views in identity_views.py only translate HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from . import conf
from .models import (
    AccessToken,
    AuthorizationCode,
    RefreshToken,
    SandboxClient,
    SandboxCompany,
    SandboxUser,
)

# Visma's scopes (developer.vismaonline.com): ea:api and offline_access are mandatory for an
# integration, the rest are chosen by what it needs.
KNOWN_SCOPES: dict[str, str] = {
    "ea:api": "Use the Visma eAccounting API on your behalf",
    "offline_access": "Stay connected when you are not signed in (refresh tokens)",
    "ea:accounting": "Read and create accounting data: vouchers, accounts, VAT codes",
    "ea:accounting_readonly": "Read accounting data: vouchers, accounts, VAT codes",
    "ea:sales": "Read and change sales data: customers, invoices, company settings",
    "ea:sales_readonly": "Read sales data: customers, invoices, company settings",
    "ea:purchase": "Read and change purchase data: suppliers, supplier invoices",
    "ea:purchase_readonly": "Read purchase data: suppliers, supplier invoices",
}

_PKCE_TEXT = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class OAuthError(Exception):
    """An error answered as {"error": ..., "error_description": ...}."""

    def __init__(self, error: str, description: str = "", status: int = 400):
        super().__init__(description or error)
        self.error = error
        self.description = description
        self.status = status

    def as_dict(self) -> dict:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


class UntrustedRedirect(Exception):
    """The request cannot be sent back to the client: unknown client or a redirect URI that
    is not registered. Shown as an error page, never redirected (RFC 6749 4.1.2.1)."""


@dataclass
class AuthorizeRequest:
    client: SandboxClient
    redirect_uri: str
    scopes: list[str]
    state: str
    code_challenge: str
    code_challenge_method: str
    force_select_company: bool
    force_login: bool

    def to_session(self) -> dict:
        return {
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scopes": self.scopes,
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method,
            "force_select_company": self.force_select_company,
            "force_login": self.force_login,
        }

    @classmethod
    def from_session(cls, data: dict) -> AuthorizeRequest | None:
        client = SandboxClient.objects.filter(client_id=data.get("client_id")).first()
        if client is None:
            return None
        fields = {name for name in cls.__dataclass_fields__ if name != "client"}
        # The parked data also holds the flow's own progress (the chosen company).
        return cls(client=client, **{name: data[name] for name in fields})


class AuthorizeRedirectError(Exception):
    """An error that goes back to the client's redirect URI as ?error=…&state=…"""

    def __init__(self, redirect_uri: str, state: str, error: str, description: str = ""):
        super().__init__(error)
        self.url = redirect_with(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )


def redirect_with(uri: str, params: dict) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def parse_authorize_request(params) -> AuthorizeRequest:
    """Check /connect/authorize's query like Visma: the client and its exact redirect URI
    first (errors shown on a page), then the rest (errors sent back to the client)."""
    client = SandboxClient.objects.filter(client_id=params.get("client_id", "")).first()
    if client is None:
        raise UntrustedRedirect("Unknown client or client not enabled (client_id).")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uri_list:
        raise UntrustedRedirect(
            "Invalid redirect_uri: it must equal one of the client's registered redirect URIs "
            "exactly (scheme, host, port, path and trailing slash)."
        )
    state = params.get("state", "")

    def refuse(error: str, description: str):
        raise AuthorizeRedirectError(redirect_uri, state, error, description)

    if params.get("response_type") != "code":
        refuse("unsupported_response_type", "Only response_type=code is supported.")
    scopes = params.get("scope", "").split()
    if not scopes:
        refuse("invalid_scope", "No scope requested.")
    unknown = [scope for scope in scopes if scope not in KNOWN_SCOPES]
    if unknown:
        refuse("invalid_scope", f"Unknown scope: {' '.join(unknown)}")
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    if challenge:
        method = method or "plain"
        if method not in ("S256", "plain"):
            refuse("invalid_request", "code_challenge_method must be S256 or plain.")
        if not _PKCE_TEXT.match(challenge):
            refuse("invalid_request", "code_challenge must be 43 to 128 characters.")
    elif method:
        refuse("invalid_request", "code_challenge is missing.")
    prompt = params.get("prompt", "").split()
    acr_values = params.get("acr_values", "").split()
    return AuthorizeRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=list(dict.fromkeys(scopes)),
        state=state,
        code_challenge=challenge,
        code_challenge_method=method if challenge else "",
        # Visma's identity server keeps a default company: the list shows only when the
        # client asks for it with acr_values=forceselectcompany:true; prompt=select_account
        # alone chooses the account, not the company.
        force_select_company="forceselectcompany:true" in acr_values,
        force_login="login" in prompt,
    )


def issue_code(request: AuthorizeRequest, *, user: SandboxUser, company: SandboxCompany) -> str:
    raw = new_token()
    AuthorizationCode.objects.create(
        code_hash=hash_token(raw),
        client=request.client,
        user=user,
        company=company,
        redirect_uri=request.redirect_uri,
        scope=" ".join(request.scopes),
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
        expires_at=timezone.now() + timedelta(seconds=conf.authorization_code_seconds()),
    )
    return raw


# --- the token endpoint ----------------------------------------------------------------------


def authenticate_client(request: HttpRequest) -> SandboxClient:
    """client_secret_basic (Authorization: Basic, form-urlencoded id and secret) or
    client_secret_post (client_id and client_secret in the body)."""
    header = request.headers.get("Authorization", "")
    client_id = secret = None
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            raw_id, raw_secret = decoded.split(":", 1)
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Malformed Basic authorization.", 401) from None
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    elif request.POST.get("client_id"):
        client_id = request.POST["client_id"]
        secret = request.POST.get("client_secret", "")
    if not client_id:
        raise OAuthError("invalid_client", "No client authentication.", 401)
    client = SandboxClient.objects.filter(client_id=client_id).first()
    if client is None or not hmac.compare_digest(
        client.client_secret.encode(), (secret or "").encode()
    ):
        raise OAuthError("invalid_client", "", 401)
    return client


def _lifetime(client: SandboxClient) -> int:
    return client.access_token_lifetime or conf.access_token_seconds()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token_jwt(
    *, client: SandboxClient, subject: uuid.UUID, scope: str, lifetime: int
) -> str:
    """An access token as IdentityServer issues them: a signed JWT whose claims name the
    client and the user (`sub`, the same for every company the user signs in to). The API
    still looks the token up by its hash (so it can be revoked); the signature (HS256 with
    a key of the simulator's own) only makes it a well-formed JWT."""
    now = int(timezone.now().timestamp())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "iss": "visma-sandbox",
        "nbf": now,
        "iat": now,
        "exp": now + lifetime,
        "client_id": client.client_id,
        "sub": str(subject),
        "scope": scope.split(),
        "jti": secrets.token_hex(16),
    }
    signed = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    key = hashlib.sha256(f"visma-sandbox:{settings.SECRET_KEY}".encode()).digest()
    signature = hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()
    return f"{signed}.{_b64(signature)}"


def _issue(
    *, client: SandboxClient, user_id: int, company_id: int, scope: str, grant_id: uuid.UUID
) -> dict:
    lifetime = _lifetime(client)
    subject = SandboxUser.objects.values_list("subject", flat=True).get(pk=user_id)
    access = access_token_jwt(client=client, subject=subject, scope=scope, lifetime=lifetime)
    AccessToken.objects.create(
        token_hash=hash_token(access),
        client=client,
        user_id=user_id,
        company_id=company_id,
        scope=scope,
        grant_id=grant_id,
        expires_at=timezone.now() + timedelta(seconds=lifetime),
    )
    answer = {
        "access_token": access,
        "expires_in": lifetime,
        "token_type": "Bearer",
        "scope": scope,
    }
    # As IdentityServer: a refresh token only when offline_access was granted.
    if "offline_access" in scope.split():
        refresh = new_token()
        RefreshToken.objects.create(
            token_hash=hash_token(refresh),
            client=client,
            user_id=user_id,
            company_id=company_id,
            scope=scope,
            grant_id=grant_id,
        )
        answer["refresh_token"] = refresh
    return answer


def _revoke_grant(grant_id: uuid.UUID) -> None:
    now = timezone.now()
    AccessToken.objects.filter(grant_id=grant_id, revoked_at__isnull=True).update(revoked_at=now)
    RefreshToken.objects.filter(grant_id=grant_id, revoked_at__isnull=True).update(revoked_at=now)


def pkce_matches(method: str, challenge: str, verifier: str) -> bool:
    if not _PKCE_TEXT.match(verifier or ""):
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        transformed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        transformed = verifier
    return hmac.compare_digest(transformed, challenge)


def exchange_code(
    *, client: SandboxClient, code: str, redirect_uri: str, code_verifier: str
) -> dict:
    # The error is raised outside the transaction, so that spending the code (and a
    # replay's revocation) is kept even when the exchange fails.
    with transaction.atomic():
        outcome = _exchange_code(client, code, redirect_uri, code_verifier)
    if isinstance(outcome, OAuthError):
        raise outcome
    return outcome


def _exchange_code(
    client: SandboxClient, code: str, redirect_uri: str, code_verifier: str
) -> dict | OAuthError:
    found = (
        AuthorizationCode.objects.select_for_update()
        .filter(code_hash=hash_token(code or ""), client=client)
        .first()
    )
    if found is None:
        return OAuthError("invalid_grant", "Invalid authorization code.")
    now = timezone.now()
    # Single use, even when this attempt fails below (as IdentityServer removes the code
    # from its store when it is looked up). A replay also cancels what the code gave.
    if not AuthorizationCode.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now):
        _revoke_grant(found.grant_id)
        return OAuthError("invalid_grant", "The authorization code has already been used.")
    if found.expires_at <= now:
        return OAuthError("invalid_grant", "The authorization code has expired.")
    if redirect_uri != found.redirect_uri:
        return OAuthError("invalid_grant", "redirect_uri does not match the authorize request.")
    if found.code_challenge and not pkce_matches(
        found.code_challenge_method, found.code_challenge, code_verifier
    ):
        return OAuthError(
            "invalid_grant", "Transformed code verifier does not match code challenge."
        )
    return _issue(
        client=client,
        user_id=found.user_id,
        company_id=found.company_id,
        scope=found.scope,
        grant_id=found.grant_id,
    )


@transaction.atomic
def refresh(*, client: SandboxClient, refresh_token: str, scope: str = "") -> dict:
    """Rotation: every refresh answers a new refresh token and cancels the one used."""
    found = (
        RefreshToken.objects.select_for_update()
        .filter(token_hash=hash_token(refresh_token or ""), client=client)
        .first()
    )
    if found is None or found.revoked_at or found.used_at:
        raise OAuthError("invalid_grant")
    granted = found.scope.split()
    wanted = scope.split() or granted
    if any(item not in granted for item in wanted):
        raise OAuthError("invalid_scope", "A refresh cannot widen the granted scope.")
    if not RefreshToken.objects.filter(pk=found.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        raise OAuthError("invalid_grant")
    return _issue(
        client=client,
        user_id=found.user_id,
        company_id=found.company_id,
        scope=" ".join(wanted),
        grant_id=found.grant_id,
    )


def revoke(*, client: SandboxClient, token: str, token_type_hint: str = "") -> None:
    """RFC 7009, as IdentityServer implements it: revoking a refresh token removes every
    refresh token the same user holds for the same client, and their (reference) access
    tokens, whichever company each was issued for (IdentityServer's
    TokenRevocationResponseGenerator: RemoveRefreshTokensAsync(subjectId, clientId)). So a
    user who connected two companies to one integration and revokes one cuts off both. An
    access token goes alone. Unknown tokens, or another client's, change nothing."""
    if token_type_hint not in ("", "access_token", "refresh_token"):
        raise OAuthError("unsupported_token_type")
    token_hash = hash_token(token)
    found = RefreshToken.objects.filter(token_hash=token_hash, client=client).first()
    if found is not None:
        _revoke_user(client=client, user_id=found.user_id)
        return
    AccessToken.objects.filter(
        token_hash=token_hash, client=client, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def _revoke_user(*, client: SandboxClient, user_id: int) -> None:
    now = timezone.now()
    for model in (AccessToken, RefreshToken):
        model.objects.filter(client=client, user_id=user_id, revoked_at__isnull=True).update(
            revoked_at=now
        )


# --- bearer tokens at the API --------------------------------------------------------------


def access_token_from(request: HttpRequest) -> AccessToken | None:
    """The live access token of `Authorization: Bearer …`, or None."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return (
        AccessToken.objects.select_related("client", "company")
        .filter(
            token_hash=hash_token(header[7:].strip()),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
