"""``giosg_exempt``: keep the middleware's auto-inject away from a view."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

View = TypeVar("View", bound=Callable[..., Any])


def giosg_exempt(view: View) -> View:
    """Mark ``view`` so that ``AUTO_INJECT`` leaves its responses alone (sync or async view).

    Like ``csrf_exempt``, it wraps the view rather than changing the function it is given.
    """
    if iscoroutinefunction(view):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await view(*args, **kwargs)

        wrapper: Any = markcoroutinefunction(async_wrapper)
    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

    wrapper.giosg_exempt = True
    return cast(View, functools.wraps(view)(wrapper))
