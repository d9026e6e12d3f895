"""How a queued call reaches giosg: whether anything may for this request (``ENABLED``), its
arguments as sent (a ``visitor.submit`` is signed here, when it is sent, so a call that
waited is signed fresh), and its two forms: a JS statement for a page, JSON data for the page
client (an htmx header). Markers, giosg_django's own queued items, reach the page client only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from . import js
from .calls import IDENTITY_CHANGED, MARKER_MODULE, Call
from .conf import GiosgSettings
from .faults import contained
from .signing import SigningKey, sign


def is_enabled(request: HttpRequest | None, config: GiosgSettings) -> bool:
    """``ENABLED`` for this request; a callable that fails disables giosg for it."""
    enabled = config["ENABLED"]
    if enabled is True or request is None:
        return enabled is True
    with contained("GIOSG['ENABLED']"):
        return config.enabled(request)
    return False


def has_client(config: GiosgSettings) -> bool:
    """Whether pages get the page client (giosg.js): for htmx delivery or cross-tab logout."""
    return bool(config["HTMX"] or config["CROSS_TAB_LOGOUT"])


def reaches_page(call: Call, config: GiosgSettings) -> bool:
    """Whether a queued item is sent to the page: every giosg call, and the markers the page
    client reads (the login marker only changes how the identity is submitted)."""
    if call.module != MARKER_MODULE:
        return True
    return call != IDENTITY_CHANGED and has_client(config)


def args_as_sent(call: Call, request: HttpRequest | None, config: GiosgSettings) -> tuple[Any, ...]:
    """A call's arguments as giosg gets them: a ``visitor.submit`` is signed here, when it is
    sent, so a call that waited is signed fresh. Any other call, and a marker, as queued."""
    if call.sign is not False and (call.module, call.method) == ("visitor", "submit"):
        return _signed_args(call, request, config)
    return call.args


# Django's error reports cleanse ``key`` here (it is a SigningKey, masked in any case).
@sensitive_variables("key")
def _signed_args(call: Call, request: HttpRequest | None, config: GiosgSettings) -> tuple[Any, ...]:
    """A submit's arguments, signed when a key is set. A key that cannot sign raises: no
    plain variables are sent in its place."""
    setting = config["SIGNING_KEY"]
    # A literal key, held as read (the usual case): signing_key() would only return it.
    key = setting if type(setting) is SigningKey and setting.problem is None else None
    if key is None:
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


def call_data(call: Call, request: HttpRequest | None, config: GiosgSettings) -> list[Any]:
    """One call as JSON data for the page client: ``[module, method, *args]``."""
    return [call.module, call.method, *args_as_sent(call, request, config)]


def statement(call: Call, args: tuple[Any, ...]) -> str:
    """One call, with its arguments as sent, as a JS statement."""
    if call.module == MARKER_MODULE:
        return js.marker(call.module, call.method, args)
    return js.call(call.module, call.method, args)
