"""Login and logout, as giosg should see them.

``logout()`` sends ``user_logged_out`` and then flushes the session; ``login()`` may flush it
before sending ``user_logged_in``. The calls queued here go to the request's ``Visit``, which
lives on the request, so the flush cannot take them: the middleware stores them in the new
session.

``LOGIN_GOAL`` counts a person logging in: not django-hijack's acquire and release, which call
``login()`` for a support agent. A ``LOGIN_GOAL`` that is no goal id is a fault (raised with
``DEBUG`` on, else logged), never a failed login.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from . import calls
from .calls import IDENTITY_CHANGED
from .conf import get_config
from .cross_tab import queue_logout
from .faults import contained
from .identity import switches_impersonation
from .visit import visit_of


@receiver(user_logged_in, dispatch_uid="giosg_django.receivers.logged_in")
def logged_in(*, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    visit = visit_of(request)
    if visit is None:  # e.g. the test client's login(), which has no real request
        return
    if visit.user is not None:
        visit.user = user
    visit.add(IDENTITY_CHANGED)
    goal = get_config()["LOGIN_GOAL"]
    if goal is None or switches_impersonation(request):
        return
    with contained("GIOSG['LOGIN_GOAL']"):
        visit.add(calls.goal_matches(goal))


@receiver(user_logged_out, dispatch_uid="giosg_django.receivers.logged_out")
def logged_out(*, request: Any = None, **kwargs: Any) -> None:
    visit = visit_of(request)
    if visit is None:
        return
    if visit.user is not None:
        visit.user = AnonymousUser()
    queue_logout(request, visit)
