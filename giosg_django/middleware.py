"""``GiosgMiddleware``: sets ``request.giosg``, keeps unrendered calls in the session, and
with ``AUTO_INJECT`` puts the ``{% giosg_visitor %}`` output into pages that lack it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.signed_cookies import SessionStore as CookieSession
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers

from . import inject, js, lifecycle, pending, render, shared_cache
from .api import Giosg, get_giosg
from .conf import get_config
from .faults import contained


class GiosgMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
            # Django runs a sync process_view in a thread on the async path: give it ours.
            self.process_view = self.aprocess_view  # type: ignore[method-assign, assignment]

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        giosg = request.giosg = Giosg(request)  # type: ignore[attr-defined]
        # Load what waits now: login() and logout() flush the session during the view.
        session = getattr(request, "session", None)
        if session is not None:
            with contained("loading pending giosg calls from the session"):
                giosg.restore(pending.load(session))
        lifecycle.at_request_start(request, giosg, getattr(request, "user", None))
        response = cast(HttpResponseBase, self.get_response(request))
        if self.wants_htmx_delivery(request, giosg, response):
            self.deliver_htmx(request, giosg, response)
        elif self.wants_injection(request, giosg, response):
            self.inject(request, response)
        user = getattr(request, "user", None)
        lifecycle.at_response(request, giosg, response, user, page=is_page(request, response))
        changed = self.finish(request, giosg, response)
        if changed is not None:
            with contained(WRITE_FAILED):
                try:
                    changed.save()
                except Exception:
                    self.unsaved(changed)
                    raise
                self.saved(giosg, changed)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        giosg = request.giosg = Giosg(request)  # type: ignore[attr-defined]
        session = getattr(request, "session", None)
        if session is not None:
            with contained("loading pending giosg calls from the session"):
                giosg.restore(await pending.aload(session))
        if hasattr(request, "auser"):
            # request.user is lazy and synchronous; resolve it here so giosg's identity can be
            # rendered by a template inside an async view (Django caches it for the view too).
            with contained("reading the user with request.auser()"):
                giosg.user = await request.auser()
        lifecycle.at_request_start(request, giosg, giosg.user)
        get_response = cast(Callable[[HttpRequest], Awaitable[HttpResponseBase]], self.get_response)
        response = await get_response(request)
        # Rendering may call the project's settings callables, which may query the database.
        if self.wants_htmx_delivery(request, giosg, response):
            await sync_to_async(self.deliver_htmx)(request, giosg, response)
        elif self.wants_injection(request, giosg, response):
            await sync_to_async(self.inject)(request, response)
        page = is_page(request, response)
        lifecycle.at_response(request, giosg, response, giosg.user, page=page)
        changed = self.finish(request, giosg, response)
        if changed is not None:
            with contained(WRITE_FAILED):
                try:
                    await changed.asave()
                except Exception:
                    self.unsaved(changed)
                    raise
                self.saved(giosg, changed)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        self.note_view(request, view)

    async def aprocess_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        self.note_view(request, view)

    def note_view(self, request: HttpRequest, view: Callable[..., Any]) -> None:
        giosg = get_giosg(request)
        if giosg is None:
            return
        # Exempt from anything giosg inserts into a page: auto-inject, the logout notice.
        giosg.exempt = getattr(view, "giosg_exempt", False)
        if not giosg.exempt and get_config()["AUTO_INJECT"]:
            # A CSP middleware after this one writes its header before we inject: the nonce
            # must exist by then to be in it, so generate it now.
            with contained("reading the CSP nonce"):
                render.csp_nonce(request)

    def wants_htmx_delivery(
        self, request: HttpRequest, giosg: Giosg, response: HttpResponseBase
    ) -> bool:
        """An htmx request (HTMX on) whose response htmx handles: not a redirect or an error,
        nor one that sends the browser elsewhere (its calls wait for the page it lands on)."""
        if not giosg.pending or not render.is_htmx(request, get_config()):
            return False
        return 200 <= response.status_code < 300 and not any(
            response.has_header(name) for name in HTMX_NAVIGATION
        )

    def deliver_htmx(self, request: HttpRequest, giosg: Giosg, response: HttpResponseBase) -> None:
        with contained("delivering giosg calls to htmx"):
            # The header as it would be with no call: the calls get what is left of the budget.
            empty = trigger_value(response, {"target": "body", "calls": []})
            delivered, used = render.htmx_delivery(request, render.HEADER_BUDGET - len(empty))
            if delivered:
                set_trigger(response, {"target": "body", "calls": delivered})
                giosg.mark_rendered("", giosg.rendered_upto + used)  # the cache headers
            giosg.delivered_by_header = used

    def wants_injection(
        self, request: HttpRequest, giosg: Giosg, response: HttpResponseBase
    ) -> bool:
        """Cheap tests first: AUTO_INJECT on, a page that lacks the tag, not exempt."""
        return (
            get_config()["AUTO_INJECT"]
            and not giosg.visitor_rendered
            and not render.is_htmx(request, get_config())
            and not giosg.exempt
            and is_page(request, response)
            and inject.can_inject(response)
        )

    def inject(self, request: HttpRequest, response: HttpResponseBase) -> None:
        with contained("injecting giosg into the page"):
            page = cast(HttpResponse, response)
            text = inject.decoded(page)
            spot = None if text is None else inject.find_spot(text)
            if text is None or spot is None:
                return  # a fragment, or not text: leave it alone
            snippet = render.giosg_visitor(request)
            if snippet:
                inject.insert(page, text, spot, snippet)

    def finish(
        self, request: HttpRequest, giosg: Giosg, response: HttpResponseBase
    ) -> SessionBase | None:
        """Drop the calls this response delivers and store the rest (only memory work here:
        the session was loaded, or has no key, so this is safe on the async path too).

        Returns the session when only giosg changed it: the caller writes it then, inside
        giosg's fault handling, so a session store that is down cannot turn the response
        into an error (Django's SessionMiddleware would write it outside of it)."""
        if not giosg.pending and not giosg.rendered and not giosg.stored_any:
            return None  # the common case: nothing queued, nothing rendered
        with contained("storing pending giosg calls in the session"):
            if giosg.delivered_by_header is not None:
                delivered = giosg.delivered = giosg.delivered_by_header
            else:
                delivered = giosg.delivered = delivered_count(request, giosg, response)
            if giosg.rendered:
                # The page carries this visitor's calls: no shared cache may keep it, nor
                # Django's per-site cache before us, whatever Cache-Control says by then.
                shared_cache.keep_out(request)
                if response.has_header("Cache-Control"):
                    patch_cache_control(response, private=True)
                else:
                    response["Cache-Control"] = "private"
                if response.has_header("Vary"):
                    patch_vary_headers(response, ("Cookie",))
                else:
                    response["Vary"] = "Cookie"
            remaining = giosg.pending[delivered:]
            if not remaining and not giosg.stored_any:
                return None  # Nothing waits: no session is created or written.
            session = getattr(request, "session", None)
            if session is None:
                return None
            # Would Django's SessionMiddleware write this session without giosg? Not when it is
            # unchanged, nor when it is empty (as logout() leaves it).
            written_anyway = session.modified and not session.is_empty()
            config = get_config()
            kept = pending.cap(remaining, config["MAX_PENDING"], config["MAX_PENDING_BYTES"])
            pending.save(session, kept)
            if session.modified and not written_anyway and not isinstance(session, CookieSession):
                giosg.session_key_before = session.session_key
                return cast(SessionBase, session)
        return None

    def saved(self, giosg: Giosg, session: SessionBase) -> None:
        # Written: Django's SessionMiddleware need not write it again, unless the session is
        # new and its cookie must still be set.
        if session.session_key is not None and session.session_key == giosg.session_key_before:
            session.modified = False

    def unsaved(self, session: SessionBase) -> None:
        """The store refused giosg's write: leave the session as the view left it."""
        session.pop(pending.SESSION_KEY, None)
        session.modified = False


WRITE_FAILED = "writing the session (is its store down?); the pending giosg calls are lost"

# Response headers with which htmx leaves the page instead of handling the response.
HTMX_NAVIGATION = ("HX-Redirect", "HX-Location", "HX-Refresh")
TRIGGER_EVENT = js.EVENT


def set_trigger(response: HttpResponseBase, detail: dict[str, Any]) -> None:
    response["HX-Trigger"] = trigger_value(response, detail)


def trigger_value(response: HttpResponseBase, detail: dict[str, Any]) -> str:
    """The response's HX-Trigger with giosg's event added, keeping the view's own triggers (a
    list of event names becomes htmx's JSON form, each with an empty detail)."""
    current = response.get("HX-Trigger", "").strip()
    if current.startswith("{"):
        triggers = json.loads(current)
    else:
        triggers = {name.strip(): {} for name in current.split(",") if name.strip()}
    triggers[TRIGGER_EVENT] = detail
    # The encoding render.htmx_delivery measures the calls with.
    return render.HEADER_JSON.encode(triggers)


def is_page(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether the browser shows this response as a page that runs its scripts."""
    if request.method == "HEAD" or response.streaming:
        return False
    status = response.status_code
    if 300 <= status < 400 or status == 204:
        return False
    return inject.content_type(response) in inject.HTML_TYPES


def delivered_count(request: HttpRequest, giosg: Giosg, response: HttpResponseBase) -> int:
    """How many pending calls this response delivers: those of the rendered scripts that are
    in its body (a template rendered into an email, say, delivers nothing)."""
    if not giosg.rendered_upto or not is_page(request, response):
        return 0  # nothing pending was rendered (an identity alone is not queued)
    if response.has_header("Content-Encoding"):
        return giosg.rendered_upto  # compressed by the view: trust that it sends what it rendered
    content: bytes = response.content  # type: ignore[attr-defined]
    charset: str = response.charset
    delivered = 0
    for html, upto in giosg.rendered:
        if html.encode(charset, "replace") not in content:
            break
        delivered = upto
    return delivered
