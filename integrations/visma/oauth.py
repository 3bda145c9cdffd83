"""Visma's identity server (../shared/DESIGN.md 3): authorization code flow with PKCE S256, client
authentication client_secret_basic, refresh tokens that rotate on every use, revocation.

Authlib's requests client does the protocol; this module names the endpoints, turns its
answers into a checked `TokenSet` and its failures into `OAuthFailure` / `InvalidGrant`.
No token or secret is ever logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from urllib.parse import quote_plus

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from .client import timeout

logger = logging.getLogger(__name__)

SCOPES = "ea:api offline_access ea:accounting ea:sales_readonly"


def is_configured() -> bool:
    """Can this server talk to Visma at all? (The operator sets both in the environment.)"""
    return bool(settings.VISMA_CLIENT_ID and settings.VISMA_CLIENT_SECRET)


def authorize_endpoint() -> str:
    return f"{settings.VISMA_IDENTITY_URL}/connect/authorize"


def token_endpoint() -> str:
    return f"{settings.VISMA_IDENTITY_URL}/connect/token"


def revocation_endpoint() -> str:
    return f"{settings.VISMA_IDENTITY_URL}/connect/revocation"


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str = ""
    subject: str = ""  # the Visma user the access was granted by (token_subject)

    def __repr__(self) -> str:  # never the tokens themselves
        return f"TokenSet(expires_in={self.expires_in}, scope={self.scope!r})"


class OAuthFailure(Exception):
    """The identity server refused or did not answer. `error` is the OAuth error code
    ("invalid_grant", …) or our own ("temporarily_unavailable", "invalid_response");
    `transient` says whether trying again later may help."""

    def __init__(self, error: str, description: str = "", *, transient: bool = False):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.transient = transient


class InvalidGrant(OAuthFailure):
    """The code or refresh token is dead (used, revoked, expired): only a new sign-in helps."""


def encode_client_secret_basic(client, method, uri, headers, body):
    """client_secret_basic as RFC 6749 §2.3.1 has it: the client id and secret are each
    form-urlencoded before they are joined and Base64-encoded. Authlib's own method joins
    them raw, so a secret holding "+", "%" or ":" would reach Visma as another secret.
    https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1"""
    text = f"{quote_plus(client.client_id)}:{quote_plus(client.client_secret)}"
    headers["Authorization"] = "Basic " + base64.b64encode(text.encode()).decode("ascii")
    return uri, headers, body


# Registered under its own name: Authlib keeps its built-in "client_secret_basic".
CLIENT_AUTH = ("client_secret_basic_rfc6749", encode_client_secret_basic)


def _session(redirect_uri: str | None = None) -> OAuth2Session:
    session = OAuth2Session(
        client_id=settings.VISMA_CLIENT_ID,
        client_secret=settings.VISMA_CLIENT_SECRET,
        token_endpoint_auth_method=CLIENT_AUTH[0],
        revocation_endpoint_auth_method=CLIENT_AUTH[0],
        scope=SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=timeout(),
    )
    session.register_client_auth_method(CLIENT_AUTH)
    return session


def authorization_request(redirect_uri: str) -> tuple[str, str, str]:
    """(url to send the browser to, state, code_verifier). Keep state and verifier in the
    session; the verifier never leaves this server until the token exchange."""
    code_verifier = generate_token(64)
    with _session(redirect_uri) as oauth:
        url, state = oauth.create_authorization_url(
            authorize_endpoint(),
            state=generate_token(32),
            code_verifier=code_verifier,
            # The user picks the company: Visma's identity server otherwise signs them into
            # their default one, and the books could land in a company nobody chose.
            # https://developer.visma.com/api/eaccounting (Authentication: "select company")
            prompt="select_account",
            acr_values="forceselectcompany:true",
        )
    return url, state, code_verifier


@sensitive_variables()
def _checked(token: dict) -> TokenSet:
    access = token.get("access_token")
    refresh = token.get("refresh_token")
    if not isinstance(access, str) or not access:
        raise OAuthFailure("invalid_response", "no access_token in the answer")
    if not isinstance(refresh, str) or not refresh:
        raise OAuthFailure("invalid_response", "no refresh_token in the answer (offline_access?)")
    try:
        expires_in = int(token["expires_in"])
    except (KeyError, TypeError, ValueError):
        raise OAuthFailure("invalid_response", "no valid expires_in in the answer") from None
    if expires_in <= 0:
        raise OAuthFailure("invalid_response", "expires_in is not positive")
    scope = token.get("scope") or ""
    return TokenSet(
        access,
        refresh,
        expires_in,
        scope if isinstance(scope, str) else "",
        subject=token_subject(access),
    )


@sensitive_variables()
def token_subject(access_token: str) -> str:
    """The Visma user an access token was issued to (its `sub` claim), or "" when the token
    does not say. Visma's identity servers are IdentityServers that issue JWT access tokens
    whose `sub` is the user's immutable id, the same for every company the user connects
    (https://docs.connect.visma.com/docs/access-token). It is read without checking the
    signature: the token came straight from the token endpoint over TLS, and the id only
    decides whether a revocation would also cut off another organisation's connection."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return ""
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return ""
    subject = claims.get("sub") if isinstance(claims, dict) else None
    return subject[:100] if isinstance(subject, str) else ""


@sensitive_variables()
def _token_call(what: str, call) -> TokenSet:
    try:
        token = call()
    except OAuthError as exc:
        error = exc.error or "oauth_error"
        description = exc.description or ""
        logger.warning("Visma identity %s refused: %s %s", what, error, description)
        if error == "invalid_grant":
            raise InvalidGrant(error, description) from None
        raise OAuthFailure(error, description) from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        logger.warning("Visma identity %s: HTTP %s", what, status)
        raise OAuthFailure(
            "temporarily_unavailable" if status >= 500 or status == 429 else "invalid_response",
            f"HTTP {status}",
            transient=status >= 500 or status == 429,
        ) from None
    except requests.RequestException as exc:
        logger.warning("Visma identity %s: %s", what, type(exc).__name__)
        raise OAuthFailure("temporarily_unavailable", type(exc).__name__, transient=True) from None
    except ValueError as exc:  # the body is not a JSON object
        logger.warning("Visma identity %s: %s", what, exc)
        raise OAuthFailure("invalid_response", "the answer is not a JSON object") from None
    if not isinstance(token, dict):
        raise OAuthFailure("invalid_response", "the answer is not a JSON object")
    return _checked(token)


@sensitive_variables()
def exchange_code(code: str, *, code_verifier: str, redirect_uri: str) -> TokenSet:
    """The authorization code (from the callback) for a token pair."""

    def call():
        with _session(redirect_uri) as oauth:
            return oauth.fetch_token(
                token_endpoint(),
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )

    return _token_call("code exchange", call)


@sensitive_variables()
def refresh(refresh_token: str) -> TokenSet:
    """A new pair for `refresh_token`. Visma cancels `refresh_token` as it answers: store the
    new pair before anything else can fail."""

    def call():
        with _session() as oauth:
            oauth.scope = None  # a refresh keeps the granted scopes; do not send them again
            return oauth.refresh_token(token_endpoint(), refresh_token=refresh_token)

    return _token_call("refresh", call)


@sensitive_variables()
def revoke(refresh_token: str) -> None:
    """Revoke the refresh token (and with it the grant). Raises OAuthFailure on failure."""
    try:
        with _session() as oauth:
            response = oauth.revoke_token(
                revocation_endpoint(), token=refresh_token, token_type_hint="refresh_token"
            )
    except requests.RequestException as exc:
        raise OAuthFailure("temporarily_unavailable", type(exc).__name__, transient=True) from None
    if response.status_code != 200:
        raise OAuthFailure("revocation_failed", f"HTTP {response.status_code}")
