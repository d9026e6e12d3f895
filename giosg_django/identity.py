"""Who the visitor is, from ``request.user`` only: the default ``VISITOR_VARIABLES``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def default_visitor_variables(request: HttpRequest) -> dict[str, Any] | None:
    """``username`` (the full name, else the username) and ``email`` when the user model has
    one. Works with custom user models that have neither ``email`` nor ``first_name``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    variables: dict[str, Any] = {"username": (full_name or "").strip() or user.get_username()}
    email_field = user.get_email_field_name() if hasattr(user, "get_email_field_name") else None
    email = getattr(user, email_field, None) if email_field else None
    if email:
        variables["email"] = email
    return variables
