"""A hook on every password change, in the only place Django offers one for all of them."""

from accounts.models import ApiToken


class RevokeApiTokensOnPasswordChange:
    """Deletes the user's API tokens when their password changes (issue 16): a leaked token must
    not outlive the password reset its owner makes. It accepts every password."""

    def validate(self, password, user=None):
        return None

    def password_changed(self, password, user=None):
        if user is not None and user.pk is not None:
            ApiToken.objects.filter(user=user).delete()

    def get_help_text(self):
        return "Changing your password revokes your API tokens."
