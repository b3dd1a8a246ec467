"""Forms of the program managers' advisory pages and the partners' notice preferences. They check what a field
can check alone; the services decide everything else (uniqueness, order of waves, freezing)."""

from django import forms
from django.core.exceptions import ValidationError

from advisories.models import TLP, Advisory, AdvisoryStatus, EmailMode, IndicatorType
from advisories.stix.bundle import STIX_INDICATOR_TYPES
from advisories.validators import normalise_cve_ids, parse_affected_products, score_cvss_vector, validate_cwe_id
from compliance.models import ViolationSeverity
from core.forms import UTCDateTimeField
from core.levels import AccessLevel


class AdvisoryForm(forms.Form):
    title = forms.CharField(max_length=300)
    cve_ids = forms.CharField(
        label="CVE ids",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="CVE-YYYY-NNNN, separated by commas, spaces or lines.",
    )
    affected_products = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One product per line: its name, then its CPE and/or package URL (PURL), separated by |, e.g. "
        "Widget Server 4.2 | cpe:2.3:a:widgetco:widget_server:4.2:*:*:*:*:*:*:* | pkg:generic/widgetco/widget@4.2. "
        "CSAF consumers match products by these identifiers.",
    )
    cwe_id = forms.CharField(
        label="CWE", required=False, max_length=20, help_text="The weakness, when known, e.g. CWE-787."
    )
    cvss_vector = forms.CharField(
        label="CVSS v3.1 vector",
        required=False,
        max_length=200,
        help_text="e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H; the score and severity are computed.",
    )
    tlp = forms.ChoiceField(label="TLP", choices=TLP.choices, initial=TLP.AMBER)
    fingerprint_letters = forms.BooleanField(
        label=Advisory._meta.get_field("fingerprint_letters").verbose_name.capitalize(),
        required=False,
        help_text="Warning: " + Advisory._meta.get_field("fingerprint_letters").help_text,
    )

    def clean_cve_ids(self):
        return normalise_cve_ids(self.cleaned_data["cve_ids"])

    def clean_cvss_vector(self):
        vector, _score = score_cvss_vector(self.cleaned_data["cvss_vector"])
        return vector

    def clean_affected_products(self):
        """The product names, one per line; their identifiers go to `product_identifiers`."""
        products = parse_affected_products(self.cleaned_data["affected_products"])
        self.cleaned_data["product_identifiers"] = {p.name: p.identifiers for p in products if p.identifiers}
        return "\n".join(product.name for product in products)

    def clean_cwe_id(self):
        cwe_id = self.cleaned_data["cwe_id"].strip().upper()
        if cwe_id.isdigit():
            cwe_id = f"CWE-{cwe_id}"
        validate_cwe_id(cwe_id)
        return cwe_id


class NewAdvisoryForm(AdvisoryForm):
    public_release_at = UTCDateTimeField(label="Public release (UTC)")


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=300)
    body_markdown = forms.CharField(label="Description (Markdown)", widget=forms.Textarea(attrs={"rows": 18}))


class ArtifactForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    level = forms.TypedChoiceField(
        choices=[(AccessLevel.STANDARD.value, "standard"), (AccessLevel.EARLY.value, "early")], coerce=int
    )
    file = forms.FileField(help_text="Text (rules, IOCs, code), ZIP or PDF.")


class DetectionIndicatorForm(forms.Form):
    level = forms.TypedChoiceField(
        choices=[(AccessLevel.STANDARD.value, "standard"), (AccessLevel.EARLY.value, "early")], coerce=int
    )
    indicator_type = forms.ChoiceField(
        label="Type", choices=[(kind, IndicatorType(kind).label) for kind in STIX_INDICATOR_TYPES]
    )
    value = forms.CharField(max_length=2048)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReleasePlanForm(forms.Form):
    early_at = UTCDateTimeField(label="Early wave (UTC)", required=False)
    standard_at = UTCDateTimeField(label="Standard wave (UTC)", required=False)
    public_release_at = UTCDateTimeField(label="Public release, generic wave (UTC)")


class WithdrawForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class AssignManagerForm(forms.Form):
    email = forms.EmailField(label="Program manager's email")


class NoticePreferenceForm(forms.Form):
    email_mode = forms.ChoiceField(label="Email me", choices=EmailMode.choices, widget=forms.RadioSelect)


class HandlingAcknowledgementForm(forms.Form):
    acknowledge = forms.BooleanField(
        label="I acknowledge this advisory's TLP label and will handle it according to these terms.",
        error_messages={"required": "Tick the box to acknowledge the TLP label and handling terms."},
    )


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
    observed_at = UTCDateTimeField(label="First observed (UTC)")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))

    field_order = ["advisory", "observed_at", "description", "sample_text", "sample_file", "sample_source"]


class SuspectViolationForm(forms.Form):
    """Open a violation against an organisation exposed to a leak: both choices are deliberate, nothing preset."""

    partner = forms.TypedChoiceField(label="Organisation", coerce=int)
    severity = forms.ChoiceField(
        choices=[("", "— choose the severity —"), *ViolationSeverity.choices],
        error_messages={"required": "Choose the severity: nothing is preset."},
    )

    def __init__(self, *args, exposures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = [("", "— choose the organisation —")] + [
            (exposure.partner.pk, str(exposure.partner)) for exposure in exposures
        ]
