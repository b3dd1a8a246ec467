from django import forms
from django.core.exceptions import ValidationError


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )


class AuthenticatorForm(SecondFactorForm):
    """A new authenticator app: a name to tell it apart, and the code it shows."""

    name = forms.CharField(
        label="Name", max_length=64, required=False, help_text="To tell your devices apart, e.g. “Work phone”."
    )
    field_order = ["name", "token"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].help_text = "The 6-digit code the new app shows."


def show_service_error(form, error: ValidationError) -> None:
    """Show a service's refusal on the form: each field's errors beside that field when the form has it, the rest
    above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.error_dict.items():
        texts = [text for item in errors for text in item.messages]
        form.add_error(field if field in form.fields else None, texts)
