"""The ``settings.GIOSG`` dict: defaults, the cached getter, and per-request values.

Every module reads settings through :func:`get_config`. It merges the user's dict over
:data:`DEFAULTS` once and caches the result; the ``setting_changed`` receiver below drops the
cache, so ``override_settings(GIOSG=...)`` works in tests (ours and our users').

A literal ``SIGNING_KEY`` is held in a :class:`~giosg_django.signing.SigningKey` as soon as it
is read, and the config's ``repr()`` masks it, so no frame, log record or error report that
shows the config shows the key. A per-request value of the wrong type (a ``COMPANY_ID`` or
``SIGNING_KEY`` callable returning bytes, say) raises ``TypeError`` naming the type only: the
render treats it as any fault (logged with ``DEBUG`` off, raised with it on).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from . import signing
from .signing import MASK, SigningKey

if TYPE_CHECKING:
    from .storage.base import PendingStorage

T = TypeVar("T")

DEFAULTS: dict[str, Any] = {
    "COMPANY_ID": None,
    "HOST": "https://service.giosg.com",
    "SIGNING_KEY": None,
    "SIGNING_ALGORITHM": "HS256",
    "TOKEN_TTL": 600,
    "VISITOR_VARIABLES": "giosg_django.identity.default_visitor_variables",
    "VISITOR_IDENTIFIER": None,
    "CLOSE_CHAT_ON_LOGOUT": True,
    "CLEAR_VARIABLES_ON_LOGOUT": True,
    "LOGIN_GOAL": None,
    "ENABLED": True,
    "AUTO_INJECT": False,
    "MAX_PENDING": 50,
    "HTMX": True,
    "CROSS_TAB_LOGOUT": True,
    "IDENTIFY_IMPERSONATED": False,
    "MAX_PENDING_BYTES": 32768,
    "PENDING_STORAGE": "giosg_django.storage.SessionStorage",
    "PENDING_CACHE": "default",
}

# Keys whose value may be a dotted path to a callable (a string is imported, not taken as is).
DOTTED_PATH_KEYS = ("VISITOR_VARIABLES", "VISITOR_IDENTIFIER", "ENABLED")
# Keys whose value may be a callable ``(request) -> str | None``; a string is a literal value.
PER_REQUEST_KEYS = ("COMPANY_ID", "SIGNING_KEY")


def user_settings() -> Mapping[str, Any]:
    """The project's own ``GIOSG`` dict (the checks read this to report what was given)."""
    value = getattr(settings, "GIOSG", None)
    return value if isinstance(value, Mapping) else {}


@sensitive_variables("values")
def merged_settings() -> dict[str, Any]:
    """:data:`DEFAULTS` with the project's ``GIOSG`` over them, a literal ``SIGNING_KEY`` held
    in a :class:`SigningKey` (``None`` when blank)."""
    values = {**DEFAULTS, **user_settings()}
    if not callable(values["SIGNING_KEY"]):
        values["SIGNING_KEY"] = signing.signing_key(values["SIGNING_KEY"])
    return values


def is_origin(value: object) -> bool:
    """Whether ``value`` is an ``http(s)://`` origin (a trailing ``/`` allowed), as ``HOST``."""
    if not isinstance(value, str) or not value.isprintable() or " " in value:
        return False
    try:
        parts = urlsplit(value)
        # .port raises ValueError for a port that is not a number in 0-65535.
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return (
        port_ok
        and parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and parts.path in ("", "/")
        and not (parts.query or parts.fragment or value.endswith(("?", "#")))
    )


