from django import forms

from advisories.models import Confidence, FeedbackKind, IndicatorType, ProtectionState
from advisories.protection import services
from core.forms import UTCDateTimeField


class ProtectionStatusForm(forms.Form):
    """The organisation's status for one advisory; the state choices are the current one and those the state
    machine allows next (the service refuses anything else anyway)."""

    state = forms.ChoiceField(label="Status")
    products = forms.CharField(
        required=False,
        max_length=services.PRODUCTS_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Product(s) and version",
        help_text="e.g. “Acme EDR 7.4.2, Acme IPS signature pack 2026.11.3”. Needed to report shipped.",
    )
    signature_ids = forms.CharField(
        required=False,
        max_length=services.SIGNATURE_IDS_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Signature or rule ids",
        help_text="One per line.",
    )
    shipped_at = UTCDateTimeField(
        required=False,
        label="Shipped at (UTC)",
        help_text="When the protection reached your customers, as YYYY-MM-DD HH:MM (24-hour); now when left empty.",
    )
    notes = forms.CharField(
        required=False, max_length=services.NOTES_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3})
    )
    feedback_kind = forms.ChoiceField(
        required=False,
        choices=[("", "— no feedback —"), *FeedbackKind.choices],
        label="Feedback to the program",
    )
    feedback_text = forms.CharField(
        required=False,
        max_length=services.FEEDBACK_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Feedback",
        help_text="False positives, detection quality, questions: read by the program team.",
    )

    def __init__(self, *args, status, next_states, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = [status.state, *next_states]
        self.fields["state"].choices = [(s, ProtectionState(s).label) for s in ProtectionState.values if s in allowed]
        if status.state == ProtectionState.SHIPPED:
            self.fields["shipped_at"].disabled = True

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("feedback_text") and not cleaned.get("feedback_kind"):
            self.add_error("feedback_kind", "Choose what the feedback is about.")
        if cleaned.get("feedback_kind") and not cleaned.get("feedback_text"):
            self.add_error("feedback_text", "Write the feedback.")
        return cleaned


class PartnerIndicatorForm(forms.Form):
    indicator_type = forms.ChoiceField(choices=IndicatorType.choices, label="Type")
    value = forms.CharField(max_length=2048)
    first_seen = UTCDateTimeField(label="First seen (UTC)")
    confidence = forms.ChoiceField(choices=Confidence.choices, initial=Confidence.MEDIUM)
    comment = forms.CharField(
        required=False, max_length=services.COMMENT_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 2})
    )
