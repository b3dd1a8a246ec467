from django import forms


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="An https address on the public internet, e.g. https://hooks.example.com/forewarn.",
    )
    description = forms.CharField(max_length=100, required=False, help_text="What receives the events (optional).")
