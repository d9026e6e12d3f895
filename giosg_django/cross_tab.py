"""Cross-tab logout (``CROSS_TAB_LOGOUT``): a logout reaches every open page of the site in
that browser, and a page shown again from the back/forward cache.

The browser side is the page client (giosg.js): it records the time of a logout in
localStorage, whose "storage" event makes the site's other pages run the logout calls
(``identity.logout_calls``), and a page rendered before the latest logout runs them instead
of its own calls (``js.unless_stale``). The server side is here: the logout's time queued with
the logout calls (``queue_logout``), and the notice for a logout that lands on a page without
the tag.

``include("django.contrib.auth.urls")`` logs out onto Django admin's "Logged out" page, which has
no ``{% giosg_visitor %}``: the logout's time would wait for the next page with the tag. So an
HTML page that did not render the tag while a logout marker waits gets a minimal script: the
page client and that marker only (``insert_notice``). It delivers nothing: the logout calls
still wait for the next page with the tag, which closes the chat in this tab.
"""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse, HttpResponseBase

from . import calls, inject, js, shared_cache
from .calls import LOGGED_OUT, MARKER_MODULE
from .conf import get_config
from .faults import contained
from .htmx import is_htmx
from .identity import logout_calls
from .render import client_js, csp_nonce, script
from .visit import Visit


def queue_logout(request: HttpRequest, visit: Visit) -> None:
    """What a logout does in the browser: the logout calls for the next page, and the time of
    the logout for the site's other pages (CROSS_TAB_LOGOUT). Also queued when a signed-in
    session ended without logout() (``visitor_cookie``)."""
    config = get_config()
    for call in logout_calls(config):
        visit.add(call)
    if config["CROSS_TAB_LOGOUT"]:
        visit.add(calls.logged_out(int(time.time() * 1000)))
        # The page this response shows may lack the tag (the notice is inserted then): the
        # nonce must exist before a CSP middleware inside ours writes its header.
        with contained("reading the CSP nonce"):
            csp_nonce(request)


def waiting_logout(visit: Visit) -> int | None:
    """The time of the latest logout waiting for a page, if any."""
    times = [
        call.args[0]
        for call in visit.peek()
        if call.module == MARKER_MODULE and call.method == LOGGED_OUT
    ]
    return max(times) if times else None


def at_request_start(request: HttpRequest, visit: Visit) -> None:
    """A logout waits (it was loaded from storage): this response may get the notice, so its
    CSP nonce must exist before a CSP middleware inside ours writes its header."""
    if get_config()["CROSS_TAB_LOGOUT"] and waiting_logout(visit) is not None:
        csp_nonce(request)


def insert_notice(request: HttpRequest, visit: Visit, response: HttpResponseBase) -> None:
    """On a page (``inject.is_page``) that did not render the tag, while a logout waits:
    insert the client and the logout marker, where AUTO_INJECT would insert the tag."""
    config = get_config()
    if not config["CROSS_TAB_LOGOUT"] or visit.visitor_rendered or visit.exempt:
        return
    logout_at = waiting_logout(visit)
    if logout_at is None or is_htmx(request, config) or not inject.can_inject(response):
        return
    if not isinstance(response, HttpResponse):
        return

    def notice() -> str:
        client = client_js(visit, request, config)
        marker = js.marker(MARKER_MODULE, LOGGED_OUT, [logout_at])
        return script(client + marker, request) if client else ""

    if inject.insert(response, notice):
        # The page now carries this visitor's logout: no cache may hand it to others, nor to
        # this visitor again once the logout calls were delivered.
        shared_cache.make_private(request, response)
