"""Calls waiting for a page: kept in the visitor's session, never in process memory.

Any session backend works (database, cache, signed cookies), so whichever worker serves the
visitor's next page renders them. The stored form is plain JSON (``Call.to_session``), which
every session serializer accepts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.contrib.sessions.backends.base import SessionBase

from .calls import Call

SESSION_KEY = "_giosg_pending"

logger = logging.getLogger("giosg_django")


def decode(stored: Any) -> list[Call]:
    """The calls in a stored value; a corrupt or foreign value is dropped with a warning."""
    if stored is None:
        return []
    if not isinstance(stored, list):
        logger.warning("giosg: ignored a session value under %r that is not a list", SESSION_KEY)
        return []
    calls = []
    for item in stored:
        try:
            calls.append(Call.from_session(item))
        except (ValueError, TypeError):
            logger.warning("giosg: ignored a stored call that is not one: %.200r", item)
    return calls


def encode(calls: Sequence[Call]) -> list[list[Any]]:
    return [call.to_session() for call in calls]


def load(session: SessionBase) -> list[Call]:
    """Pending calls in ``session``, without creating or loading a session that has no key."""
    if session.session_key is None:
        return []
    return decode(session.get(SESSION_KEY))


async def aload(session: SessionBase) -> list[Call]:
    if session.session_key is None:
        return []
    return decode(await session.aget(SESSION_KEY))


def cap(calls: list[Call], limit: int) -> list[Call]:
    """Keep the newest ``limit`` calls, logging what is dropped."""
    if len(calls) <= limit:
        return calls
    dropped = calls[: len(calls) - limit]
    logger.warning(
        "giosg: %d pending call(s) dropped, over MAX_PENDING=%d: %s",
        len(dropped),
        limit,
        ", ".join(call.name for call in dropped),
    )
    return calls[len(calls) - limit :]


def changes(session: SessionBase, calls: Sequence[Call]) -> list[list[Any]] | None:
    """What to write for ``calls``: ``None`` when the session already holds exactly that."""
    wanted = encode(calls)
    if session.get(SESSION_KEY, []) == wanted:
        return None
    return wanted


def save(session: SessionBase, calls: Sequence[Call]) -> None:
    """Store ``calls``, writing to the session only when what it holds differs."""
    wanted = changes(session, calls)
    if wanted is None:
        return
    if wanted:
        session[SESSION_KEY] = wanted
    else:
        del session[SESSION_KEY]
