""":class:`DatabaseStorage`: the waiting calls as records (``storage.records``) in the model
:class:`giosg_django.models.PendingCall`, on any database Django supports.

A record is inserted once and removed by a ``DELETE`` of its primary key: the database's row
count says which request removed it (a parallel ``DELETE`` of the same row waits for the first
one's commit, then finds nothing), so exactly one request takes it. ``manage.py
giosg_clear_pending`` deletes the records that expired without being taken.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

from django.db import connections, router, transaction
from django.utils import timezone

from .records import RecordStorage


class DatabaseStorage(RecordStorage):
    """In the table of :class:`giosg_django.models.PendingCall` (its migration ships with the
    app); no call is written into the session."""

    def find(self, record_ids: list[str]) -> dict[str, str]:
        from ..models import PendingCall  # the app registry is ready by the first request

        # From the database records are written to: a replica may not have a record yet.
        with self.atomic() as database:
            live = PendingCall.objects.using(database).filter(
                pk__in=record_ids, expires__gt=timezone.now()
            )
            return dict(live.values_list("pk", "calls"))

    def remove(self, record_id: str) -> bool:
        from ..models import PendingCall

        with self.atomic() as database:
            deleted, _ = PendingCall.objects.using(database).filter(pk=record_id).delete()
            return deleted > 0

    def write(self, record_id: str, text: str, ttl: int) -> None:
        from ..models import PendingCall

        expires = timezone.now() + timedelta(seconds=ttl)
        with self.atomic() as database:
            PendingCall.objects.using(database).create(id=record_id, calls=text, expires=expires)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[str]:
        """The database of the records; inside a transaction the site opened (a middleware's,
        a test's), a savepoint around the query, so that a failure (contained: the page goes
        on) does not break that transaction for the rest of the request."""
        from ..models import PendingCall

        database = router.db_for_write(PendingCall)
        if connections[database].in_atomic_block:
            with transaction.atomic(using=database):
                yield database
        else:
            yield database
