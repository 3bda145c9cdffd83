"""Signing in (issue 17, item 2): the lock-out after repeated failures (django-axes, per
username and per address), and two-factor sign-in with a TOTP app (django-otp) that
superusers and organisation admins can turn on for themselves. The admin site requires it
(backoffice/admin.py).

A user with a confirmed TOTP device gives the six-digit code on the same sign-in form; a
wrong code counts as a failed sign-in for the lock-out, like a wrong password.
"""

from __future__ import annotations

import datetime as dt

import segno
from axes.helpers import get_cool_off
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Membership

ISSUER = "Backoffice"


def has_two_factor(user) -> bool:
    return any(devices_for_user(user, confirmed=True))


def may_use_two_factor(user) -> bool:
    """Superusers and organisation admins (the accounts that can change books)."""
    return (
        user.is_superuser
        or Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()
    )


class SignInForm(AuthenticationForm):
    otp_token = forms.CharField(
        label=gettext_lazy("Kode fra autentiseringsappen"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "otp_required": gettext_lazy(
            "Tofaktor-innlogging er slått på for denne brukeren: skriv inn koden fra "
            "autentiseringsappen."
        ),
        "otp_wrong": gettext_lazy("Koden fra autentiseringsappen stemmer ikke. Prøv igjen."),
    }

    @sensitive_variables("token")
    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is None or not has_two_factor(user):
            return cleaned
        token = (self.cleaned_data.get("otp_token") or "").replace(" ", "")
        if not token:
            raise forms.ValidationError(self.error_messages["otp_required"], code="otp_required")
        if _verified_device(user, token) is not None:
            return cleaned
        # A wrong code is a failed sign-in: the lock-out counts it like a wrong password.
        user_login_failed.send(
            sender=__name__,
            credentials={"username": self.cleaned_data.get("username", "")},
            request=self.request,
        )
        raise forms.ValidationError(self.error_messages["otp_wrong"], code="otp_wrong")


@sensitive_variables("token")
def _verified_device(user, token: str):
    """The user's confirmed device that accepts `token` (django-otp throttles each device's
    failures), remembered on the user so that django_otp.login() keeps it in the session."""
    with transaction.atomic():  # for_verify locks the device rows
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(token):
                user.otp_device = device
                return device
    return None


class SignInView(auth_views.LoginView):
    form_class = SignInForm


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer while a username or an address is locked out: a page that says
    when to try again (status 429)."""
    until = timezone.now() + (get_cool_off(request) or dt.timedelta(0))
    return render(
        request,
        "registration/locked_out.html",
        {"until": timezone.localtime(until)},
        status=429,
    )


# ------------------------------------------------------------------ turning it on and off


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label=gettext_lazy("Kode fra autentiseringsappen"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def token(self) -> str:
        return self.cleaned_data["otp_token"].replace(" ", "")


def _pending_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=ISSUER, confirmed=False)
    return device


@sensitive_variables()
def _qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#17323d")


@never_cache
@sensitive_post_parameters("otp_token")
@sensitive_variables()
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Konto > Tofaktor-innlogging: scan the QR code, confirm with a code; or turn it off
    with a current code."""
    user = request.user
    if not may_use_two_factor(user):
        raise PermissionDenied(_("Tofaktor-innlogging er for administratorer."))
    enabled = has_two_factor(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if enabled:
            if _verified_device(user, form.token()) is not None:
                TOTPDevice.objects.filter(user=user).delete()
                messages.success(request, _("Tofaktor-innlogging er slått av."))
                return redirect("two_factor")
        else:
            device = _pending_device(user)
            if device.verify_token(form.token()):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                otp_login(request, device)
                messages.success(
                    request,
                    _(
                        "Tofaktor-innlogging er slått på. Neste gang du logger inn, spør vi om koden."
                    ),
                )
                return redirect("two_factor")
        form.add_error("otp_token", _("Koden stemmer ikke. Prøv igjen med koden appen viser nå."))
    context = {"enabled": enabled, "form": form}
    if not enabled:
        device = _pending_device(user)
        context["qr_svg"] = _qr_svg(device)
        context["secret"] = _base32(device)
    return render(request, "registration/two_factor.html", context)


def _base32(device: TOTPDevice) -> str:
    import base64

    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
