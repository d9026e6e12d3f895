"""The HTML giosg_django puts on a page: the functions behind every tag and Jinja2 global.

``giosg_script``, ``giosg_visitor`` and ``giosg_call`` here are what ``{% giosg_script %}``,
``{% giosg_visitor %}`` and ``{% giosg_call %}`` render (and the Jinja2 globals, and the
middleware's auto-inject): each takes the request and returns a safe string, a ``<script>``
element (``script``) carrying the request's CSP nonce. Each asks the request's
:class:`~giosg_django.visit.Visit` what to render and tells it what it rendered. A fault while
rendering raises when ``DEBUG`` is on, and otherwise is logged and leaves that part out, so a
chat widget never takes a page down.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from . import calls, js, shared_cache, sync
from .calls import IDENTITY_CHANGED, MARKER_MODULE
from .conf import GiosgSettings, get_config
from .delivery import args_as_sent, call_data, has_client, is_enabled, reaches_page
from .delivery import statement as call_statement
from .faults import contained, logger
from .htmx import is_htmx
from .identity import identity_calls, is_signed_in, logout_calls
from .visit import Sent, Visit, visit_for_render

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
    """An inline ``<script>`` of ``js_text`` (built by giosg_django.js: safe inside one)."""
    return SafeString(_script_start(request) + js_text + "</script>")


def _script_start(request: HttpRequest | None) -> str:
    """``<script>``, with the request's CSP nonce when it has one."""
    nonce = csp_nonce(request)
    return f'<script nonce="{escape(nonce)}">' if nonce else "<script>"


def client_js(visit: Visit | None, request: HttpRequest | None, config: GiosgSettings) -> str:
    """The page client (htmx delivery, cross-tab logout, the sync endpoint), once per
    response."""
    return "".join(client_parts(visit, request, config))


def client_parts(
    visit: Visit | None, request: HttpRequest | None, config: GiosgSettings
) -> tuple[str, ...]:
    """``client_js`` in parts (none: no client), for the page's script to join once."""
    sync_data = sync.client_data(request)
    if not sync_data and not has_client(config):
        return ()
    if visit is not None:
        if visit.client_rendered:
            return ()
        visit.client_rendered = True
    start = config.derived(_client_start)
    return js.render_time_parts(start, int(time.time() * 1000), sync_data)


def _client_start(config: GiosgSettings) -> str:
    """The page client up to its render time: constant for the settings, so made once per
    settings."""
    return js.client_start(config.derived(_logout_data))


def _logout_data(config: GiosgSettings) -> list[list[Any]]:
    """The logout calls as the page client gets them (never signed: constant per settings)."""
    return [call_data(call, None, config) for call in logout_calls(config)]


@functools.lru_cache(maxsize=64)
def _rendering_failed(module: str, method: str) -> contained:
    """One guard per call name (giosg's few, and giosg_django's markers), made once: every
    page renders a call or two."""
    return contained("rendering %s.%s", module, method)


# Made once: these run on every page (``contained`` holds no state of its own).
_USER_FAILED = contained("reading request.user")
_COMPANY_ID_FAILED = contained("GIOSG['COMPANY_ID']")
_HOST_FAILED = contained("GIOSG['HOST']")


def loader_js(visit: Visit | None, request: HttpRequest | None, config: GiosgSettings) -> str:
    """giosg's loader, unless this response already has it or no company id is set."""
    if visit is not None and visit.loader_rendered:
        return ""
    loader = config.derived(_fixed_loader)
    if loader is None:  # a COMPANY_ID callable, or a setting that fails (reported here)
        loader = _request_loader(request, config)
    if loader and visit is not None:
        visit.loader_rendered = True
    return loader


def _fixed_loader(config: GiosgSettings) -> str | None:
    """The loader when ``COMPANY_ID`` is a constant: the same text on every page, made once
    per settings ("" for no company id). ``None`` when it depends on the request, or when a
    setting fails: ``_request_loader`` then reports the failure on each render."""
    if callable(config["COMPANY_ID"]):
        return None
    try:
        company_id = config.company_id(None)
        return js.loader(config.host(), company_id) if company_id else ""
    except (TypeError, ValueError):
        return None


def _request_loader(request: HttpRequest | None, config: GiosgSettings) -> str:
    company_id = host = None
    with _COMPANY_ID_FAILED:
        company_id = config.company_id(request)
    if not company_id:
        return ""
    with _HOST_FAILED:
        host = config.host()
    if host is None:
        return ""
    return js.loader(host, company_id)


