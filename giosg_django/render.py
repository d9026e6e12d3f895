"""The HTML giosg_django puts on a page: the functions behind every tag and Jinja2 global.

``giosg_script``, ``giosg_visitor`` and ``giosg_call`` here are what ``{% giosg_script %}``,
``{% giosg_visitor %}`` and ``{% giosg_call %}`` render (and the Jinja2 globals, and the
middleware's auto-inject): each takes the request and returns a safe string. A fault while
rendering raises when ``DEBUG`` is on, and otherwise is logged and leaves that part out, so a
chat widget never takes a page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from . import calls, identity, js
from .api import get_giosg
from .calls import IDENTITY_CHANGED, Call
from .conf import GiosgConfig, get_config
from .signing import sign

logger = logging.getLogger("giosg_django")

# Set on the request once the loader is on the page, so several tags render it once.
LOADER_FLAG = "_giosg_loader_rendered"

DJANGO_GET_NONCE: Callable[[HttpRequest], Any] | None
try:  # Django 6's own CSP middleware, as it stores the request's nonce.
    from django.middleware.csp import get_nonce as DJANGO_GET_NONCE
except ImportError:  # Django < 6.0
    DJANGO_GET_NONCE = None


def fault(what: str) -> None:
    """Called in an ``except`` block: re-raise when DEBUG is on, else log and go on."""
    if settings.DEBUG:
        raise
    logger.exception("giosg: %s failed; the page is rendered without it", what)


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


def is_enabled(request: HttpRequest | None, config: GiosgConfig) -> bool:
    if request is None or config["ENABLED"] is True:
        return config["ENABLED"] is True
    try:
        return config.enabled(request)
    except Exception:
        fault("GIOSG['ENABLED']")
        return False


def call_js(call: Call, request: HttpRequest | None, config: GiosgConfig) -> str:
    """One call as a JS statement; a ``visitor.submit`` is signed here, at render time."""
    args = call.args
    if call.sign is not False and (call.module, call.method) == ("visitor", "submit"):
        key = config.signing_key(request)
        if key:
            token = sign(
                args[0],
                key=key,
                algorithm=config["SIGNING_ALGORITHM"],
                ttl=config["TOKEN_TTL"],
            )
            args = (token, config["SIGNING_ALGORITHM"], *args[2:])
        elif call.sign is True:
            raise ImproperlyConfigured(
                f"{call.name}(signed=True) needs GIOSG['SIGNING_KEY'], which is not set"
            )
    return js.call(call.module, call.method, args)


def loader_js(request: HttpRequest | None, config: GiosgConfig) -> str:
    """giosg's loader, unless this response already has it or no company id is set."""
    if request is not None and getattr(request, LOADER_FLAG, False):
        return ""
    try:
        company_id = config.company_id(request)
    except Exception:
        fault("GIOSG['COMPANY_ID']")
        return ""
    if not company_id:
        return ""
    if request is not None:
        setattr(request, LOADER_FLAG, True)
    return js.loader(config["HOST"], company_id)


def giosg_script(request: HttpRequest | None) -> SafeString:
    """``{% giosg_script %}``: the loader, at most once per response."""
    config = get_config()
    if not is_enabled(request, config):
        return SafeString()
    loader = loader_js(request, config)
    return script(loader, request) if loader else SafeString()


def giosg_visitor(request: HttpRequest | None) -> SafeString:
    """``{% giosg_visitor %}``: in one ``<script>``, the loader, the calls waiting for this
    visitor in order, then the signed-in user's identity. The middleware drops the waiting
    calls from the session once the response carrying them is sent."""
    config = get_config()
    if not is_enabled(request, config):
        return SafeString()
    loader = loader_js(request, config)
    giosg = get_giosg(request)
    if giosg is not None:
        giosg.visitor_rendered = True
    batch = giosg.unrendered() if giosg is not None else []
    statements = []
    for call in batch:
        if call == IDENTITY_CHANGED:
            continue
        try:
            statements.append(call_js(call, request, config))
        except Exception:
            fault(f"rendering {call.name}")
    identity = identity_js(request, config, replace=IDENTITY_CHANGED in batch)
    statements.extend(identity)
    if statements:
        # The loader defines giosg's queue; without it the calls define it themselves.
        html = script(loader + "".join(statements) if loader else js.calls(statements), request)
    elif loader:
        html = script(loader, request)
    else:
        return SafeString()
    if giosg is not None and (batch or identity):
        giosg.mark_rendered(html, giosg.rendered_upto + len(batch))
    return html


def identity_js(request: HttpRequest | None, config: GiosgConfig, *, replace: bool) -> list[str]:
    """The signed-in user's variables and identifier; nothing for an anonymous visitor."""
    if request is None:
        return []
    try:
        if not identity.is_signed_in(request):
            return []
        if identity.is_impersonated(request) and not config["IDENTIFY_IMPERSONATED"]:
            # Nobody is identified as the impersonated user; on the change of user (the
            # marker), what was attached before is cleared, as after any change of user.
            return [js.call("visitor", "removeAll", ())] if replace else []
    except Exception:
        fault("reading request.user")
        return []
    parts: list[tuple[str, Callable[[], Call | None]]] = [
        ("VISITOR_VARIABLES", lambda: identity.variables_call(request, config, replace=replace)),
        ("VISITOR_IDENTIFIER", lambda: identity.identifier_call(request, config)),
    ]
    statements = []
    for what, build in parts:
        try:
            call = build()
            if call is not None:
                statements.append(call_js(call, request, config))
        except Exception:
            fault(f"GIOSG[{what!r}]")
    return statements


def giosg_call(request: HttpRequest | None, name: str, /, *args: Any, **kwargs: Any) -> SafeString:
    """``{% giosg_call "module.method" ... %}``: one call rendered in place, not queued."""
    config = get_config()
    if not is_enabled(request, config):
        return SafeString()
    try:
        call = calls.builder(name)(*args, **kwargs)
        statement = call_js(call, request, config)
    except Exception:
        fault(f"giosg_call {name!r}")
        return SafeString()
    return script(js.calls([statement]), request)
