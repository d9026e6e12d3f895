"""The interface every store of waiting calls implements, and what the stores share: the
calls' stored form (plain JSON), the fault guards, and the choice of store
(``PENDING_STORAGE``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

from ..calls import Call
from ..conf import GiosgSettings, get_config
from ..faults import contained

logger = logging.getLogger("giosg_django")


class Loaded(NamedTuple):
    """What a store held for the visitor: the calls, in order, and whether it held anything
    for them at all (a corrupt or foreign value too, or a record another request took first):
    the end of the response then tells the store, so it can replace or forget it.

    ``take``: for a store shared by parallel requests, the calls were only found, not taken:
    the visit takes them when it first renders its batch (``Visit.batch``), and this gives
    what it took; never called, they stay in the store for another request."""

    calls: list[Call]
    held_any: bool
    take: Callable[[], Loaded] | None = None


NOTHING = Loaded([], False)


class PendingStorage:
    """The interface of a store of waiting calls.

    One instance serves the whole process (every thread and request): the state of one response
    lives in its :class:`~giosg_django.visit.Visit` (and, for a store's own bookkeeping, on the
    request), and the store finds the visitor from the request. A store that fails never fails
    the response: its methods contain the fault (``faults.contained``: raised with ``DEBUG``,
    else logged, the calls of that response lost).

    ``may_hold`` is asked on every request, with the request alone (no I/O), so a visitor who
    can have nothing costs no ``load``. ``load`` runs before the view; a store shared by
    parallel requests *takes* the calls (reads and removes them at once), so that no two
    responses deliver the same call. ``save`` runs once the response is known, only when
    something waits or the store held something, with the calls that must wait for a later
    page, in order: it keeps the newest within the caps (``caps.cap``) and leaves the store
    holding them for the visitor (with the response, to set what the browser must send back).
    The ``a``-forms are the async (ASGI) path's.
    """

    def may_hold(self, request: HttpRequest) -> bool:
        return True

    def load(self, request: HttpRequest) -> Loaded:
        raise NotImplementedError

    async def aload(self, request: HttpRequest) -> Loaded:
        return await sync_to_async(self.load)(request)

    def save(
        self, request: HttpRequest, response: HttpResponseBase, calls: list[Call]
    ) -> list[Call] | None:
        """Returns the calls the store now holds for the visitor, ``None`` when it failed."""
        raise NotImplementedError

    async def asave(
        self, request: HttpRequest, response: HttpResponseBase, calls: list[Call]
    ) -> list[Call] | None:
        return await sync_to_async(self.save)(request, response, calls)


# Made once (``contained`` holds no state of its own): loading runs on every request.
LOAD_FAILED = contained("loading pending giosg calls")
STORE_FAILED = contained("storing pending giosg calls")
WRITE_FAILED = contained("writing pending giosg calls (is their store down?); they are lost")


def keyed_session(request: HttpRequest) -> SessionBase | None:
    """The request's session if it has a key, else ``None``: a session without one holds
    nothing (and nobody is signed in without one), so it is never created or loaded here."""
    session: SessionBase | None = getattr(request, "session", None)
    return session if session is not None and session.session_key is not None else None


def decode(stored: Any) -> list[Call]:
    """The calls in a stored value; a corrupt or foreign value is dropped with a warning."""
    if stored is None:
        return []
    if not isinstance(stored, list):
        logger.warning("giosg: ignored a stored value of pending calls that is not a list")
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


def get_storage() -> PendingStorage:
    """The process's store, as ``PENDING_STORAGE`` names it (made once per settings)."""
    return get_config().storage


def make_storage(config: GiosgSettings) -> PendingStorage:
    """A path that does not name a store is a check error (giosg.E011); should the site run
    all the same, it raises with ``DEBUG`` and otherwise is logged (once per settings) while
    the calls are kept in the session, as by default: never an error page."""
    with contained("GIOSG['PENDING_STORAGE'] = %r", config["PENDING_STORAGE"]):
        storage_class = import_string(config["PENDING_STORAGE"])
        if not (isinstance(storage_class, type) and issubclass(storage_class, PendingStorage)):
            raise TypeError(f"{storage_class!r} is not a PendingStorage subclass")
        storage: PendingStorage = storage_class()
        return storage
    from .session import SessionStorage

    return SessionStorage()
