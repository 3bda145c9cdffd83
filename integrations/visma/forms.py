from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TransferSettings


class TransferSettingsForm(forms.ModelForm):
    class Meta:
        model = TransferSettings
        fields = ["interval", "lookback_days", "run_time", "attach_zreport", "send_as_draft"]
        labels = {
            "interval": _("Hvor ofte"),
            "lookback_days": _("Hent oppgjør bakover"),
            "run_time": _("Klokkeslett"),
            "attach_zreport": _("Legg ved Z-rapport som PDF"),
            "send_as_draft": _("Send som kladd (bilagsforslag) til regnskapsfører"),
        }
        help_texts = {
            "interval": _("Ukentlig: mandager. Månedlig: den 1. i måneden."),
            "lookback_days": _(
                "Hvor langt tilbake dagsoppgjør som ikke er overført ennå, tas med."
            ),
            "run_time": _("Norsk tid."),
            "attach_zreport": _(
                "Hvert bilag får dagsoppgjøret som Z-rapport (PDF) vedlagt i Visma, som "
                "dokumentasjon for regnskapsføreren. Feiler opplastingen, overføres bilaget "
                "likevel, og vedlegget prøves igjen ved neste overføring."
            ),
            "send_as_draft": _(
                "Bilagene legges som kladd i Visma, og regnskapsfører godkjenner dem der. "
                "Oppgjøret vises som «kladd i Visma» til kladden er bokført."
            ),
        }
        widgets = {
            "interval": forms.RadioSelect,
            "run_time": forms.TimeInput(attrs={"type": "time", "step": 60}, format="%H:%M"),
        }

    def __init__(self, *args, editable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not editable:
            for field in self.fields.values():
                field.disabled = True
