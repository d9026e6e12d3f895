"""JavaScript text: values as script-safe JSON, ``_giosg(...)`` calls, the queue and the loader.

Everything giosg_django writes into a page goes through these functions, so one place decides
what may reach an inline ``<script>``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

# Characters that could end the script or the HTML comment/CDATA state it is parsed in
# (`</script>`, `<!--`), or that old engines took as line terminators inside string literals.
# ensure_ascii already writes U+2028/U+2029 (and every non-ASCII character) as \uXXXX.
_HTML_UNSAFE = str.maketrans({"<": "\\u003C", ">": "\\u003E", "&": "\\u0026"})

# In an object *literal*, a `"__proto__": value` member sets the prototype instead of adding a
# key. A computed key (`["__proto__"]: value`) is an ordinary own property, as JSON.parse makes
# it. With compact separators, `"__proto__":` right after `{` or `,` can only be a member name:
# inside a string every `"` is escaped as `\"`.
_PROTO_MEMBER = re.compile(r'(?<=[{,])"__proto__":')

_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))
_encode_string = json.encoder.encode_basestring_ascii  # what _ENCODER does with a str

# giosg's own queue function, as its loader defines it when the page has none yet, except for
# typeof where the loader has `w[o]||`: an element with id="_giosg" (a named element, found on
# window) is truthy but no function, and would take the queue's place (DOM clobbering).
QUEUE = (
    '(function(w,o){if(typeof w[o]!=="function")w[o]=function(){(w[o]._e=w[o]._e||[]).push('
    'arguments)}})(window,"_giosg");'
)


def dumps(value: Any) -> str:
    """``value`` (already plain JSON data) as a JS expression safe inside an inline script."""
    # A string (most arguments, and every token) as the encoder itself writes one, without
    # its Python-level dispatch.
    if type(value) is str:
        text = _encode_string(value)  # one string literal: no member name, no __proto__ check
    else:
        text = _ENCODER.encode(value)
        if "__proto__" in text:
            text = _PROTO_MEMBER.sub('["__proto__"]:', text)
    # (The member pattern holds none of these characters: the order of the two does not matter.)
    if "<" in text or ">" in text or "&" in text:
        text = text.translate(_HTML_UNSAFE)
    return text


@functools.lru_cache(maxsize=64)
def _call_start(module: str, method: str) -> str:
    return "_giosg(" + dumps(module) + "," + dumps(method)


def call(module: str, method: str, args: Sequence[Any]) -> str:
    """One ``_giosg("module","method",...)`` statement; a top-level ``None`` is ``undefined``."""
    parts = [_call_start(module, method)]
    for arg in args:  # a loop, not a generator: this runs for every call on every page
        parts.append("undefined" if arg is None else dumps(arg))
    return ",".join(parts) + ");"


def calls(statements: Iterable[str]) -> str:
    """Calls preceded by the queue definition, so they work wherever they stand on the page."""
    return QUEUE + "".join(statements)


# The page client (window.giosgDjango), a real file: static/giosg_django/giosg.js, the source
# (its NAMES are read from it). Pages carry giosg.min.js inline: terser's output of it, half
# the bytes, which every page otherwise copies several times (``make client`` makes it; a test
# checks that it is current).
_STATIC = resources.files("giosg_django").joinpath("static/giosg_django")
CLIENT_SOURCE = _STATIC.joinpath("giosg.js").read_text("utf-8")


def shared_names(source: str) -> dict[str, str]:
    """The ``NAMES`` object at the top of the client: the strings Python and JS share (the
    htmx event, the storage key, the marker names), defined there once and read from there."""
    block = re.search(r"var NAMES = \{(.*?)\};", source, re.DOTALL)
    if block is None:
        raise RuntimeError("giosg.js has no NAMES object")
    return dict(re.findall(r'^\s*(\w+): "([^"\\]*)",?$', block.group(1), re.MULTILINE))


NAMES = shared_names(CLIENT_SOURCE)
EVENT = NAMES["event"]  # the htmx event (HX-Trigger) that carries calls
STORAGE_KEY = NAMES["storageKey"]  # localStorage: the time of the latest logout
MARKER_MODULE = NAMES["markerModule"]  # the module of giosg_django's own queued items
LOGGED_OUT = NAMES["loggedOut"]  # the marker method of a logout
CLIENT_GLOBAL = NAMES["global"]  # window.giosgDjango

# A statement of its own (terser ends it with ";"), so the glue after it stands alone.
CLIENT = _STATIC.joinpath("giosg.min.js").read_text("utf-8").strip()
# Inlined in a <script>: text that would end it, or put the HTML parser in its escaped state,
# would break every page. The file is ours, so this is a packaging error, caught at import.
if re.search(r"</script|<script|<!--", CLIENT, re.IGNORECASE) or not CLIENT.endswith(";"):
    raise RuntimeError(
        "giosg.min.js cannot be inlined: it holds </script, <script or <!--, or lacks its end"
    )


def client_start(logout_calls: Sequence[Sequence[Any]]) -> str:
    """The page client, then the start of the glue that passes it this page's data: the
    logout calls as JSON data, then (``client``) the render time (server time, ms)."""
    return (
        CLIENT + CLIENT_GLOBAL + '.start({"logoutCalls":' + dumps(logout_calls) + ',"renderedAt":'
    )


def client(render_time_ms: int, logout_calls: Sequence[Sequence[Any]], sync: str = "") -> str:
    """The page client with this page's data (``client_start``, the render time, and
    ``sync``: what it needs to call the sync endpoint, ``giosg_django.sync.client_data``)."""
    return with_render_time(client_start(logout_calls), render_time_ms, sync)


def with_render_time(start: str, render_time_ms: int, sync: str = "", **more: Any) -> str:
    """The end of the glue ``client_start`` began: the page's render time (server time, ms),
    ``sync`` (the ``"sync"`` member, already JSON: ``giosg_django.sync.client_data``), and
    ``more`` of the page's data (``enabled``, ``loader``: a page waiting for consent)."""
    return "".join(render_time_parts(start, render_time_ms, sync, **more))


