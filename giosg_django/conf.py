"""The ``settings.GIOSG`` dict: defaults, the cached getter, and per-request values.

Every module reads settings through :func:`get_config`. It merges the user's dict over
:data:`DEFAULTS` once and caches the result; the ``setting_changed`` receiver below drops the
cache, so ``override_settings(GIOSG=...)`` works in tests (ours and our users').
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string

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
}

# Keys whose value may be a dotted path to a callable (a string is imported, not taken as is).
DOTTED_PATH_KEYS = ("VISITOR_VARIABLES", "VISITOR_IDENTIFIER", "ENABLED")
# Keys whose value may be a callable ``(request) -> str | None``; a string is a literal value.
PER_REQUEST_KEYS = ("COMPANY_ID", "SIGNING_KEY")


def user_settings() -> Mapping[str, Any]:
    """The project's own ``GIOSG`` dict (the checks read this to report what was given)."""
    value = getattr(settings, "GIOSG", None)
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class GiosgConfig:
    """The merged settings, with helpers that resolve per-request values."""

    values: Mapping[str, Any]
    _imported: dict[str, Callable[..., Any]] = field(default_factory=dict, compare=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def hook(self, key: str) -> Any:
        """The value of a dotted-path key, with a string imported once (ImportError propagates)."""
        value = self.values[key]
        if isinstance(value, str):
            if key not in self._imported:
                self._imported[key] = import_string(value)
            return self._imported[key]
        return value

    def call_hook(self, key: str, request: HttpRequest) -> Any:
        """Call a dotted-path/callable key with the request, or return a constant as is."""
        value = self.hook(key)
        return value(request) if callable(value) else value

    def per_request(self, key: str, request: HttpRequest | None) -> str | None:
        """``COMPANY_ID``/``SIGNING_KEY``: a string literal, or a callable's result."""
        value = self.values[key]
        if callable(value):
            value = value(request) if request is not None else None
        if value is None:
            return None
        value = str(value)
        return value if value.strip() else None

    def company_id(self, request: HttpRequest | None) -> str | None:
        return self.per_request("COMPANY_ID", request)

    def signing_key(self, request: HttpRequest | None) -> str | None:
        return self.per_request("SIGNING_KEY", request)

    def enabled(self, request: HttpRequest) -> bool:
        return bool(self.call_hook("ENABLED", request))


@functools.cache
def get_config() -> GiosgConfig:
    return GiosgConfig({**DEFAULTS, **user_settings()})


@receiver(setting_changed, dispatch_uid="giosg_django.conf.reset")
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "GIOSG":
        get_config.cache_clear()
