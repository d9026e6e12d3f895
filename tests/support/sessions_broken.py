"""Test-only session backend whose store is down: every load and save raises."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore


class SessionStore(DatabaseStore):
    def load(self) -> dict[str, Any]:
        raise ConnectionError("session store is down")

    async def aload(self) -> dict[str, Any]:
        raise ConnectionError("session store is down")

    def save(self, must_create: bool = False) -> None:
        raise ConnectionError("session store is down")
