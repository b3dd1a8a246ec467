from django import forms


class HandlingAcknowledgementForm(forms.Form):
    acknowledge = forms.BooleanField(
        label="I acknowledge this advisory's TLP label and will handle it according to these terms.",
        error_messages={"required": "Tick the box to acknowledge the TLP label and handling terms."},
    )
