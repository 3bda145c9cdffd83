"""Browser hardening for signed-in pages (issue 17, item 6).

- PrivatePages: a page for a signed-in user is never stored by the browser or a proxy
  (Cache-Control: no-store), so the back button after signing out, or the next user of a
  shared computer, finds no settlement or API key in a cache.
- SessionLifetime: a sign-in lasts at most SESSION_ABSOLUTE_SECONDS (12 hours) however
  busy; the idle limit (2 hours) is Django's own SESSION_COOKIE_AGE, renewed on every
  request (SESSION_SAVE_EVERY_REQUEST).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.cache import patch_cache_control

SIGNED_IN_AT = "signed_in_at"


@receiver(user_logged_in)
def _remember_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            now = time.time()
            if not isinstance(started, int | float):
                request.session[SIGNED_IN_AT] = now  # a session from before this rule
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)  # the page then asks to sign in again
        return self.get_response(request)


class PrivatePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