def giosg_script(request: HttpRequest | None) -> SafeString:
    """``{% giosg_script %}``: the loader, at most once per response."""
    config = get_config()
    if not is_enabled(request, config):
        return SafeString()
    loader = loader_js(visit_for_render(request), request, config)
    return script(loader, request) if loader else SafeString()


# The tags rendered without a request that were reported (once each per process).
_WITHOUT_REQUEST: set[str] = set()


def without_request(tag: str) -> None:
    """``tag`` rendered without the request (``render_to_string`` without ``request=``, a
    backend without the request context processor: giosg.W017): it renders no identity and
    no call, silently; with ``DEBUG`` on, a warning says how to pass it, once per tag."""
    if settings.DEBUG and tag not in _WITHOUT_REQUEST:
        _WITHOUT_REQUEST.add(tag)
        logger.warning(
            "giosg: %s was rendered without the request, so it renders no identity and no "
            "queued call. Render the template with it: render(request, ...), "
            "render_to_string(..., request=request), TemplateResponse, or a DjangoTemplates "
            "backend with 'django.template.context_processors.request'.",
            tag,
        )


def giosg_visitor(request: HttpRequest | None) -> SafeString:
    """``{% giosg_visitor %}``: in one ``<script>``, the loader, the page client, the calls
    waiting for this visitor in order, then the signed-in user's identity. The middleware drops
    the waiting calls from storage once the response carrying them is sent. On an htmx
    request it renders nothing: the middleware delivers the calls in the HX-Trigger header."""
    return SafeString(visitor_html(request))


def visitor_html(request: HttpRequest | None) -> str:
    """``giosg_visitor``'s HTML as a plain ``str``, for the Django tag: a template node's
    output is never escaped, and a SafeString of it would copy the page's largest text once
    more on every page."""
    config = get_config()
    if request is None:
        without_request("{% giosg_visitor %}")
    if not is_enabled(request, config):
        return _waiting_for_consent(request, config)
    visit = visit_for_render(request)
    if visit is not None:
        visit.visitor_rendered = True
    if is_htmx(request, config):
        return SafeString()
    if (
        request is not None
        and visit is not None
        and sync.is_turbo_visit(request)
        and sync.sync_url(request)
    ):
        return _turbo_script(visit, request, config)
    loader = loader_js(visit, request, config)
    client = client_parts(visit, request, config)
    batch = visit.batch() if visit is not None else []
    replace = IDENTITY_CHANGED in batch
    statements = []
    sent: list[Sent] = []
    for call in [*batch, *identity_calls(request, config, replace=replace)]:
        if call.module == MARKER_MODULE and not reaches_page(call, config):
            continue  # (every giosg call reaches the page: asked of markers only)
        with _rendering_failed(call.module, call.method):
            args = args_as_sent(call, request, config)
            statements.append(call_statement(call, args))
            if call.module != MARKER_MODULE:
                sent.append((call.module, call.method, args))
    body = "".join(statements)
    if body:
        # This visitor's calls or identity: no page cache may store the page for others.
        shared_cache.keep_out(request)
    if body and config["CROSS_TAB_LOGOUT"]:
        body = js.unless_stale(body)
    if not (loader or client or body):
        return ""
    # The loader defines giosg's queue; without it, the queue is defined first.
    queue = "" if loader else js.QUEUE
    # One join: the client (4.6 kB) is copied into the page's script once.
    html = "".join((_script_start(request), loader, queue, *client, body, "</script>"))
    if visit is not None and (batch or body):
        visit.rendered(html, len(batch), sent)
    return html


