"""``manage.py giosg_clear_pending``: delete the waiting calls that expired without a page to
take them (``DatabaseStorage``), as ``clearsessions`` does for sessions. Run it from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from giosg_django.models import PendingCall


class Command(BaseCommand):
    help = (
        "Delete the pending giosg calls (DatabaseStorage) that expired: kept SESSION_COOKIE_AGE "
        "seconds, like their browser's receipt."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--database", default=None, help="the database alias (default: the router's choice)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        expired = PendingCall.objects.filter(expires__lte=timezone.now())
        if options["database"]:
            expired = expired.using(options["database"])
        deleted, _ = expired.delete()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Deleted {deleted} expired record(s) of pending giosg calls.")