class GiosgSettings(dict[str, Any]):
    """The merged settings, read as ``config["KEY"]`` (a dict's own lookup: every page reads
    several), with helpers that resolve per-request values. Read-only once made."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        # A key this app does not know is never read from here (the checks read the project's
        # own dict), and may be a misspelt SIGNING_KEY holding the secret: kept masked, so
        # that nothing that reads the settings as a mapping (dict(), json, an error tracker
        # walking a frame's locals) can show it. The known key is held in a SigningKey.
        super().__init__(
            (name, MASK if _secret(name, value) and name != "SIGNING_KEY" else value)
            for name, value in values.items()
        )
        self._imported: dict[str, Callable[..., Any]] = {}
        self._derived: dict[Callable[..., Any], Any] = {}

    # Read-only, so a copy is the object itself (copy would rebuild it through __setitem__).
    def __copy__(self) -> GiosgSettings:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> GiosgSettings:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (GiosgSettings, (dict(self),))

    def __repr__(self) -> str:
        # The key is masked, and so is any key this app does not know (a misspelt SIGNING_KEY
        # may hold the secret); dict's own repr would show them all.
        shown = ", ".join(
            f"{name}={MASK if _secret(name, value) else repr(value)}"
            for name, value in self.items()
        )
        return f"GiosgSettings({shown})"

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("GiosgSettings is read-only: override settings.GIOSG instead")

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = __ior__ = _read_only

    def hook(self, key: str) -> Any:
        """The value of a dotted-path key, with a string imported once (ImportError propagates)."""
        value = self[key]
        if isinstance(value, str):
            if key not in self._imported:
                self._imported[key] = import_string(value)
            return self._imported[key]
        return value

    def derived(self, make: Callable[[GiosgSettings], T]) -> T:
        """``make(self)``, computed once per settings: text every page would otherwise build
        again from constant settings (the page client's start, say). ``make`` must read only
        settings, never a request."""
        try:
            return self._derived[make]  # type: ignore[no-any-return]
        except KeyError:
            value = self._derived[make] = make(self)
            return value

    # The store PENDING_STORAGE names, made once per settings (``storage.get_storage``). A
    # cached property: asked on every request, it is then an attribute read, not a call.
    @functools.cached_property
    def storage(self) -> PendingStorage:
        from .storage.base import make_storage

        return make_storage(self)

    def call_hook(self, key: str, request: HttpRequest) -> Any:
        """Call a dotted-path/callable key with the request, or return a constant as is."""
        value = self.hook(key)
        return value(request) if callable(value) else value

    def per_request(self, key: str, request: HttpRequest | None) -> str | SigningKey | None:
        """``COMPANY_ID``/``SIGNING_KEY``: a string literal, or a callable's result."""
        return self.signing_key(request) if key == "SIGNING_KEY" else self.company_id(request)

    def company_id(self, request: HttpRequest | None) -> str | None:
        """The organisation id for the loader; ``None`` for none (``None``, blank)."""
        value, source = self["COMPANY_ID"], "is"
        if callable(value):
            value, source = (value(request) if request is not None else None), "returned"
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(
                f"GIOSG['COMPANY_ID'] {source} {type(value).__name__}, not a string or None"
            )
        return value if value.strip() else None

    # Every local is cleansed from error reports, and so are the frames of a key callable
    # called from here (Django's reporter applies the nearest decorated caller's names).
    @sensitive_variables()
    def signing_key(self, request: HttpRequest | None) -> SigningKey | None:
        """The key for this request, ``None`` for none; ``TypeError`` (naming the type, never
        the value) when the setting or its callable gives something that cannot sign."""
        setting = self["SIGNING_KEY"]
        key: SigningKey | None
        if callable(setting):
            # The result goes straight into the holder: it is never a local of this frame.
            key = signing.signing_key(
                setting(request) if request is not None else None, source="returned"
            )
        elif isinstance(setting, SigningKey) or setting is None:
            key = setting
        else:  # a config built without merged_settings()
            key = signing.signing_key(setting)
        if key is not None and key.problem is not None:
            raise TypeError(f"GIOSG['SIGNING_KEY'] {key.problem}")
        return key

    def host(self) -> str:
        """``HOST``, the giosg origin the loader uses; ``TypeError`` or ``ValueError`` when it
        is not an ``http(s)://`` origin (an unset environment variable gives ``None``)."""
        return self._checked_host

    # Checked once per settings (the loader asks on every page); a failure is not cached, so
    # each render that needs the host reports it.
    @functools.cached_property
    def _checked_host(self) -> str:
        value = self["HOST"]
        if not isinstance(value, str):
            raise TypeError(f"GIOSG['HOST'] must be a string, not {type(value).__name__}")
        if not is_origin(value):
            raise ValueError(f"GIOSG['HOST'] must be an http(s):// origin, not {value!r:.200}")
        return value

    def enabled(self, request: HttpRequest) -> bool:
        return bool(self.call_hook("ENABLED", request))


def _secret(name: str, value: Any) -> bool:
    return (name == "SIGNING_KEY" or name not in DEFAULTS) and value is not None


@functools.cache
def get_config() -> GiosgSettings:
    return GiosgSettings(merged_settings())


@receiver(setting_changed, dispatch_uid="giosg_django.conf.reset")
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "GIOSG":
        get_config.cache_clear()
