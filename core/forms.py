from django import forms
from django.core.exceptions import ValidationError

UTC_INPUT_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
UTC_INPUT_HINT = "UTC, as YYYY-MM-DD HH:MM (24-hour)."


class UTCDateTimeInput(forms.DateTimeInput):
    """A date and time typed in UTC as `YYYY-MM-DD HH:MM` (24-hour). A plain text field on purpose: the browser's
    own date-time picker shows the viewer's locale (`mm/dd/yyyy`, AM/PM), which reads ambiguously beside the ISO
    times of every page. static/js/local-time.js shows the viewer's local time beside it when their zone differs."""

    input_type = "text"

    def __init__(self, attrs=None, **kwargs):
        attrs = {
            "placeholder": "YYYY-MM-DD HH:MM",
            "autocomplete": "off",
            "spellcheck": "false",
            "data-utc-input": "",
            "class": "utc-input",
            **(attrs or {}),
        }
        super().__init__(attrs=attrs, format="%Y-%m-%d %H:%M", **kwargs)


class UTCDateTimeField(forms.DateTimeField):
    """A date and time typed in UTC (the site's time zone); its label should say "(UTC)"."""

    widget = UTCDateTimeInput

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", UTC_INPUT_FORMATS)
        kwargs.setdefault("help_text", UTC_INPUT_HINT)
        super().__init__(**kwargs)


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
