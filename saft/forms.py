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
    # Form's metaclass moves declared fields off the class, so this does not replace
    # BaseForm.files (the uploads) as the stubs, which cannot see that, believe.
    files = MultipleFileField(label=_("SAF-T-filer (XML)"))  # type: ignore[assignment]

    def __init__(self, *args, organization, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        location = self.fields["location"]
        assert isinstance(location, forms.ModelChoiceField)  # declared above
        location.queryset = Location.objects.filter(organization=organization)
        location.empty_label = None

    def clean_files(self):
        files = self.cleaned_data["files"]
        if sum(f.size for f in files) > self.max_bytes:
            raise forms.ValidationError(
                _("Filene er for store (høyst %(mb)s MB til sammen).")
                % {"mb": self.max_bytes // (1024 * 1024)}
            )
        return files
