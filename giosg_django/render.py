"""The HTML giosg_django puts on a page: the functions behind every tag and Jinja2 global.

``giosg_script``, ``giosg_visitor`` and ``giosg_call`` here are what ``{% giosg_script %}``,
``{% giosg_visitor %}`` and ``{% giosg_call %}`` render (and the Jinja2 globals, and the
middleware's auto-inject): each takes the request and returns a safe string. A fault while
rendering raises when ``DEBUG`` is on, and otherwise is logged and leaves that part out, so a
chat widget never takes a page down.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.debug import sensitive_variables

from . import calls, identity, js, shared_cache
from .api import get_giosg
from .calls import IDENTITY_CHANGED, MARKER_MODULE, Call
from .conf import GiosgSettings, get_config
from .faults import contained
from .signing import sign

# Set on the request once the loader (the runtime) is on the page, so several tags render it once.
LOADER_FLAG = "_giosg_loader_rendered"
RUNTIME_FLAG = "_giosg_runtime_rendered"

DJANGO_GET_NONCE: Callable[[HttpRequest], Any] | None
try:  # Django 6's own CSP middleware, as it stores the request's nonce.
    from django.middleware.csp import get_nonce as DJANGO_GET_NONCE
except ImportError:  # Django < 6.0
    DJANGO_GET_NONCE = None


def csp_nonce(request: HttpRequest | None) -> str | None:
    """The request's CSP nonce: django-csp 4's ``request.csp_nonce`` or Django 6's own."""
    if request is None:
        return None
    nonce = getattr(request, "csp_nonce", None)
    if nonce is None and DJANGO_GET_NONCE is not None:
        nonce = DJANGO_GET_NONCE(request)
    # Both are lazy and falsy until generated: str() generates the nonce, so the CSP middleware
    # puts it in the header it writes after this.
    return None if nonce is None else str(nonce)


def script(js_text: str, request: HttpRequest | None) -> SafeString:
    nonce = csp_nonce(request)
    if nonce:
        return format_html('<script nonce="{}">{}</script>', nonce, mark_safe(js_text))
    return mark_safe(f"<script>{js_text}</script>")  # js_text is built by giosg_django.js


def is_enabled(request: HttpRequest | None, config: GiosgSettings) -> bool:
    if request is None or config["ENABLED"] is True:
        return config["ENABLED"] is True
    with contained("GIOSG['ENABLED']"):
        return config.enabled(request)
    return False


def args_as_sent(call: Call, request: HttpRequest | None, config: GiosgSettings) -> tuple[Any, ...]:
    """A call's arguments as giosg gets them: a ``visitor.submit`` is signed here, at render
    time, so a call that waited is signed fresh."""
    if call.sign is not False and (call.module, call.method) == ("visitor", "submit"):
        return _signed_args(call, request, config)
    return call.args


# Django's error reports cleanse ``key`` here (it is a SigningKey, masked in any case).
@sensitive_variables("key")
def _signed_args(call: Call, request: HttpRequest | None, config: GiosgSettings) -> tuple[Any, ...]:
    """A submit's arguments, signed when a key is set. A key that cannot sign raises: no
    plain variables are sent in its place."""
    key = config.signing_key(request)
    if key is not None:
        algorithm = config["SIGNING_ALGORITHM"]
        token = sign(call.args[0], key=key, algorithm=algorithm, ttl=config["TOKEN_TTL"])
        return (token, algorithm, *call.args[2:])
    if call.sign is True:
        raise ImproperlyConfigured(
            f"{call.name}(signed=True) needs GIOSG['SIGNING_KEY'], which is not set"
        )
    return call.args


def reaches_page(call: Call, config: GiosgSettings) -> bool:
    """Whether a queued item is sent to the page: every giosg call, and the markers the page
    runtime reads (the login marker only changes how the identity is submitted)."""
    if call.module != MARKER_MODULE:
        return True
    return call != IDENTITY_CHANGED and has_runtime(config)


def call_data(call: Call, request: HttpRequest | None, config: GiosgSettings) -> list[Any]:
    """One call as JSON data for the page runtime: ``[module, method, *args]``."""
    args = call.args if call.module == MARKER_MODULE else args_as_sent(call, request, config)
    return [call.module, call.method, *args]


