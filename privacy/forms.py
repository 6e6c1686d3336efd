"""The form that confirms deleting an account."""

from django import forms
from django.contrib.auth import authenticate


class DeleteAccountForm(forms.Form):
    """Asks for the password before an account is deleted; checked like a log-in (django-axes
    counts failures, so a borrowed session cannot guess it)."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            raise forms.ValidationError("That is not your password. Your account was not deleted.")
        return password
