"""Every URL pattern of the project, read from the resolver, so a new page is covered by the
security tests the day it is added.

A pattern with URL parameters needs sample values: Backoffice's own patterns take them
from SAMPLE_KWARGS (a test fails and names the pattern when one is missing), Django's admin
and the simulator get generic ones. `kind` sorts the patterns:

- "public": meant for everybody (sign-in, language, health check, the published schema);
- "api": the tills' API (bearer key, no session, no CSRF);
- "django-admin": Django's own admin site (is_staff users; none of our users is);
- "sandbox": the Visma simulator, test and demo equipment mounted only with VISMA_SANDBOX
  (refused with DEBUG off), with its own simulated Visma sign-in;
- "page": everything else, i.e. Backoffice's pages and actions: signed-in members of one
  organisation only.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Requests made by the security tests, by who made them (printed at the end of the run).
TRIED: Counter = Counter()

PUBLIC = {"home", "healthz", "login", "logout", "set_language", "settlements:schema"}
API = {"settlements:api"}
# The POSTs that change an organisation's data or settings: admins only.
ADMIN_ACTIONS = {
    "accounting:mapping",
    "visma:integration",
    "visma:connect",
    "visma:disconnect",
    "visma:refresh_chart",
    "visma:transfer_now",
    "visma:transfer_settlement",
    "visma:cost_centres",
    "settlements:correct",
    "visma:send_again",
    "visma:accept_visma",
    "issue_key",
    "revoke_key",
    "two_factor",
    "saft:imports",
    "settlements:calendar_close",
    "settlements:calendar_reopen",
}
# GET pages that only admins may open.
ADMIN_PAGES = {"visma:callback", "stores", "audit_log", "two_factor"}

# Per Backoffice pattern with parameters: which object each parameter names (filled in
# with Fjordkafé's objects by the fixtures: "settlement" -> its settlement's pk, ...).
SAMPLE_KWARGS: dict[str, dict[str, str]] = {
    "settlements:detail": {"pk": "settlement"},
    "settlements:pdf": {"pk": "settlement"},
    "visma:transfer_settlement": {"pk": "settlement"},
    "settlements:correct": {"pk": "settlement"},
    "visma:send_again": {"pk": "settlement"},
    "visma:accept_visma": {"pk": "settlement"},
    "issue_key": {"location_id": "location"},
    "revoke_key": {"key_id": "api_key"},
    "saft:detail": {"pk": "saft_import"},
    "saft:status": {"pk": "saft_import"},
    "settlements:calendar_day": {"register_id": "register", "day": "day"},
    "settlements:calendar_close": {"register_id": "register"},
    "settlements:calendar_reopen": {"closure_id": "closure"},
}

BY_NAME = {"app_label": "auth", "rest": "x", "url": "x/"}
GENERIC = {"int": "1", "str": "1", "path": "1", "slug": "x", "uuid": str(uuid.UUID(int=1))}


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route itself when unnamed
    route: str
    callback: Callable
    kind: str
    params: tuple[str, ...]

    def url(self, values: dict[str, str] | None = None) -> str:
        kwargs = self.kwargs(values or {})
        if ":" in self.name or self.name in PUBLIC:
            try:
                return reverse(self.name, kwargs=kwargs)
            except Exception:  # noqa: BLE001 - an unnamed or ambiguous pattern
                pass
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: kwargs[m[1]], self.route)
        text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: kwargs[m[1]], text)
        return "/" + re.sub(r"[\^$\\]", "", text)

    def kwargs(self, values: dict[str, str]) -> dict[str, str]:
        if not self.params:
            return {}
        if self.kind == "page":
            wanted = SAMPLE_KWARGS[self.name]
            return {param: values[wanted[param]] for param in self.params}
        return {
            param: BY_NAME.get(param) or GENERIC.get(self._converter(param), "1")
            for param in self.params
        }

    def _converter(self, param: str) -> str:
        match = re.search(rf"<(\w+):{param}>", self.route)
        return match[1] if match else "str"

    @property
    def csrf_exempt(self) -> bool:
        return getattr(self.callback, "csrf_exempt", False)


def _kind(name: str, namespace: str) -> str:
    if name in PUBLIC:
        return "public"
    if name in API:
        return "api"
    if namespace.split(":")[0] == "admin":
        return "django-admin"
    if namespace.split(":")[0] == "visma_sandbox":
        return "sandbox"
    return "page"


def _walk(patterns, prefix: str, namespace: str) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                name = f"{namespace}:{route}" if namespace else route
            groups = re.findall(r"\(\?P<(\w+)>", route)
            converters = re.findall(r"<(?:\w+:)?(\w+)>", re.sub(r"\(\?P<\w+>", "", route))
            params = tuple(converters + groups)
            yield Route(name, route, entry.callback, _kind(name, namespace), params)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", ""))


def routes(*kinds: str) -> list[Route]:
    return [route for route in all_routes() if route.kind in kinds]