def call_js(call: Call, request: HttpRequest | None, config: GiosgSettings) -> str:
    """One call as a JS statement."""
    if call.module == MARKER_MODULE:
        return js.marker(call.module, call.method, call.args)
    return js.call(call.module, call.method, args_as_sent(call, request, config))


def is_htmx(request: HttpRequest | None, config: GiosgSettings) -> bool:
    """A request made by htmx, whose pending calls go in its HX-Trigger header (HTMX)."""
    # META, not request.headers: that builds a dict of every header on first use.
    return bool(
        config["HTMX"] and request is not None and request.META.get("HTTP_HX_REQUEST") == "true"
    )


def logout_calls(config: GiosgSettings) -> tuple[Call, ...]:
    """What a logout does in the browser, per CLOSE_CHAT_ON_LOGOUT/CLEAR_VARIABLES_ON_LOGOUT:
    queued by the logout receiver, and run by the runtime of the site's other pages."""
    return _logout_calls(
        bool(config["CLOSE_CHAT_ON_LOGOUT"]), bool(config["CLEAR_VARIABLES_ON_LOGOUT"])
    )


@functools.lru_cache(maxsize=4)
def _logout_calls(close: bool, clear: bool) -> tuple[Call, ...]:
    parts = []
    if close:
        parts.append(calls.chat_close(hide=True))
    if clear:
        parts.append(calls.visitor_remove_all())
    return tuple(parts)


def has_runtime(config: GiosgSettings) -> bool:
    return bool(config["HTMX"] or config["CROSS_TAB_LOGOUT"])


def runtime_js(request: HttpRequest | None, config: GiosgSettings) -> str:
    """The page runtime (htmx delivery, cross-tab logout), once per response."""
    if not has_runtime(config):
        return ""
    if request is not None:
        if getattr(request, RUNTIME_FLAG, False):
            return ""
        setattr(request, RUNTIME_FLAG, True)
    logout = [call_data(call, request, config) for call in logout_calls(config)]
    return js.client(int(time.time() * 1000), logout)


def loader_js(request: HttpRequest | None, config: GiosgSettings) -> str:
    """giosg's loader, unless this response already has it or no company id is set."""
    if request is not None and getattr(request, LOADER_FLAG, False):
        return ""
    company_id = host = None
    with contained("GIOSG['COMPANY_ID']"):
        company_id = config.company_id(request)
    if not company_id:
        return ""
    with contained("GIOSG['HOST']"):
        host = config.host()
    if host is None:
        return ""
    if request is not None:
        setattr(request, LOADER_FLAG, True)
    return js.loader(host, company_id)


def giosg_script(request: HttpRequest | None) -> SafeString:
    """``{% giosg_script %}``: the loader, at most once per response."""
    config = get_config()
    if not is_enabled(request, config):
        return SafeString()
    loader = loader_js(request, config)
    return script(loader, request) if loader else SafeString()


def giosg_visitor(request: HttpRequest | None) -> SafeString:
    """``{% giosg_visitor %}``: in one ``<script>``, the loader, the page runtime, the calls
    waiting for this visitor in order, then the signed-in user's identity. The middleware drops
    the waiting calls from the session once the response carrying them is sent. On an htmx
    request it renders nothing: the middleware delivers the calls in the HX-Trigger header."""
    config = get_config()
    if not is_enabled(request, config):
        return SafeString()
    giosg = get_giosg(request)
    if giosg is not None:
        giosg.visitor_rendered = True
    if is_htmx(request, config):
        return SafeString()
    loader = loader_js(request, config)
    runtime = runtime_js(request, config)
    batch = giosg.unrendered() if giosg is not None else []
    replace = IDENTITY_CHANGED in batch
    statements = []
    for call in [*batch, *identity_calls(request, config, replace=replace)]:
        if not reaches_page(call, config):
            continue
        with contained(f"rendering {call.name}"):
            statements.append(call_js(call, request, config))
    body = "".join(statements)
    if body:
        # This visitor's calls or identity: no page cache may store the page for others.
        shared_cache.keep_out(request)
    if body and config["CROSS_TAB_LOGOUT"]:
        body = js.unless_stale(body)
    # The loader defines giosg's queue; without it, the queue is defined first.
    queue = js.QUEUE if not loader and (runtime or body) else ""
    text = loader + queue + runtime + body
    if not text:
        return SafeString()
    html = script(text, request)
    if giosg is not None and (batch or body):
        giosg.mark_rendered(html, giosg.rendered_upto + len(batch))
    return html


