"""The caps on the calls waiting for one visitor: ``MAX_PENDING`` calls, ``MAX_PENDING_BYTES``
of their stored JSON. Applied to what a response stores back, whatever the storage, so one
visitor's queue (read and written on each of their requests) stays small whatever they send.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence

from .calls import MARKER_MODULE, Call, chat_close, visitor_remove_all

logger = logging.getLogger("giosg_django")


def cap(calls: list[Call], limit: int, limit_bytes: int) -> list[Call]:
    """Keep the newest calls within ``limit`` calls (MAX_PENDING) and ``limit_bytes`` of
    their stored JSON (MAX_PENDING_BYTES), logging the names of those dropped (never their
    values, which may be what a visitor typed). The newest marker of each kind is never
    dropped (see ``drop_order``)."""
    keep = [True] * len(calls)
    over_count = drop_order(calls)[: max(len(calls) - limit, 0)]
    for index in over_count:
        keep[index] = False
    if over_count:
        _dropped([calls[index] for index in sorted(over_count)], f"over MAX_PENDING={limit}")
    return _cap_bytes(calls, keep, limit_bytes)


def drop_order(calls: Sequence[Call], too_big: Iterable[int] = ()) -> list[int]:
    """The order in which a cap gives up calls (positions in ``calls``): those ``too_big``
    to be kept on their own first, so that they do not push the calls queued before them
    out; then the oldest. The newest marker of each kind is never given up (see
    ``_kept_markers``). Every limit on what waits (the caps here, the signed-cookie session's
    size in ``storage``) drops in this order."""
    protected = _kept_markers(calls)
    first = sorted(set(too_big) - protected)
    skip = protected.union(first)
    return first + [index for index in range(len(calls)) if index not in skip]


# What a logout queues (identity.logout_calls): small and fixed, never a visitor's own text.
_LOGOUT_CALLS = (chat_close(hide=True), visitor_remove_all())


def _kept_markers(calls: Sequence[Call]) -> set[int]:
    """Where the newest marker of each kind, and the newest of each logout call, stand: the
    caps never drop them. A dropped login marker would leave the previous visitor's variables
    attached to the next identity, a dropped logout time would keep the visitor's other tabs
    from closing the chat, and a dropped chat.close or removeAll would leave this tab's chat
    open for the next person at the computer. Older copies tell nothing the newest does not,
    so they may go (a visitor logging in and out in a loop cannot grow the queue past the
    caps)."""
    kinds: set[tuple[str, str]] = set()
    kept: set[int] = set()
    for index in range(len(calls) - 1, -1, -1):
        call = calls[index]
        if call.module == MARKER_MODULE or call in _LOGOUT_CALLS:
            kind = (call.module, call.method)
        else:
            continue
        if kind not in kinds:
            kinds.add(kind)
            kept.add(index)
    return kept


# As Django's JSONSerializer writes a session (ASCII, compact): one character is one byte.
_SESSION_JSON = json.JSONEncoder(separators=(",", ":"))


def stored_size(call: Call) -> int:
    return len(_SESSION_JSON.encode(call.to_session()))


def _cap_bytes(calls: list[Call], keep: list[bool], limit: int) -> list[Call]:
    """The calls ``keep`` leaves, less those ``drop_order`` gives up until their stored size
    adds up to at most ``limit`` bytes, so one visitor's session (loaded and written on each
    of their requests) stays small whatever they send. A call that alone is over the limit
    could never be kept: it goes first, so it does not push the calls queued before it out."""
    sizes = [stored_size(call) if kept else 0 for call, kept in zip(calls, keep, strict=True)]
    total = sum(sizes)
    if total > limit:
        dropped = []
        too_big = [index for index, size in enumerate(sizes) if size > limit]
        for index in drop_order(calls, too_big):
            if total <= limit:
                break
            if keep[index]:
                keep[index] = False
                total -= sizes[index]
                dropped.append(index)
        _dropped([calls[index] for index in sorted(dropped)], f"over MAX_PENDING_BYTES={limit}")
    return [call for call, kept in zip(calls, keep, strict=True) if kept]


def _dropped(calls: list[Call], why: str) -> None:
    logger.warning(
        "giosg: %d pending call(s) dropped, %s: %s",
        len(calls),
        why,
        ", ".join(call.name for call in calls),
    )
