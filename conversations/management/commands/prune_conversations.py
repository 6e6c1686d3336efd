"""Retention job: delete conversations nobody touched for CONVERSATION_RETENTION_DAYS days."""

from django.conf import settings
from django.core.management.base import BaseCommand

from conversations import services


class Command(BaseCommand):
    help = (
        "Delete conversations (with their turns and usage) whose last activity is older than "
        "CONVERSATION_RETENTION_DAYS days, or --days N. 0 or unset keeps everything. Run it daily from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Override CONVERSATION_RETENTION_DAYS for this run.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.CONVERSATION_RETENTION_DAYS if days is None else days
        if not days or days <= 0:
            self.stdout.write("Retention is off (CONVERSATION_RETENTION_DAYS is 0); nothing was deleted.")
            return
        conversations, turns = services.prune_conversations(days=days, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {conversations} conversation(s) with {turns} turn(s) inactive for more than {days} days."
        )
