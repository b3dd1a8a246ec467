from django import forms

from compliance.models import ContractVersion
from core.levels import AccessLevel

REQUIRED_LEVEL_CHOICES = [
    (level.value, f"{level.label} and above") for level in AccessLevel if level != AccessLevel.NONE
]


class UTCDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ContractVersionForm(forms.Form):
    """A new version to publish. Once published it cannot be edited: a change is another new version."""

    contract_key = forms.SlugField(max_length=50, help_text="Identifies the contract across versions, e.g. nda.")
    title = forms.CharField(max_length=200)
    version = forms.IntegerField(min_value=1)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 18}), help_text="Markdown.", strip=False)
    effective_at = forms.DateTimeField(widget=UTCDateTimeInput(), help_text="UTC.")
    required_from_level = forms.TypedChoiceField(choices=REQUIRED_LEVEL_CHOICES, coerce=int)
    validity_days = forms.IntegerField(min_value=1, initial=365, help_text="How long a signature stays valid.")
    previous_versions_valid_until = forms.DateTimeField(
        required=False,
        widget=UTCDateTimeInput(),
        label="Re-sign deadline",
        help_text="UTC. Agreements to earlier versions keep counting until then; empty: they stop when this "
        "version takes effect.",
    )

    @classmethod
    def initial_from(cls, version: ContractVersion | None, now) -> dict:
        """Start a new version from an existing one: same contract, next number, effective now."""
        if version is None:
            return {"effective_at": now, "validity_days": 365}
        latest = ContractVersion.objects.filter(contract_key=version.contract_key).order_by("-version").first()
        return {
            "contract_key": version.contract_key,
            "title": version.title,
            "version": latest.version + 1,
            "text": version.text,
            "effective_at": now,
            "required_from_level": version.required_from_level,
            "validity_days": version.validity_days,
        }


class SignAgreementForm(forms.Form):
    signer_name = forms.CharField(max_length=200, label="Your full name")
    signer_title = forms.CharField(max_length=200, label="Your job title")
    consent = forms.BooleanField(
        label="I have read the full text above and agree to it on behalf of my organisation.",
        error_messages={"required": "Confirm that you agree to the text, on behalf of your organisation."},
    )
    text_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64, min_length=64)
