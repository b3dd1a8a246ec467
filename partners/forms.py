import re

from django import forms

from partners.models import ApiTokenScope, MemberRole, PartnerApplication
from partners.services import APPLICATION_FIELDS


class ApplicationForm(forms.ModelForm):
    website = forms.URLField(max_length=300, assume_scheme="https")
    email_domains = forms.CharField(
        label="Registered email domains",
        help_text="The domains your staff's email addresses use, separated by commas or spaces (e.g. example.com).",
        max_length=2000,
    )

    class Meta:
        model = PartnerApplication
        fields = list(APPLICATION_FIELDS)
        labels = {
            "reporting_duty": "A law obliges us to report vulnerabilities to a government",
            "applicant_email": "Your email address",
            "applicant_name": "Your name",
        }
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("products", "customer_base", "ownership", "government_affiliations", "reporting_duty_details")
        }

    field_order = [
        "legal_name", "trading_name", "country", "website", "email_domains", "products", "customer_base", "ownership",
        "parent_company", "government_affiliations", "reporting_duty", "reporting_duty_details",
        "security_contact_name", "security_contact_email", "applicant_name", "applicant_email",
    ]  # fmt: skip

    def domain_list(self) -> list[str]:
        return [part for part in re.split(r"[\s,;]+", self.cleaned_data["email_domains"]) if part]


class AcceptInvitationForm(forms.Form):
    password = forms.CharField(label="Choose a password", widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(label="The password again", widget=forms.PasswordInput, strip=False)

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=MemberRole.choices, initial=MemberRole.ANALYST)


EXPIRY_CHOICES = [(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “EDR content pipeline”.")
    expires_in_days = forms.TypedChoiceField(choices=EXPIRY_CHOICES, coerce=int, initial=90, label="Expires in")
    scope = forms.ChoiceField(
        choices=ApiTokenScope.choices,
        initial=ApiTokenScope.READ,
        required=False,
        help_text="Read only, unless the system must also report protection status and indicators.",
    )

    def clean_scope(self):
        # Writing is chosen deliberately: a form sent without a scope creates a read-only token.
        return self.cleaned_data["scope"] or ApiTokenScope.READ
