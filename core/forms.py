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


class OneTimeCodeInput(forms.TextInput):
    """A one-time code, never filled in again when the page comes back with an error: the code is spent or wrong."""

    def format_value(self, value):
        return None


class SecondFactorForm(forms.Form):
    """A code from an authenticator app or a recovery code. The pages label the field themselves."""

    token = forms.CharField(
        label="Code",
        max_length=16,
        strip=True,
        # Recovery codes have letters: no numeric keypad here.
        widget=OneTimeCodeInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class NewAuthenticatorCodeForm(SecondFactorForm):
    """The 6-digit code a newly scanned authenticator app shows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].widget.attrs["inputmode"] = "numeric"


class AuthenticatorForm(NewAuthenticatorCodeForm):
    """A new authenticator app: a name to tell it apart, and the code it shows."""

    name = forms.CharField(label="Name", max_length=64, required=False)
    field_order = ["name", "token"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The name comes first on the page.
        del self.fields["token"].widget.attrs["autofocus"]


def show_service_error(form, error: ValidationError) -> None:
    """Show a service's refusal on the form: each field's errors beside that field when the form has it, the rest
    above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.error_dict.items():
        texts = [text for item in errors for text in item.messages]
        form.add_error(field if field in form.fields else None, texts)
