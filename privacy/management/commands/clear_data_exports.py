"""Cleanup job: delete prepared account downloads older than DATA_EXPORT_KEEP_DAYS, files included."""

from django.conf import settings
from django.core.management.base import BaseCommand

from privacy import services


class Command(BaseCommand):
    help = (
        'Delete the prepared "Download all my data" files (and their records) kept longer than '
        "DATA_EXPORT_KEEP_DAYS days; nobody can download them any more. Run it daily from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, dry_run=False, **options):
        count = services.delete_expired_data_exports(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} data export(s) older than {settings.DATA_EXPORT_KEEP_DAYS} days.")