def giosg_visitor_cacheable(request: HttpRequest | None) -> SafeString:
    """``{% giosg_visitor cacheable %}``: for a page that is the same for everyone (behind
    ``cache_page``, the per-site cache, a CDN), the same bytes for every visitor and request,
    and nothing that makes the page private: the page client as a static file (under
    ``script-src 'self'``, no nonce), with what it needs in a data attribute: where giosg's
    script is (for the request's host: a page cache keys on it), the sync endpoint, the logout
    calls. The client loads giosg, then syncs for the visitor's calls and identity when the
    server's cookies say something waits or someone is signed in: an anonymous visitor with
    nothing waiting makes no request. With ``ENABLED`` not ``True`` itself (a callable: the
    page cannot know), giosg waits for ``giosgDjango.consent(true)``."""
    config = get_config()
    if request is None:
        without_request("{% giosg_visitor cacheable %}")
    enabled = config["ENABLED"]
    if enabled is False:
        return SafeString()
    visit = visit_for_render(request)
    if visit is not None:
        visit.visitor_rendered = True  # AUTO_INJECT keeps away
    loader = None
    with _COMPANY_ID_FAILED:
        company_id = config.company_id(request)
        if company_id:
            loader = {"host": config.host().rstrip("/"), "company": company_id}
    data: dict[str, Any] = {
        "cacheable": True,
        "renderedAt": 0,
        "enabled": enabled is True,
        "loader": loader,
        "logoutCalls": config.derived(_logout_data),
    }
    url = sync.sync_url(request)
    if url is not None:
        data["sync"] = {**sync.csrf_names(), "url": url, "seen": 0}  # (the client's own)
    client = None
    with _CLIENT_URL_FAILED:  # a manifest storage before collectstatic raises
        client = static(CLIENT_FILE)
    if client is None:
        return SafeString()  # reported: nothing of giosg works on this page without it
    return format_html('<script src="{}" data-giosg-django="{}"></script>', client, js.dumps(data))


_CLIENT_URL_FAILED = contained("the URL of the page client (is collectstatic run?)")


# The page client that pages the same for everyone load (the readable file is giosg.js).
CLIENT_FILE = "giosg_django/giosg.min.js"


def _waiting_for_consent(request: HttpRequest | None, config: GiosgSettings) -> SafeString:
    """``ENABLED`` false for this request (consent refused, or not given yet): nothing that
    reaches giosg, no call used up; but with the sync endpoint routed, the page client, which
    contacts no one until ``giosgDjango.consent(true)`` (the banner's callback, once it set its
    cookie) loads giosg and syncs, without a reload."""
    sync_data = sync.client_data(request)
    if request is None or not sync_data:
        return SafeString()
    visit = visit_for_render(request)
    if visit is None or visit.client_rendered or is_htmx(request, config):
        return SafeString()
    loader = None
    with _COMPANY_ID_FAILED:
        company_id = config.company_id(request)
        loader = {"host": config.host().rstrip("/"), "company": company_id} if company_id else None
    visit.client_rendered = True
    shared_cache.keep_out(request)  # this visitor's: whether signed in, the hint carried
    start = config.derived(_client_start)
    now = int(time.time() * 1000)
    signed_in = False
    with _USER_FAILED:
        signed_in = is_signed_in(request)  # consent(true) then asks for the identity
    text = js.with_render_time(
        start, now, sync_data, enabled=False, loader=loader, signedIn=signed_in
    )
    return script(text, request)


def _turbo_script(visit: Visit, request: HttpRequest, config: GiosgSettings) -> SafeString:
    """A page Turbo fetched: Turbo runs none of its inline scripts but those of its head that
    the current head lacks. So the calls and the identity wait for the sync the page client
    makes once Turbo rendered the page (``visit.sync_wanted`` sets the hint), and the head gets
    the same text on every such page (the loader unless giosg is loaded, the client unless it
    runs), which Turbo adds once at most: never a second loader, never a call twice."""
    visit.sync_wanted = True
    if visit.loader_rendered or visit.client_rendered:
        return SafeString()
    visit.loader_rendered = visit.client_rendered = True
    loader = config.derived(_fixed_loader) or ""  # (it runs once per document)
    start = config.derived(_client_start)
    client = js.with_render_time(start, 0, sync.client_data(request, seen=0))
    return script(loader + client, request)


def giosg_call(request: HttpRequest | None, name: str, /, *args: Any, **kwargs: Any) -> SafeString:
    """``{% giosg_call "module.method" ... %}``: one call rendered in place, not queued."""
    config = get_config()
    if not is_enabled(request, config):
        return SafeString()
    sent: Sent | None = None
    with contained("giosg_call %r", name):
        call = calls.builder(name)(*args, **kwargs)
        args_sent = args_as_sent(call, request, config)
        statement = call_statement(call, args_sent)
        sent = (call.module, call.method, args_sent)
    if sent is None:
        return SafeString()
    html = script(js.calls([statement]), request)
    visit = visit_for_render(request)
    if visit is not None:
        visit.rendered_in_place(html, sent)
    return html
