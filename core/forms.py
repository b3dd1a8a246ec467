from django import forms


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )
