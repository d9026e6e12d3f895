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
