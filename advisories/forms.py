from django import forms
from django.core.exceptions import ValidationError

from advisories.models import Advisory, AdvisoryStatus
from compliance.models import ViolationSeverity

MAX_SAMPLE_UPLOAD_BYTES = 1024 * 1024


class LeakSampleFields(forms.Form):
    sample_text = forms.CharField(
        label="Leaked text", required=False, widget=forms.Textarea(attrs={"rows": 8}), strip=False
    )
    sample_file = forms.FileField(label="…or a file with the leaked text", required=False)
    sample_source = forms.CharField(label="Where it was found", required=False, max_length=300)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("sample_file")
        if upload is not None:
            if upload.size > MAX_SAMPLE_UPLOAD_BYTES:
                raise ValidationError("Sample files may be at most 1 MiB.")
            cleaned["sample_text"] = upload.read().decode("utf-8", errors="replace")
            cleaned["sample_source"] = cleaned.get("sample_source") or upload.name
        return cleaned


class LeakSampleForm(LeakSampleFields):
    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("sample_text") or "").strip():
            raise ValidationError("Paste the leaked text or upload a file.")
        return cleaned


class LeakIncidentForm(LeakSampleFields):
    advisory = forms.ModelChoiceField(
        queryset=Advisory.objects.filter(status__in=[AdvisoryStatus.RELEASED, AdvisoryStatus.PUBLIC]),
        to_field_name="identifier",
    )
    observed_at = forms.DateTimeField(label="First observed (UTC)", help_text="YYYY-MM-DD HH:MM, UTC.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))

    field_order = ["advisory", "observed_at", "description", "sample_text", "sample_file", "sample_source"]


class SuspectViolationForm(forms.Form):
    partner = forms.IntegerField(widget=forms.HiddenInput)
    severity = forms.ChoiceField(choices=ViolationSeverity.choices, initial=ViolationSeverity.HIGH)
