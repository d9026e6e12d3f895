"""Login and logout, as giosg should see them.

``logout()`` sends ``user_logged_out`` and then flushes the session; ``login()`` may flush it
before sending ``user_logged_in``. The calls queued here go to ``request.giosg``, which lives on
the request, so the flush cannot take them: the middleware stores them in the new session.

``LOGIN_GOAL`` counts a person logging in: not django-hijack's acquire and release, which call
``login()`` for a support agent. A ``LOGIN_GOAL`` that is no goal id is a fault (raised with
``DEBUG`` on, else logged), never a failed login.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from . import calls
from .api import Giosg, get_giosg
from .calls import IDENTITY_CHANGED
from .conf import get_config
from .faults import contained
from .identity import switches_impersonation
from .render import csp_nonce, logout_calls


@receiver(user_logged_in, dispatch_uid="giosg_django.receivers.logged_in")
def logged_in(*, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    giosg = get_giosg(request)
    if giosg is None:  # e.g. the test client's login(), which has no real request
        return
    if giosg.user is not None:
        giosg.user = user
    giosg.add(IDENTITY_CHANGED)
    goal = get_config()["LOGIN_GOAL"]
    if goal is None or switches_impersonation(request):
        return
    with contained("GIOSG['LOGIN_GOAL']"):
        giosg.add(calls.goal_matches(goal))


@receiver(user_logged_out, dispatch_uid="giosg_django.receivers.logged_out")
def logged_out(*, request: Any = None, **kwargs: Any) -> None:
    giosg = get_giosg(request)
    if giosg is None:
        return
    if giosg.user is not None:
        giosg.user = AnonymousUser()
    queue_logout(request, giosg)


def queue_logout(request: Any, giosg: Giosg) -> None:
    """What a logout does in the browser: the logout calls for the next page, and the time of
    the logout for the site's other pages (CROSS_TAB_LOGOUT). Also queued when a signed-in
    session ended without logout() (``visitor_cookie``)."""
    config = get_config()
    for call in logout_calls(config):
        giosg.add(call)
    if config["CROSS_TAB_LOGOUT"]:
        giosg.add(calls.logged_out(int(time.time() * 1000)))
        # The page this response shows may lack the tag (cross_tab inserts the client then):
        # the nonce must exist before a CSP middleware inside ours writes its header.
        with contained("reading the CSP nonce"):
            csp_nonce(request)
