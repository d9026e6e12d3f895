"""The giosg side of one request/response of one visitor: one :class:`Visit` per request.

It holds everything giosg_django does for that response, so that "what happened" has one
place to look: the calls loaded from storage (and whether the store held anything under
giosg's key), the calls this request queued, the scripts rendered (which queued calls each
covers, and the giosg calls each sends), the calls sent in an htmx ``HX-Trigger`` header, which
calls the response delivered, what was stored back for a later page, whether the
response must be private (kept out of shared caches and Django's page caches), the user as
resolved on the async path, and the flags that keep the loader and the page client to one
per response.

The middleware makes it (``start``) and asks it what was delivered and what must be stored
back; ``render`` asks it for a batch and tells it what it rendered; ``htmx`` tells it what went
into the header; the debug panel (``report``) reads it. ``request.giosg`` (:class:`api.Giosg`)
is the public API over it. Its defaults are class attributes: a request that never touches
giosg costs this object, its API and one list.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase

from .api import MANAGED, Giosg, managed_giosg
from .calls import Call
from .caps import stored_size
from .conf import get_config
from .storage import NOTHING, Loaded, PendingStorage

# What a render records of each giosg call it sends, a plain tuple (cheap on every page): the
# debug panel's report reads it.
Sent = tuple[str, str, tuple[Any, ...]]


class Script(NamedTuple):
    """A ``<script>`` giosg rendered for this response. ``upto``: the queued calls it covers
    (``calls[:upto]``), ``None`` for a call rendered in place (``{% giosg_call %}``);
    ``sent``: the giosg calls it sends, as ``(module, method, args)``."""

    html: str
    upto: int | None
    sent: Sequence[Sent]


class Visit:
    """The giosg side of one request/response of one visitor (see the module docstring)."""

    loaded = 0  # how many of ``calls`` came from storage (they come first)
    held_any = False  # the store held a value under giosg's key (even a corrupt one)
    user: Any = None  # the user as ``await request.auser()`` gave it (async path), else None
    visitor_rendered = False  # {% giosg_visitor %} ran: AUTO_INJECT keeps away
    loader_rendered = False  # at most one giosg loader per response
    client_rendered = False  # at most one page client per response
    scripts: Sequence[Script] = ()
    # The calls sent as JSON data (the HX-Trigger header, or the sync endpoint's answer), None:
    # none were.
    header_sent: Sequence[list[Any]] | None = None
    # Which queued calls (positions in ``calls``) the header used up: not always a prefix, as
    # a call too big for the header waits for a page while the calls after it go.
    header_covers: frozenset[int] = frozenset()
    delivered: frozenset[int] = frozenset()  # positions of the calls delivered (at the end)
    stored: Sequence[Call] | None = None  # what the store holds after it, None: not written
    private = False  # carries this visitor's data: Cache-Control private, Vary: Cookie
    sync_wanted = False  # the page left its calls and identity to the sync endpoint (Turbo)

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        # Calls loaded from storage, followed by those queued during this request, in order.
        self.calls: list[Call] = []

    @property
    def exempt(self) -> bool:
        """The view Django resolved is ``giosg_exempt``: nothing is inserted into its page."""
        view = getattr(getattr(self.request, "resolver_match", None), "func", None)
        return bool(getattr(view, "giosg_exempt", False))

    def __repr__(self) -> str:
        names = [call.name for call in self.calls]
        return f"<Visit calls={names} delivered={sorted(self.delivered)}>"

    # --- before the view ------------------------------------------------------------------

    def load(self, storage: PendingStorage) -> None:
        loaded = storage.load(self.request)
        if loaded is not NOTHING:  # (nothing waits: the usual case)
            self._loaded(*loaded)

    async def aload(self, storage: PendingStorage) -> None:
        self._loaded(*await storage.aload(self.request))

    def _loaded(self, calls: list[Call], held_any: bool, take: Any = None) -> None:
        if calls:  # before anything queued so far: the view runs after this
            self.calls[:0] = calls
            self.loaded = len(calls)
        if held_any:
            self.held_any = True
        self._take = take

    # Calls found in a store shared by parallel requests but not taken yet (storage.records):
    # taken when the first batch is rendered; never taken, they stay in the store.
    _take: Callable[[], Loaded] | None = None

    def _take_found(self) -> None:
        take, self._take = self._take, None
        if take is None:
            return
        taken = take()  # another request may have taken some: only these are this visit's
        self.calls[: self.loaded] = taken.calls
        self.loaded = len(taken.calls)
        if taken.held_any:
            self.held_any = True

    # --- during the view ------------------------------------------------------------------

    def add(self, call: Call) -> None:
        """Queue ``call`` for this visitor's next page (this one if it renders the tag)."""
        if call.sign is True and get_config().signing_key(self.request) is None:
            raise ImproperlyConfigured(
                f"{call.name}(signed=True) needs GIOSG['SIGNING_KEY'], which is not set"
            )
        self.calls.append(call)

    @property
    def rendered_upto(self) -> int:
        """How many queued calls rendered scripts cover."""
        for script in reversed(self.scripts):
            upto: int | None = script.upto
            if upto is not None:
                return upto
        return 0

    def batch(self) -> list[Call]:
        """The queued calls no script covers yet, for the next ``{% giosg_visitor %}`` (or
        the htmx header, the sync endpoint): the calls found in storage are taken now."""
        if self._take is not None:
            self._take_found()
        return self.calls[self.rendered_upto :] if self.calls else []

    def peek(self) -> list[Call]:
        """The calls ``batch`` would give, without taking what was found in storage (to decide
        whether to render at all)."""
        return self.calls[self.rendered_upto :] if self.calls else []

    def rendered(self, html: str, covered: int, sent: list[Sent]) -> None:
        """A script of this visitor's calls or identity: ``covered`` calls of the batch."""
        self.scripts = [*self.scripts, Script(html, self.rendered_upto + covered, sent)]
        self.private = True

    def rendered_in_place(self, html: str, sent: Sent) -> None:
        """A ``{% giosg_call %}``: not queued, the same for every visitor who sees it."""
        self.scripts = [*self.scripts, Script(html, None, (sent,))]

    def sent_in_header(self, items: list[list[Any]], covered: Collection[int]) -> None:
        """An htmx response's HX-Trigger carries ``items``, using up the calls of the batch at
        the positions ``covered`` (counted from the batch's start)."""
        self.sent_as_data(items, covered)

    def sent_as_data(self, items: list[list[Any]], covered: Collection[int]) -> None:
        """The response carries ``items`` as JSON data (the HX-Trigger header, the sync
        endpoint's answer), using up the calls of the batch at the positions ``covered``
        (counted from the batch's start)."""
        start = self.rendered_upto
        self.header_sent = items
        self.header_covers = frozenset(start + index for index in covered)
        if items:
            self.private = True

    # --- after the view -------------------------------------------------------------------

    def in_body(self, response: HttpResponseBase, *, page: bool) -> list[Script]:
        """The rendered scripts this response carries in its body: scripts rendered into
        something else (a template rendered into an e-mail) deliver nothing."""
        if not page:
            return []
        if response.has_header("Content-Encoding"):
            return list(self.scripts)  # compressed by the view: trust that it sends them
        content: bytes = response.content  # type: ignore[attr-defined]
        charset: str = response.charset
        return [s for s in self.scripts if s.html.encode(charset, "replace") in content]

    def find_delivered(self, response: HttpResponseBase, *, page: bool) -> frozenset[int]:
        """Which queued calls (positions in ``calls``) the response delivers: those the
        header used up, else those of the rendered scripts in its body, up to the first one
        missing from it (a prefix)."""
        if self.header_sent is not None:
            return self.header_covers
        return frozenset(range(self._body_delivers(response, page=page)))

    def _body_delivers(self, response: HttpResponseBase, *, page: bool) -> int:
        """How many queued calls, from the first, the rendered scripts in the body cover (up
        to the first script of queued calls that the body lacks)."""
        if not self.rendered_upto:
            return 0  # nothing queued was rendered (an identity alone is not queued)
        carried = {id(script) for script in self.in_body(response, page=page)}
        delivered = 0
        for script in self.scripts:
            if script.upto is None:
                continue
            if id(script) not in carried:
                break
            delivered = script.upto
        return delivered

    def waiting(self) -> list[Call]:
        """The calls this response did not deliver: they wait for a later page (those found
        in storage but never taken are still there, and not this response's to store)."""
        if self._take is not None and self._over_the_caps():
            # Found and queued, more than the caps allow: taken now, to be stored back as one
            # record within them (the oldest dropped, as always).
            self._take_found()
        delivered = self.delivered
        first = self.loaded if self._take is not None else 0
        return [
            call
            for index, call in enumerate(self.calls)
            if index >= first and index not in delivered
        ]

    def _over_the_caps(self) -> bool:
        config = get_config()
        if len(self.calls) > config["MAX_PENDING"]:
            return True
        limit: int = config["MAX_PENDING_BYTES"]
        return sum(stored_size(call) for call in self.calls) > limit

    def has_work(self) -> bool:
        """Whether the end of the response has anything to do for giosg (most have not)."""
        return bool(self.calls or self.private or self.held_any)


