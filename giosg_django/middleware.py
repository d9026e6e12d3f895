"""``GiosgMiddleware``: makes ``request.giosg`` work (made on first use), loads what waits for
the visitor (its session reads hidden: ``quiet_session``), and once the view has answered has
the response's giosg work done (the htmx header or the auto-inject, the ends of a sign-in, the
cache headers, the calls stored back, the sync hint), each step in the module named after it.
A quiet visitor (``lifecycle.is_quiet``) whose request used nothing of giosg costs a flag.

``__call__`` and ``__acall__`` share the synchronous helpers, as django-browser-reload's
``maybe_inject``; the async path awaits the store and the user, and runs in a thread a render
and, when it may call the project's ``ENABLED`` callable, the ends of a sign-in.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase

from . import htmx, inject, lifecycle, quiet_session, shared_cache, sync
from .api import MANAGED, Giosg, install_request_giosg, managed_giosg
from .calls import Call
from .conf import get_config
from .faults import contained
from .storage import STORE_FAILED, get_storage
from .visit import Visit, attach, response_visit


class GiosgMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:  # (or a coroutine)
        self.get_response = get_response
        install_request_giosg()
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
            # Django runs a sync process_view in a thread on the async path: give it ours.
            self.process_view = self.aprocess_view  # type: ignore[method-assign, assignment]

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        # The request is the middleware's: request.giosg is made on first use (api), most
        # requests never use it. (visit.attach, written out: this runs on every request.)
        held: list[Giosg | None] = [None]
        request.__dict__[MANAGED] = held
        if not lifecycle.is_quiet(request):
            started = managed_giosg(request, held)._visit
            with quiet_session.reads(request):
                # Load what waits now: login() and logout() flush the session during the view.
                started.load(get_storage())
                lifecycle.at_request_start(request, started, getattr(request, "user", None))
        response: HttpResponseBase = self.get_response(request)
        visit = response_visit(request)
        if visit is None:
            return response
        step = render_step(request, visit, response)
        if step is not None:
            step()
        waiting = after_view(request, visit, response, quiet_session.user(request))
        if waiting is not None:
            visit.stored = get_storage().save(request, response, waiting)
        finish(request, response, visit)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        giosg = attach(request)
        visit = giosg._visit  # the user is resolved on every request here (below)
        with quiet_session.reads(request):
            if not lifecycle.is_quiet(request):
                await visit.aload(get_storage())
            if hasattr(request, "auser"):
                # request.user is lazy and synchronous; resolve it here so giosg's identity can
                # be rendered by a template inside an async view (Django caches it for the view).
                with contained("reading the user with request.auser()"):
                    visit.user = await request.auser()
            start_step = functools.partial(lifecycle.at_request_start, request, visit, visit.user)
            if lifecycle.start_calls_project_code(request):
                await sync_to_async(start_step)()
            else:
                start_step()
        response: HttpResponseBase = await self.get_response(request)
        if response_visit(request) is None:
            return response
        step = render_step(request, visit, response)
        if step is not None:
            await sync_to_async(step)()
        end_step = functools.partial(after_view, request, visit, response, visit.user)
        if lifecycle.end_calls_project_code(request):
            waiting = await sync_to_async(end_step)()
        else:
            waiting = end_step()
        if waiting is not None:
            visit.stored = await get_storage().asave(request, response, waiting)
        finish(request, response, visit)
        return response

    # Only AUTO_INJECT needs the view's turn (the CSP nonce must exist before an inner CSP
    # middleware writes its header); read on every request, as a test may switch it on.
    def process_view(self, request: HttpRequest, *view_args: Any) -> None:
        if get_config()["AUTO_INJECT"]:
            inject.before_view(request)

    async def aprocess_view(self, request: HttpRequest, *view_args: Any) -> None:
        GiosgMiddleware.process_view(self, request, *view_args)  # memory work: no thread


def finish(request: HttpRequest, response: HttpResponseBase, visit: Visit) -> None:
    """The sync hint, and ``Vary: Cookie`` for a response that writes the session."""
    sync.at_response(request, response, visit)
    quiet_session.at_response(request)


def render_step(
    request: HttpRequest, visit: Visit, response: HttpResponseBase
) -> Callable[[], None] | None:
    """What the response needs rendered, if anything: the htmx header, else the auto-inject
    (cheap tests only here; the caller runs it, in a thread on the async path)."""
    if visit.calls and htmx.wants_delivery(request, visit, response):
        return functools.partial(htmx.deliver, request, visit, response)
    if get_config()["AUTO_INJECT"] and inject.wants(request, visit, response):
        return functools.partial(inject.auto_inject, request, visit, response)
    return None


def after_view(
    request: HttpRequest, visit: Visit, response: HttpResponseBase, user: Any
) -> list[Call] | None:
    """The ends of a sign-in, what the response delivered, its cache headers (memory work but
    for the ``ENABLED`` callable): the calls to store for a later page, ``None`` for no write."""
    lifecycle.at_response(request, visit, response, user)
    if not visit.has_work():
        return None  # the common case: nothing queued, loaded or rendered
    if not visit.calls and not visit.held_any:
        # A signed-in visitor's page: the identity alone, nothing to deliver or store.
        with STORE_FAILED:
            shared_cache.make_private(request, response)
        return None
    with STORE_FAILED:
        visit.delivered = visit.find_delivered(response, page=inject.is_page(request, response))
        if visit.private:
            shared_cache.make_private(request, response)
        waiting = visit.waiting()
        if waiting or visit.held_any:
            return waiting
    return None
