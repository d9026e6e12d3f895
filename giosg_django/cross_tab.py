"""A logout that lands on a page without the tag still reaches the site's other open pages.

``include("django.contrib.auth.urls")`` logs out onto Django admin's "Logged out" page, which has
no ``{% giosg_visitor %}``: the logout's time, which the page client writes to localStorage for
the other pages (CROSS_TAB_LOGOUT), would wait for the next page with the tag. So an HTML page
that did not render the tag while a logout marker waits gets a minimal script: the page client
and that marker only. It writes localStorage, whose "storage" event makes the other pages run
the logout calls at once. It delivers nothing: the logout calls still wait for the next page
with the tag, which closes the chat in this tab.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers

from . import inject, js
from .api import Giosg
from .calls import LOGGED_OUT, MARKER_MODULE
from .conf import get_config
from .render import csp_nonce, is_htmx, runtime_js, script


def waiting_logout(giosg: Giosg) -> int | None:
    """The time of the latest logout waiting for a page, if any."""
    times = [
        call.args[0]
        for call in giosg.unrendered()
        if call.module == MARKER_MODULE and call.method == LOGGED_OUT
    ]
    return max(times) if times else None


def at_request_start(request: HttpRequest, giosg: Giosg) -> None:
    """A logout waits (it was loaded from the session): this response may get the script, so
    its CSP nonce must exist before a CSP middleware inside ours writes its header."""
    if get_config()["CROSS_TAB_LOGOUT"] and waiting_logout(giosg) is not None:
        csp_nonce(request)


def insert_notice(request: HttpRequest, giosg: Giosg, response: HttpResponseBase) -> None:
    """On a page (``middleware.is_page``) that did not render the tag, while a logout waits:
    insert the client and the logout marker, where AUTO_INJECT would insert the tag."""
    config = get_config()
    if not config["CROSS_TAB_LOGOUT"] or giosg.visitor_rendered or giosg.exempt:
        return
    logout_at = waiting_logout(giosg)
    if logout_at is None or is_htmx(request, config) or not inject.can_inject(response):
        return
    page = response if isinstance(response, HttpResponse) else None
    text = None if page is None else inject.decoded(page)
    spot = None if text is None else inject.find_spot(text)
    client = runtime_js(request, config)
    if page is None or text is None or spot is None or not client:
        return
    marker = js.marker(MARKER_MODULE, LOGGED_OUT, [logout_at])
    inject.insert(page, text, spot, script(client + marker, request))
    # The page now carries this visitor's logout: no shared cache may hand it to others.
    patch_cache_control(page, private=True)
    patch_vary_headers(page, ("Cookie",))
