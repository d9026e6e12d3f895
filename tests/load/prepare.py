"""Make the database gunicorn serves: ``python -m tests.load.prepare COUNT`` migrates the
database named by ``GIOSG_LOAD_DB`` (SQLite) or ``GIOSG_LOAD_PG`` (PostgreSQL) and creates the
users ``visitor-0000`` ... (password ``pw``). Run once per test session; each server gets a
copy of it (of the file, or a database made with it as template)."""

from __future__ import annotations

import os
import sys


def username(n: int) -> str:
    return f"visitor-{n:04d}"


PASSWORD = "pw"


def main(count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.load.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    user_model = get_user_model()
    password = make_password(PASSWORD)  # one hash for all: the test hasher is fast anyway
    user_model.objects.bulk_create(
        [user_model(username=username(n), password=password) for n in range(count)]
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # Fold the WAL into the main file, so a plain copy of it is the whole database.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
