from django import forms
from django.utils.translation import gettext_lazy as _

from backoffice.models import Location


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Django's documented way to take several files in one field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".xml,text/xml"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none(), label=_("Butikk"))
    files = MultipleFileField(label=_("SAF-T-filer (XML)"))

    def __init__(self, *args, organization, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.fields["location"].queryset = Location.objects.filter(organization=organization)
        self.fields["location"].empty_label = None

    def clean_files(self):
        files = self.cleaned_data["files"]
        if sum(f.size for f in files) > self.max_bytes:
            raise forms.ValidationError(
                _("Filene er for store (høyst %(mb)s MB til sammen).")
                % {"mb": self.max_bytes // (1024 * 1024)}
            )
        return files
