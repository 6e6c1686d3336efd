"""Delete an account and all its data from the command line, for accounts too large for a web request."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from privacy import services


class Command(BaseCommand):
    help = (
        "Delete the account USERNAME with everything it holds, exactly as its owner's "
        '"Delete my account" does (one transaction). Asks for confirmation unless --yes.'
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, username, yes=False, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f'There is no account "{username}"; nothing was deleted.')
        if not yes and input(f'Delete the account "{username}" and all its data for good? [y/N] ') != "y":
            raise CommandError("Nothing was deleted.")
        services.delete_account(user=user)
        self.stdout.write(f'Deleted the account "{username}" with all its data.')
