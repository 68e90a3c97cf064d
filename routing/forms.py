"""The console's forms: what an operator posts, parsed before any service is called."""

from django import forms

from .states import RoutingState
from .transitions import REASON_MAX_LENGTH

INCOMPLETE = "The form was incomplete; reload the console and try again."


class TransitionForm(forms.Form):
    state = forms.ChoiceField(
        choices=[(s.value, s.value) for s in RoutingState],
        error_messages={"required": INCOMPLETE, "invalid_choice": INCOMPLETE},
    )
    expected_version = forms.IntegerField(
        min_value=1,
        error_messages={"required": INCOMPLETE, "invalid": INCOMPLETE, "min_value": INCOMPLETE},
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        error_messages={"required": "Say why (the reason goes into the audit log)."},
    )
    force = forms.BooleanField(required=False)
    confirm = forms.CharField(required=False)

    def clean(self) -> dict:
        data = super().clean()
        if self.errors or not data.get("force"):
            return data
        expected = RoutingState(data["state"]).writable_region() or ""
        if data.get("confirm", "") != expected:
            raise forms.ValidationError(
                f"Not forced: type {expected} in the confirmation box to accept losing the "
                "writes that have not replicated."
            )
        return data

    def first_error(self) -> str:
        """The message to show: the form's first error (each says what to do)."""
        return next(message for errors in self.errors.values() for message in errors)


class ControlForm(forms.Form):
    """A replication drill control; the service validates the values and says what is wrong."""

    action = forms.CharField(required=False)
    direction = forms.CharField(required=False)
    seconds = forms.CharField(required=False)
    reason = forms.CharField(required=False)

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"][:REASON_MAX_LENGTH]
