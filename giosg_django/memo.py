"""Work done once per process instead of once per request, in bounded memory.

A :class:`Memo` maps inputs to results that depend on nothing else (but the settings, whose
change clears it): a token for a user's variables (``signing``), whether the server wrote a
cookie value and whom a user's fingerprint names (``visitor_cookie``). It holds at most
``size`` entries and drops the oldest first, so memory does not grow with visitors; a lost
entry only costs the work again. Safe for every thread: a lookup is one ``dict.get``, and
writes take a lock; a result computed while another thread cleared the memo (the settings it
depends on changed) is not kept.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    __slots__ = ("_entries", "_lock", "generation", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[K, V] = {}
        self._lock = threading.Lock()
        # Counts the clears: a result computed under settings that a clear has since dropped
        # is not kept (``put(..., since=)``).
        self.generation = 0

    def __repr__(self) -> str:
        # Never the entries: they may be tokens or cookie values.
        return f"<Memo {len(self._entries)}/{self.size}>"

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V, *, since: int | None = None) -> V:
        """Keep ``value`` for ``key`` (as the newest entry); returns ``value``. With ``since``
        (``generation`` read before computing ``value``), only if no clear came in between."""
        with self._lock:
            if since is not None and since != self.generation:
                return value
            entries = self._entries
            entries.pop(key, None)
            while len(entries) >= self.size:
                del entries[next(iter(entries))]
            entries[key] = value
        return value

    def newest(self) -> V | None:
        with self._lock:
            return self._entries[next(reversed(self._entries))] if self._entries else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.generation += 1
