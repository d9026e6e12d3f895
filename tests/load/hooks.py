"""giosg settings callables for the fault tests: each raises when the request's
``X-Giosg-Break`` header names its setting, and otherwise does what the default would."""

from __future__ import annotations

from typing import Any

BREAK_HEADER = "X-Giosg-Break"
KEY = "k" * 64  # long enough for HS512 (RFC 7518 3.2)


class HookFailure(RuntimeError):
    pass


def _check(request: Any, setting: str) -> None:
    asked = request.headers.get(BREAK_HEADER, "")
    if setting in asked.split(","):
        raise HookFailure(f"the {setting} hook is down")


def company_id(request: Any) -> str:
    _check(request, "COMPANY_ID")
    return "test-company"


def enabled(request: Any) -> bool:
    _check(request, "ENABLED")
    return True


def visitor_variables(request: Any) -> dict[str, Any] | None:
    _check(request, "VISITOR_VARIABLES")
    from giosg_django.identity import default_visitor_variables

    return default_visitor_variables(request)


def visitor_identifier(request: Any) -> str | None:
    _check(request, "VISITOR_IDENTIFIER")
    user = request.user
    return f"customer-{user.get_username()}" if user.is_authenticated else None


def signing_key(request: Any) -> str:
    _check(request, "SIGNING_KEY")
    return KEY
