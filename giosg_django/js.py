"""JavaScript text: values as script-safe JSON, ``_giosg(...)`` calls, the queue and the loader.

Everything giosg_django writes into a page goes through these functions, so one place decides
what may reach an inline ``<script>``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
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

# giosg's own queue function, exactly as its loader defines it when the page has none yet.
QUEUE = (
    "(function(w,o){w[o]=w[o]||function(){(w[o]._e=w[o]._e||[]).push(arguments)}})"
    '(window,"_giosg");'
)


def dumps(value: Any) -> str:
    """``value`` (already plain JSON data) as a JS expression safe inside an inline script."""
    text = _ENCODER.encode(value)
    if "<" in text or ">" in text or "&" in text:
        text = text.translate(_HTML_UNSAFE)
    if "__proto__" in text:
        text = _PROTO_MEMBER.sub('["__proto__"]:', text)
    return text


@functools.lru_cache(maxsize=64)
def _call_start(module: str, method: str) -> str:
    return "_giosg(" + dumps(module) + "," + dumps(method)


def call(module: str, method: str, args: Sequence[Any]) -> str:
    """One ``_giosg("module","method",...)`` statement; a top-level ``None`` is ``undefined``."""
    parts = [_call_start(module, method)]
    parts.extend("undefined" if arg is None else dumps(arg) for arg in args)
    return ",".join(parts) + ");"


def calls(statements: Iterable[str]) -> str:
    """Calls preceded by the queue definition, so they work wherever they stand on the page."""
    return QUEUE + "".join(statements)


# The page's part of giosg_django (window.giosgDjango), installed once per page:
# - run(calls): calls delivered as JSON ([module, method, ...args], a top-level null being
#   undefined), e.g. by an htmx response's HX-Trigger event "giosg:calls" (CONTRACT: HTMX);
# - loggedOut(t): a logout at server time t (ms): stored in localStorage, whose "storage" event
#   reaches the site's other pages in this browser, which then run the logout calls L;
# - stale(): whether a logout happened after this page was rendered (server time T), for a page
#   shown again from the HTTP cache (its calls and identity are then not run) or restored from
#   the back/forward cache ("pageshow" with persisted: no script runs again, so it listens).
RUNTIME = (
    "(function(w,d,T,L){var G=w.giosgDjango;if(G)return;G=w.giosgDjango={t:T};"
    'var K="giosg_django:logout";'
    "function seen(){try{return+w.localStorage.getItem(K)||0}catch(e){return 0}}"
    "G.run=function(c){for(var i=0;i<c.length;i++){var a=c[i].slice();"
    "for(var j=2;j<a.length;j++)if(a[j]===null)a[j]=void 0;"
    'if(a[0]==="giosg_django"){if(a[1]==="loggedOut")G.loggedOut(a[2])}'
    "else w._giosg.apply(w,a)}};"
    "G.out=function(t){if(t===void 0)t=seen();if(t>G.t){G.t=t;G.run(L)}};"
    "G.stale=function(){return seen()>G.t};"
    "G.loggedOut=function(t){try{if(t>seen())w.localStorage.setItem(K,String(t))}catch(e){}"
    "G.t=Math.max(G.t,t)};"
    'd.addEventListener("giosg:calls",function(e){if(e.detail&&e.detail.calls)'
    "G.run(e.detail.calls)});"
    'w.addEventListener("storage",function(e){if(e.key===K)G.out(+e.newValue||0)});'
    'w.addEventListener("pageshow",function(e){if(e.persisted)G.out(seen())});'
    "})(window,document,"
)


def runtime(render_time_ms: int, logout_calls: Sequence[Sequence[Any]]) -> str:
    """The page runtime above, for a page rendered at ``render_time_ms``."""
    return RUNTIME + str(render_time_ms) + _runtime_end(dumps(logout_calls))


@functools.lru_cache(maxsize=8)
def _runtime_end(logout_calls_js: str) -> str:
    return "," + logout_calls_js + ");"


def unless_stale(statements: str) -> str:
    """Run ``statements`` only if no logout happened since the page was rendered (a page shown
    again from the HTTP cache after a logout runs the logout calls instead)."""
    return "if(giosgDjango.stale())giosgDjango.out();else{" + statements + "}"


def marker(module: str, method: str, args: Sequence[Any]) -> str:
    """A giosg_django marker as a statement for the page runtime."""
    return "giosgDjango.run([" + dumps([module, method, *args]) + "]);"


@functools.lru_cache(maxsize=64)
def loader(host: str, company_id: str) -> str:
    """giosg's script tag body (``/live2/``), with the host and company id as JSON literals."""
    return (
        "(function(w,t,f){var s='script',o='_giosg',h="
        + dumps(host.rstrip("/"))
        + ",e,n;e=t.createElement(s);e.async=1;e.src=h+'/live2/'+f;"
        "w[o]=w[o]||function(){(w[o]._e=w[o]._e||[]).push(arguments)};w[o]._c=f;w[o]._h=h;"
        "n=t.getElementsByTagName(s)[0];n.parentNode.insertBefore(e,n);})(window,document,"
        + dumps(company_id)
        + ");"
    )
