from typing import Any

from django import forms


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=128,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        max_length=256, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SignUpForm(forms.Form):
    username = forms.CharField(
        max_length=32, widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, with upper- and lower-case letters and a digit.",
    )


class ConfirmSignUpForm(forms.Form):
    """The code Cognito e-mailed at sign-up, and the password to sign in with.

    One form, two buttons: "Confirm" needs every field, "Send a new code" only
    the username."""

    RESEND = "resend"

    username = forms.CharField(
        max_length=32, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    code = forms.CharField(
        label="Code from the e-mail",
        max_length=16,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="6 digits, valid for 24 hours.",
    )
    password = forms.CharField(
        max_length=256,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="The one you chose at sign-up: you are signed in once the code is accepted.",
    )

    def __init__(self, *args: Any, resend: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resend = resend

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if self.resend:
            return code
        if not code:
            raise forms.ValidationError("Enter the code from the e-mail we sent you.")
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError("The code is the 6 digits in the e-mail we sent you.")
        return code

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.resend and not password:
            raise forms.ValidationError("Enter your password.")
        return password
