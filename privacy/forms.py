"""The form that confirms deleting an account."""

from django import forms
from django.contrib.auth import authenticate, get_user_model


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

    def clean(self):
        user = self.request.user
        others = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(pk=user.pk)
        if user.is_superuser and not others.exists():
            raise forms.ValidationError(
                "You are the only administrator: make someone else an administrator in the admin "
                "first, so that the site is not left without one. Your account was not deleted."
            )
        return super().clean()
