import re

from django import forms
from django_countries.fields import CountryField

from compliance.models import ContractVersion, EnforcementKind, ReviewOutcome, ViolationKind, ViolationSeverity
from core.forms import UTC_INPUT_HINT, UTCDateTimeField
from core.levels import AccessLevel
from partners.models import Partner, PartnerStatus

REQUIRED_LEVEL_CHOICES = [
    (level.value, f"{level.label} and above") for level in AccessLevel if level != AccessLevel.NONE
]


class ContractVersionForm(forms.Form):
    """A new version to publish. Once published it cannot be edited: a change is another new version."""

    contract_key = forms.SlugField(max_length=50, help_text="Identifies the contract across versions, e.g. nda.")
    title = forms.CharField(max_length=200)
    version = forms.IntegerField(min_value=1)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 18}), help_text="Markdown.", strip=False)
    effective_at = UTCDateTimeField(label="Effective at (UTC)")
    required_from_level = forms.TypedChoiceField(choices=REQUIRED_LEVEL_CHOICES, coerce=int)
    validity_days = forms.IntegerField(min_value=1, initial=365, help_text="How long a signature stays valid.")
    previous_versions_valid_until = UTCDateTimeField(
        required=False,
        label="Re-sign deadline (UTC)",
        help_text=f"{UTC_INPUT_HINT} Agreements to earlier versions keep counting until then; empty: they stop "
        "when this version takes effect.",
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


# Violations, enforcement, appeals, policies, reviews -------------------------------------------------------------

CAP_CHOICES = [(level.value, level.label) for level in AccessLevel if level != AccessLevel.EARLY]


class ReportViolationForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=None, label="Organisation")
    kind = forms.ChoiceField(choices=ViolationKind.choices)
    severity = forms.ChoiceField(choices=ViolationSeverity.choices)
    summary = forms.CharField(max_length=300)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
    related_advisories = forms.CharField(
        required=False, help_text="Advisory identifiers (FWN-YYYY-NNNN), separated by spaces or commas."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.exclude(status=PartnerStatus.REMOVED).order_by("legal_name")

    def clean_related_advisories(self):
        identifiers = [part.strip().upper() for part in re.split(r"[\s,]+", self.cleaned_data["related_advisories"])]
        identifiers = [identifier for identifier in identifiers if identifier]
        wrong = [identifier for identifier in identifiers if not ADVISORY_IDENTIFIER.fullmatch(identifier)]
        if wrong:
            raise forms.ValidationError(f"Not advisory identifiers: {', '.join(wrong)}.")
        return identifiers


ADVISORY_IDENTIFIER = re.compile(r"FWN-\d{4}-\d{4,}")


VIOLATION_TRANSITION_CHOICES = [
    ("start_investigation", "Start the investigation"),
    ("substantiate", "Substantiate"),
    ("dismiss", "Dismiss"),
    ("close", "Close"),
]


def offer_only(field, allowed) -> None:
    """Show only the `allowed` choices of a field (the state machine's next steps). The field still accepts the
    others, so that a crafted request reaches the service and gets its refusal, not a generic form error."""
    field.widget.choices = [(value, label) for value, label in field.choices if value in allowed]


class ViolationTransitionForm(forms.Form):
    transition = forms.ChoiceField(label="Step to take", choices=VIOLATION_TRANSITION_CHOICES, widget=forms.RadioSelect)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why: kept in the investigation log.")

    def __init__(self, *args, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            offer_only(self.fields["transition"], allowed)


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Investigation note")


class EvidenceForm(forms.Form):
    file = forms.FileField()
    description = forms.CharField(max_length=300, required=False)


class EnforcementForm(forms.Form):
    kind = forms.ChoiceField(label="Action", choices=EnforcementKind.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Sent to the organisation's admins.")
    cap_level = forms.TypedChoiceField(choices=CAP_CHOICES, coerce=int, required=False, label="Cap (level caps)")
    ends_at = UTCDateTimeField(
        required=False,
        label="Ends (UTC)",
        help_text=f"Caps and suspensions; empty: open-ended. {UTC_INPUT_HINT}",
    )

    def __init__(self, *args, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            offer_only(self.fields["kind"], allowed)
            if EnforcementKind.LEVEL_CAP not in allowed:
                del self.fields["cap_level"]
            if not {EnforcementKind.LEVEL_CAP, EnforcementKind.SUSPENSION} & set(allowed):
                del self.fields["ends_at"]


class AppealForm(forms.Form):
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), label="Your statement")


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("uphold", "Uphold the action"), ("overturn", "Overturn the action")], widget=forms.RadioSelect
    )
    decision = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="Sent to the organisation's admins.")

    def __init__(self, *args, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            offer_only(self.fields["outcome"], allowed)


class JurisdictionPolicyForm(forms.Form):
    country = CountryField().formfield()
    cap_level = forms.TypedChoiceField(choices=AccessLevel.choices, coerce=int, help_text="Early lifts a cap.")
    effective_at = UTCDateTimeField(label="Effective at (UTC)")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.Form):
    findings = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    outcome = forms.ChoiceField(choices=ReviewOutcome.choices)
