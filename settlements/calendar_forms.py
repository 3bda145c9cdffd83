"""The calendar's form: marking a register closed for a day or for good."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

DAY = "day"
FOR_GOOD = "for_good"


class CloseRegisterForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("Stengt"),
        choices=[(DAY, _("Stengt denne dagen")), (FOR_GOOD, _("Stengt for godt"))],
        error_messages={"required": _("Velg om kassen var stengt denne dagen eller for godt.")},
    )
    day = forms.DateField(
        label=_("Dag"),
        required=False,
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        error_messages={"invalid": _("Dagen må være en dato (dd.mm.åååå).")},
    )
    note = forms.CharField(
        label=_("Notat"),
        required=False,
        max_length=200,
        error_messages={"max_length": _("Notatet kan være høyst 200 tegn.")},
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("scope") == DAY and not data.get("day") and "day" not in self.errors:
            self.add_error("day", _("Velg dagen kassen var stengt."))
        return data

    @property
    def closed_day(self) -> date | None:
        """The day to mark closed, or None for good (after is_valid)."""
        return None if self.cleaned_data["scope"] == FOR_GOOD else self.cleaned_data["day"]