def render_time_parts(
    start: str, render_time_ms: int, sync: str = "", **more: Any
) -> tuple[str, ...]:
    """``with_render_time``'s text in parts, for a caller that joins them into a larger text
    (the page's script): the 4.6 kB client is then copied once, not once per step."""
    tail = sync
    for name, value in more.items():
        tail += "," + dumps(name) + ":" + dumps(value)
    return (start, str(render_time_ms), tail, "});")


def unless_stale(statements: str) -> str:
    """Run ``statements`` only if no logout happened since the page was rendered (a page shown
    again from the HTTP cache after a logout runs the logout calls instead)."""
    return f"if({CLIENT_GLOBAL}.stale()){CLIENT_GLOBAL}.out();else{{" + statements + "}"


def marker(module: str, method: str, args: Sequence[Any]) -> str:
    """A giosg_django marker as a statement for the page client."""
    return CLIENT_GLOBAL + ".run([" + dumps([module, method, *args]) + "]);"


@functools.lru_cache(maxsize=64)
def loader(host: str, company_id: str) -> str:
    """giosg's script tag body (``/live2/``), with the host and company id as JSON literals."""
    return (
        # Once per document: giosg's own sets _giosg._c, and a page that Turbo (or a cache
        # serving Turbo the copy of a full page) swaps in runs its head's scripts again.
        "(function(w,t,f){var s='script',o='_giosg',h="
        + dumps(host.rstrip("/"))
        # As giosg's own loader, but for typeof (see QUEUE) and document's methods taken from
        # Document.prototype: <img name="createElement"> (or getElementsByTagName) in the page's
        # HTML shadows the method on document itself, and the whole script would stop there.
        + ",d=Document.prototype,e,n;"
        'if(typeof w[o]==="function"&&w[o]._c)return;'
        "e=d.createElement.call(t,s);e.async=1;e.src=h+'/live2/'+f;"
        'if(typeof w[o]!=="function")w[o]=function(){(w[o]._e=w[o]._e||[]).push(arguments)};'
        "w[o]._c=f;w[o]._h=h;"
        "n=d.getElementsByTagName.call(t,s)[0];n.parentNode.insertBefore(e,n);})(window,document,"
        + dumps(company_id)
        + ");"
    )
