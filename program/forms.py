import re

from django import forms
from django_countries import countries

from core.forms import UTCDateTimeField
from core.levels import AccessLevel
from partners.models import ApplicationStatus, PartnerStatus

LEVEL_CHOICES = [("", "any")] + [(str(level.value), level.label) for level in AccessLevel]
COUNTRY_CHOICES = [("", "any")] + list(countries)


class ApplicationFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "in the queue")]
        + [(value, label) for value, label in ApplicationStatus.choices if value != ApplicationStatus.SUBMITTED],
    )
    country = forms.ChoiceField(required=False, choices=COUNTRY_CHOICES)


class PartnerFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "any")] + list(PartnerStatus.choices))
    assigned_level = forms.TypedChoiceField(
        required=False, choices=LEVEL_CHOICES, coerce=int, empty_value=None, label="Assigned level"
    )
    effective_level = forms.TypedChoiceField(
        required=False, choices=LEVEL_CHOICES, coerce=int, empty_value=None, label="Effective level"
    )
    country = forms.ChoiceField(required=False, choices=COUNTRY_CHOICES)


class NoteForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Note")


class ApproveForm(forms.Form):
    assigned_level = forms.TypedChoiceField(
        coerce=int, label="Assigned level", choices=[(level.value, level.label) for level in AccessLevel if level]
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason")


class SuspendForm(ReasonForm):
    until = UTCDateTimeField(required=False, label="Until (UTC, optional)")


class LevelChangeForm(ReasonForm):
    level = forms.TypedChoiceField(
        coerce=int, label="Assigned level", choices=[(level.value, level.label) for level in AccessLevel if level]
    )


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[("admin", "Partner admin"), ("analyst", "Partner analyst")])


class TeamSettingsForm(forms.Form):
    seat_limit = forms.IntegerField(min_value=1, max_value=1000, label="Seats")
    email_domains = forms.CharField(label="Registered email domains", help_text="Separated by commas or spaces.")

    def domain_list(self) -> list[str]:
        return [part for part in re.split(r"[\s,;]+", self.cleaned_data["email_domains"]) if part]


# Typed as YYYY-MM-DD: the browser's date picker would show the viewer's locale (mm/dd/yyyy).
UTC_DAY_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"placeholder": "YYYY-MM-DD", "autocomplete": "off"})


class ReportFilterForm(forms.Form):
    """Filters of the delivery and download reports: advisory, organisation and a range of UTC days."""

    advisory = forms.CharField(required=False, max_length=30, label="Advisory", help_text="e.g. FWN-2026-0001")
    partner = forms.ModelChoiceField(required=False, queryset=None, label="Organisation", empty_label="any")
    since = forms.DateField(required=False, label="From (UTC day)", widget=UTC_DAY_INPUT, input_formats=["%Y-%m-%d"])
    until = forms.DateField(required=False, label="To (UTC day)", widget=UTC_DAY_INPUT, input_formats=["%Y-%m-%d"])

    def __init__(self, *args, **kwargs):
        from partners.models import Partner

        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.order_by("legal_name")