def attach(request: HttpRequest) -> Giosg:
    """Make ``request`` the middleware's, with ``request.giosg``, the public API, set now (its
    visit is made on first use)."""
    giosg = Giosg(request)
    request.__dict__[MANAGED] = [giosg]
    request.giosg = giosg  # type: ignore[attr-defined]
    return giosg


def start(request: HttpRequest) -> Visit:
    """A new visit for ``request``, with ``request.giosg`` set to its public API."""
    return attach(request)._visit


def response_visit(request: HttpRequest) -> Visit | None:
    """After the view: the visit whose response has giosg work to do; ``None`` when the
    visitor was quiet (``lifecycle.is_quiet``), nothing used giosg during the request (no
    render, no call queued, no login() or logout(), whose receivers queue calls), no page is
    auto-injected and the view made no session (one signed in without login() gets the
    visitor cookie now): the response is then left as the view made it."""
    held = request.__dict__.get(MANAGED)
    giosg = held[0] if held else None  # never made here when nothing used it
    started = giosg._started if giosg is not None else None
    if started is None and not get_config()["AUTO_INJECT"]:
        # keyed_session(), written out: asked after every request, an anonymous one's included.
        session = getattr(request, "session", None)
        if session is None or session.session_key is None:
            return None
    return started if started is not None else visit_of(request)


