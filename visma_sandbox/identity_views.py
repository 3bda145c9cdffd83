"""The simulated identity server (VISMA_IDENTITY_URL = http://HOST/visma-sandbox/identity).

Browser flow: /connect/authorize checks the request and parks it in the session under a
random transaction id; then sign-in (/account/login), the company choice when the user has
several and the client asked for it (Visma's acr_values=forceselectcompany:true; like Visma,
prompt=select_account alone does not show the list), and the consent page, whose "Yes, allow" sends the
browser back to the redirect URI with ?code=…&state=… (decline: ?error=access_denied).

The forms carry the transaction id, which is random and bound to the session: it is the
anti-forgery token, so the forms need no Django CSRF cookie and a script (a test driving the
flow with `requests`) can post them without reading HTML first.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import chart, oauth, services
from .models import SandboxUser

TXN_KEY = "visma_sandbox_txn"
USER_KEY = "visma_sandbox_user"
KEEP_PENDING = 10


def _error_page(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "visma_sandbox/identity_error.html", {"message": message}, status=status)


def _url(name: str, txn: str, **extra) -> str:
    return f"{reverse(f'visma_sandbox:{name}')}?{urlencode({'txn': txn, **extra})}"


def _pending(request: HttpRequest, txn: str) -> dict | None:
    return request.session.get(TXN_KEY, {}).get(txn)


def _save_pending(request: HttpRequest, txn: str, data: dict | None) -> None:
    pending = dict(request.session.get(TXN_KEY, {}))
    pending.pop(txn, None)
    if data is not None:
        pending[txn] = data
        # Only the latest few flows stay parked (dicts keep insertion order).
        pending = dict(list(pending.items())[-KEEP_PENDING:])
    request.session[TXN_KEY] = pending


def _signed_in(request: HttpRequest) -> SandboxUser | None:
    user_id = request.session.get(USER_KEY)
    return SandboxUser.objects.filter(pk=user_id).first() if user_id else None


@require_GET
def authorize(request: HttpRequest) -> HttpResponse:
    try:
        wanted = oauth.parse_authorize_request(request.GET)
    except oauth.UntrustedRedirect as problem:
        return _error_page(request, str(problem))
    except oauth.AuthorizeRedirectError as refusal:
        return HttpResponseRedirect(refusal.url)
    txn = secrets.token_urlsafe(16)
    _save_pending(request, txn, wanted.to_session())
    if wanted.force_login:
        request.session.pop(USER_KEY, None)
    return _next_step(request, txn)


def _next_step(request: HttpRequest, txn: str) -> HttpResponse:
    data = _pending(request, txn)
    assert data is not None  # both callers have just parked the flow
    user = _signed_in(request)
    if user is None:
        return HttpResponseRedirect(_url("login", txn))
    if "company_id" not in data:
        companies = list(user.companies.all())
        if not companies:
            return _error_page(request, f"{user.email} has no company in Visma eAccounting.", 403)
        if len(companies) > 1 and data["force_select_company"]:
            return HttpResponseRedirect(_url("select_company", txn))
        company = user.default_company if user.default_company in companies else companies[0]
        data["company_id"] = company.pk
        _save_pending(request, txn, data)
    return HttpResponseRedirect(_url("consent", txn))


def _flow(request: HttpRequest):
    """(txn, parked request data) of a form or link, or an error page."""
    txn = request.POST.get("txn") or request.GET.get("txn") or ""
    data = _pending(request, txn)
    if data is None:
        return None, _error_page(
            request,
            "This sign-in has expired or was already completed. Start again from the application.",
        )
    return txn, data


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    txn, data = _flow(request)
    if txn is None:
        return data
    if request.GET.get("switch"):
        request.session.pop(USER_KEY, None)
        data.pop("company_id", None)
        _save_pending(request, txn, data)
    error = ""
    email = chart.DEMO_USER_EMAIL
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()
        user = SandboxUser.objects.filter(email=email).first()
        if user and services.password_matches(request.POST.get("password", ""), user.password):
            request.session[USER_KEY] = user.pk
            data.pop("company_id", None)
            _save_pending(request, txn, data)
            return _next_step(request, txn)
        error = "The e-mail address or password is incorrect."
    context = {
        "txn": txn,
        "email": email,
        "error": error,
        "client_name": _client_name(data),
        "demo_email": chart.DEMO_USER_EMAIL,
        "demo_password": chart.DEMO_USER_PASSWORD,
        "users": SandboxUser.objects.order_by("email"),
    }
    return render(request, "visma_sandbox/login.html", context, status=200 if not error else 400)


def _client_name(data: dict) -> str:
    request = oauth.AuthorizeRequest.from_session(data)
    return request.client.name if request else data.get("client_id", "")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def select_company(request: HttpRequest) -> HttpResponse:
    txn, data = _flow(request)
    if txn is None:
        return data
    user = _signed_in(request)
    if user is None:
        return HttpResponseRedirect(_url("login", txn))
    companies = user.companies.order_by("name")
    if request.method == "POST":
        company = companies.filter(pk=request.POST.get("company") or 0).first()
        if company is not None:
            data["company_id"] = company.pk
            _save_pending(request, txn, data)
            return HttpResponseRedirect(_url("consent", txn))
    context = {"txn": txn, "user": user, "companies": companies, "client_name": _client_name(data)}
    return render(request, "visma_sandbox/select_company.html", context)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    txn, data = _flow(request)
    if txn is None:
        return data
    user = _signed_in(request)
    wanted = oauth.AuthorizeRequest.from_session(data)
    if user is None or "company_id" not in data or wanted is None:
        return HttpResponseRedirect(_url("login", txn))
    company = user.companies.filter(pk=data["company_id"]).first()
    if company is None:
        return HttpResponseRedirect(_url("login", txn, switch=1))
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision == "allow":
            code = oauth.issue_code(wanted, user=user, company=company)
            _save_pending(request, txn, None)
            return HttpResponseRedirect(
                oauth.redirect_with(wanted.redirect_uri, {"code": code, "state": wanted.state})
            )
        if decision == "deny":
            _save_pending(request, txn, None)
            return HttpResponseRedirect(
                oauth.redirect_with(
                    wanted.redirect_uri,
                    {
                        "error": "access_denied",
                        "error_description": "The user declined the request.",
                        "state": wanted.state,
                    },
                )
            )
    context = {
        "txn": txn,
        "user": user,
        "company": company,
        "client_name": wanted.client.name,
        "scopes": [(scope, oauth.KNOWN_SCOPES[scope]) for scope in wanted.scopes],
        "several_companies": user.companies.count() > 1,
    }
    return render(request, "visma_sandbox/consent.html", context)


def _oauth_error(error: oauth.OAuthError) -> JsonResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="visma-sandbox"'
    return JsonResponse(error.as_dict(), status=error.status, headers=headers)


def _form_request(request: HttpRequest) -> None:
    # Visma: token requests must always be application/x-www-form-urlencoded.
    if request.content_type != "application/x-www-form-urlencoded":
        raise oauth.OAuthError(
            "invalid_request", "The body must be application/x-www-form-urlencoded."
        )


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    try:
        _form_request(request)
        client = oauth.authenticate_client(request)
        grant_type = request.POST.get("grant_type", "")
        if grant_type == "authorization_code":
            answer = oauth.exchange_code(
                client=client,
                code=request.POST.get("code", ""),
                redirect_uri=request.POST.get("redirect_uri", ""),
                code_verifier=request.POST.get("code_verifier", ""),
            )
        elif grant_type == "refresh_token":
            answer = oauth.refresh(
                client=client,
                refresh_token=request.POST.get("refresh_token", ""),
                scope=request.POST.get("scope", ""),
            )
        elif not grant_type:
            raise oauth.OAuthError("invalid_request", "grant_type is missing.")
        else:
            raise oauth.OAuthError("unsupported_grant_type")
    except oauth.OAuthError as error:
        return _oauth_error(error)
    return JsonResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@csrf_exempt
@require_POST
def revocation(request: HttpRequest) -> HttpResponse:
    try:
        _form_request(request)
        client = oauth.authenticate_client(request)
        raw = request.POST.get("token", "")
        if not raw:
            raise oauth.OAuthError("invalid_request", "token is missing.")
        oauth.revoke(
            client=client, token=raw, token_type_hint=request.POST.get("token_type_hint", "")
        )
    except oauth.OAuthError as error:
        return _oauth_error(error)
    return HttpResponse(status=200)


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    """/.well-known/openid-configuration, as IdentityServer publishes it (trimmed)."""
    base = request.build_absolute_uri(reverse("visma_sandbox:identity_root")).rstrip("/")
    return JsonResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/connect/authorize",
            "token_endpoint": f"{base}/connect/token",
            "revocation_endpoint": f"{base}/connect/revocation",
            "scopes_supported": list(oauth.KNOWN_SCOPES),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
    )


@require_GET
def identity_root(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(reverse("visma_sandbox:home"))