def identity_calls(
    request: HttpRequest | None, config: GiosgSettings, *, replace: bool
) -> list[Call]:
    """The signed-in user's variables and identifier; nothing for an anonymous visitor, and
    nothing identifying for an impersonated user."""
    if request is None:
        return []
    signed_in = False
    with contained("reading request.user"):
        if not identity.is_signed_in(request):
            return []
        if identity.is_impersonated(request) and not config["IDENTIFY_IMPERSONATED"]:
            # On the change of user (the marker), what was attached before is cleared, as
            # after any change of user.
            return [calls.visitor_remove_all()] if replace else []
        signed_in = True
    if not signed_in:
        return []
    found = []
    for what, build in (
        ("VISITOR_VARIABLES", identity.variables_call),
        ("VISITOR_IDENTIFIER", identity.identifier_call),
    ):
        with contained(f"GIOSG[{what!r}]"):
            call = build(request, config, replace=replace)
            if call is not None:
                found.append(call)
    return found


# HX-Trigger travels in a response header; proxies and servers commonly refuse headers past
# 8 KB (nginx's default buffers answer 502), so the whole value giosg writes stays within this
# budget and calls past it wait for the next full page.
HEADER_BUDGET = 6000
# The header's JSON: ASCII (a header value must be Latin-1, and JSON.parse reads \uXXXX escapes).
HEADER_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def htmx_delivery(request: HttpRequest, room: int) -> tuple[list[list[Any]], int]:
    """For an htmx response: the waiting calls as JSON arrays for the HX-Trigger event (a
    top-level ``null`` is ``undefined``), then the identity after a change of user; and how
    many waiting calls that uses up.

    ``room`` is what the header's JSON list of calls may take. Delivery stops at the first
    call that does not fit, so the rest wait for the next full page in order (a call too big
    for any header waits for a page, and those after it wait with it). The identity after a
    login is reserved when its marker is reached: when it does not fit, the marker is not used
    up either, so the next full page submits the identity with ``replace_existing``."""
    config = get_config()
    giosg = get_giosg(request)
    if giosg is None or not is_enabled(request, config):
        return [], 0
    delivered: list[list[Any]] = []
    new_identity: list[list[Any]] | None = None
    room += 1  # each item is counted with a comma before it; the first has none
    used = 0
    for call in giosg.unrendered():
        if call == IDENTITY_CHANGED and new_identity is None:
            found = [
                item
                for item in (
                    _sent_data(each, request, config)
                    for each in identity_calls(request, config, replace=True)
                )
                if item is not None
            ]
            size = _header_size(found)
            if size > room:
                break
            room -= size
            new_identity = found
        elif reaches_page(call, config):
            item = _sent_data(call, request, config)
            if item is not None:
                size = _header_size([item])
                if size > room:
                    break
                room -= size
                delivered.append(item)
        used += 1
    return delivered + (new_identity or []), used


def _header_size(items: list[list[Any]]) -> int:
    """What ``items`` add to the header's list of calls, a comma before each."""
    return sum(len(HEADER_JSON.encode(item)) + 1 for item in items)


def _sent_data(call: Call, request: HttpRequest, config: GiosgSettings) -> list[Any] | None:
    with contained(f"rendering {call.name}"):
        return call_data(call, request, config)
    return None


def giosg_call(request: HttpRequest | None, name: str, /, *args: Any, **kwargs: Any) -> SafeString:
    """``{% giosg_call "module.method" ... %}``: one call rendered in place, not queued."""
    config = get_config()
    if not is_enabled(request, config):
        return SafeString()
    statement = None
    with contained(f"giosg_call {name!r}"):
        call = calls.builder(name)(*args, **kwargs)
        statement = call_js(call, request, config)
    if statement is None:
        return SafeString()
    return script(js.calls([statement]), request)
