from django import forms
from django.utils.translation import gettext_lazy as _

from backoffice.models import Location, Organization, Register

from .transfer import provider


class RegisterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Register) -> str:
        return f"{obj.code} ({obj.location.name})"


class SettlementFilterForm(forms.Form):
    """The filters of the settlement list; every choice comes from the user's organisation."""

    location = forms.ModelChoiceField(
        label=_("Butikk"), queryset=Location.objects.none(), required=False, empty_label=_("Alle")
    )
    register = RegisterChoiceField(
        label=_("Kasse"), queryset=Register.objects.none(), required=False, empty_label=_("Alle")
    )
    state = forms.ChoiceField(label=_("Status"), required=False)
    date_from = forms.DateField(
        label=_("Fra dato"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Til dato"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        # The fields declared above (self.fields holds copies of them).
        location, register, state = (self.fields[n] for n in ("location", "register", "state"))
        assert isinstance(location, forms.ModelChoiceField)
        assert isinstance(register, forms.ModelChoiceField)
        assert isinstance(state, forms.ChoiceField)
        location.queryset = Location.objects.filter(organization=organization)
        registers = Register.objects.filter(location__organization=organization).select_related(
            "location"
        )
        register.queryset = registers.order_by("location__name", "code")
        state.choices = [("", _("Alle")), *provider().state_choices()]

    def filter(self, queryset):
        """The queryset narrowed by the filters; an invalid one is shown as such and ignored."""
        if not self.is_bound:
            return queryset
        self.is_valid()
        data = self.cleaned_data  # only the fields that are valid
        if data.get("location"):
            queryset = queryset.filter(location=data["location"])
        if data.get("register"):
            register = data["register"]
            queryset = queryset.filter(location_id=register.location_id, register_id=register.code)
        if data.get("state"):
            queryset = provider().filter_state(queryset, data["state"])
        if data.get("date_from"):
            queryset = queryset.filter(business_date__gte=data["date_from"])
        if data.get("date_to"):
            queryset = queryset.filter(business_date__lte=data["date_to"])
        return queryset


class CorrectionForm(forms.Form):
    """ "Korriger" on a settlement's page: the corrected settlement as a JSON file, in the
    format the tills send (the published schema), for the same register and Z-number."""

    file = forms.FileField(
        label=_("Rettet oppgjør (JSON-fil)"),
        help_text=_(
            "Samme format som kassen sender (API-et), med samme kasse og Z-nummer. Er "
            "oppgjøret allerede i Visma, motposteres bilaget og det rettede oppgjøret "
            "overføres som nytt bilag; ingenting endres i det gamle."
        ),
    )
