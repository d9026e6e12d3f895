"""Who the visitor is, from ``request.user`` only: the identity ``{% giosg_visitor %}`` sends
(``identity_calls``), and what the browser does when that person leaves (``logout_calls``).

Identity comes from the request's user, never from a template variable, so a profile page
does not identify the visitor as the profile it shows.
"""

from __future__ import annotations

import functools
from typing import Any

from django.apps import apps
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.functional import LazyObject, empty

from . import calls
from .calls import Call, visitor_set_identifier, visitor_submit
from .conf import GiosgSettings
from .faults import contained
from .quiet_session import UserOfTheView
from .visit import started_visit


def current_user(request: HttpRequest) -> Any:
    """The request's user. On the async path the middleware resolved it with
    ``await request.auser()``, so a template rendered inside an async view can read it without
    a synchronous database query; login and logout during the request keep it current."""
    user = getattr(request, "user", None)
    # An unresolved lazy user (AuthenticationMiddleware's, or one a project set) may need a
    # query: the async path's user is asked first. giosg's own wrapper holds its user already
    # (the sync path, every signed-in page), and a plain user is read as it is.
    if (
        isinstance(user, LazyObject)
        and type(user) is not UserOfTheView
        and object.__getattribute__(user, "_wrapped") is empty
    ):
        visit = started_visit(request)
        if visit is not None and visit.user is not None:
            return visit.user
    return unwrapped(user)


def unwrapped(user: Any) -> Any:
    """The object behind ``request.user``, which AuthenticationMiddleware sets to a
    ``SimpleLazyObject``: every attribute read through that proxy raises and catches an
    AttributeError inside it, about ten times the cost of the read itself, and giosg reads
    several on every page of a signed-in visitor. Read afresh on every call, never kept, so
    a view that replaces ``request.user`` is seen at once."""
    if isinstance(user, LazyObject):
        # object's own lookup: LazyObject.__getattribute__ is Python code, run on every read.
        wrapped = object.__getattribute__(user, "_wrapped")
        if wrapped is empty:
            type(user)._setup(user)  # type: ignore[attr-defined]  # (not user._setup: see above)
            wrapped = object.__getattribute__(user, "_wrapped")
        return wrapped
    return user


def default_visitor_variables(request: HttpRequest) -> dict[str, Any] | None:
    """``username`` (the full name, else the username) and ``email`` when the user model has
    one. Works with custom user models that have neither ``email`` nor ``first_name``."""
    user = current_user(request)
    if user is None or not user.is_authenticated:
        return None
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    variables: dict[str, Any] = {"username": (full_name or "").strip() or user.get_username()}
    email_field = user.get_email_field_name() if hasattr(user, "get_email_field_name") else None
    email = getattr(user, email_field, None) if email_field else None
    if email:
        variables["email"] = email
    return variables


def is_signed_in(request: HttpRequest) -> bool:
    user = current_user(request)
    return bool(user is not None and user.is_authenticated)


def is_impersonated(request: HttpRequest, user: Any = None) -> bool:
    """Whether an admin is acting as this user (django-hijack sets ``user.is_hijacked``).
    ``user``: the request's user when the caller has it already. Without django-hijack
    installed, nobody is: the attribute and the session record are both hijack's."""
    if not hijack_installed():
        return False
    flag = getattr(current_user(request) if user is None else user, "is_hijacked", None)
    if flag is None:
        # The async path reads the user with request.auser(), which django-hijack does not
        # wrap: ask its record in the session (loaded already, so no query here).
        session = getattr(request, "session", None)
        flag = session is not None and bool(session.get("hijack_history"))
    return bool(flag)


@functools.cache
def hijack_installed() -> bool:
    """Whether django-hijack is installed (read once: it is asked on every signed-in page)."""
    return apps.is_installed("hijack")


@receiver(setting_changed, dispatch_uid="giosg_django.identity.apps_changed")
def _apps_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "INSTALLED_APPS":
        hijack_installed.cache_clear()


def switches_impersonation(request: HttpRequest) -> bool:
    """Whether this request is django-hijack's acquire or release view (or a subclass of one),
    whose ``login()`` switches between the agent and the impersonated user. The session tells
    nothing then: ``login()`` has flushed it, and hijack writes its record after."""
    match = getattr(request, "resolver_match", None)
    view_class = getattr(getattr(match, "func", None), "view_class", None)
    if not isinstance(view_class, type) or not apps.is_installed("hijack"):
        return False
    from hijack.views import AcquireUserView, ReleaseUserView  # type: ignore[import-untyped]

    return issubclass(view_class, (AcquireUserView, ReleaseUserView))


def variables_call(request: HttpRequest, config: GiosgSettings, *, replace: bool) -> Call | None:
    """``visitor.submit`` of the signed-in user's variables (signed when a key is set)."""
    if config["VISITOR_VARIABLES"] is None:
        return None
    variables = config.call_hook("VISITOR_VARIABLES", request)
    if variables is None:
        return None
    return visitor_submit(variables, replace_existing=replace)


def identifier_call(
    request: HttpRequest, config: GiosgSettings, *, replace: bool = False
) -> Call | None:
    """``visitor.setIdentifier`` when ``VISITOR_IDENTIFIER`` gives a string (``replace`` is
    unused: the same signature as ``variables_call``)."""
    if config["VISITOR_IDENTIFIER"] is None:
        return None
    identifier = config.call_hook("VISITOR_IDENTIFIER", request)
    return None if identifier is None else visitor_set_identifier(identifier)


# Made once: these run on every page of a signed-in visitor.
_USER_FAILED = contained("reading request.user")
_IDENTITY_PARTS = (
    ("VISITOR_VARIABLES", contained("GIOSG['VISITOR_VARIABLES']"), variables_call),
    ("VISITOR_IDENTIFIER", contained("GIOSG['VISITOR_IDENTIFIER']"), identifier_call),
)


def identity_calls(
    request: HttpRequest | None, config: GiosgSettings, *, replace: bool
) -> list[Call]:
    """The signed-in user's variables and identifier; nothing for an anonymous visitor, and
    nothing identifying for an impersonated user. ``replace``: after a change of user."""
    if request is None:
        return []
    signed_in = False
    with _USER_FAILED:
        user = current_user(request)
        if user is None or not user.is_authenticated:
            return []
        if not config["IDENTIFY_IMPERSONATED"] and is_impersonated(request, user):
            # On the change of user (the marker), what was attached before is cleared, as
            # after any change of user.
            return [calls.visitor_remove_all()] if replace else []
        signed_in = True
    if not signed_in:
        return []
    found = []
    for setting, failed, build in _IDENTITY_PARTS:
        if config[setting] is None:
            continue  # not configured (VISITOR_IDENTIFIER, usually): nothing to contain
        with failed:
            call = build(request, config, replace=replace)
            if call is not None:
                found.append(call)
    return found


def logout_calls(config: GiosgSettings) -> tuple[Call, ...]:
    """What a logout does in the browser, per CLOSE_CHAT_ON_LOGOUT/CLEAR_VARIABLES_ON_LOGOUT:
    queued on logout (and when a session ended without one), and run by the page client of
    the site's other pages (CROSS_TAB_LOGOUT)."""
    return config.derived(_logout_calls)


def _logout_calls(config: GiosgSettings) -> tuple[Call, ...]:
    parts = []
    if config["CLOSE_CHAT_ON_LOGOUT"]:
        parts.append(calls.chat_close(hide=True))
    if config["CLEAR_VARIABLES_ON_LOGOUT"]:
        parts.append(calls.visitor_remove_all())
    return tuple(parts)