def _giosg_of(request: Any, *, make: bool) -> Giosg | None:
    """The request's ``Giosg`` if the middleware saw it (``make``: made now if nothing needed
    it yet), else ``None``. An HttpRequest is asked through its own attributes: on one the
    middleware did not see, ``request.giosg`` raises (``api.MiddlewareMissing``), which costs
    more than a render. Anything else (Django REST framework's Request, which forwards reads
    to the HttpRequest it wraps) is asked for ``giosg`` as such."""
    if isinstance(request, HttpRequest):
        held = request.__dict__.get(MANAGED)
        if held is not None:
            giosg: Giosg | None = managed_giosg(request, held) if make else held[0]
            return giosg
        found = request.__dict__.get("giosg")
    else:
        found = getattr(request, "giosg", None)
    return found if isinstance(found, Giosg) else None


def visit_of(request: Any) -> Visit | None:
    """The visit of a request the middleware saw (made now if nothing needed it yet), else
    ``None``."""
    giosg = _giosg_of(request, make=True)
    return None if giosg is None else giosg._visit


def started_visit(request: Any) -> Visit | None:
    """The request's visit if something made one already (never makes one)."""
    giosg = _giosg_of(request, make=False)
    return None if giosg is None else giosg._started


# Where a request without the middleware keeps its flags (the loader and the page client are
# rendered once per response all the same).
_UNMANAGED = "_giosg_unmanaged_visit"


def visit_for_render(request: HttpRequest | None) -> Visit | None:
    """The visit a render records into: the middleware's, or one kept on a request that the
    middleware never saw; ``None`` without a request."""
    if request is None:
        return None
    visit = visit_of(request)
    if visit is None:
        visit = getattr(request, _UNMANAGED, None)
        if visit is None:
            visit = Visit(request)
            setattr(request, _UNMANAGED, visit)
    return visit
