"""Jinja2: ``giosg_script()``, ``giosg_visitor()`` and ``giosg_call(name, *args, **kwargs)``.

Add ``"giosg_django.jinja2.GiosgExtension"`` to the ``extensions`` of Django's Jinja2 backend.
The globals are thin wrappers over :mod:`giosg_django.render`, as the template tags are, and take
``request`` from the template context (Django's Jinja2 backend puts it there).
"""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

from . import render


@pass_context
def giosg_script(context: Context) -> SafeString:
    return render.giosg_script(context.get("request"))


@pass_context
def giosg_visitor(context: Context, *, cacheable: bool = False) -> SafeString:
    if cacheable is True:
        return render.giosg_visitor_cacheable(context.get("request"))
    if cacheable is not False:
        raise TypeError(f"cacheable must be True or False, not {type(cacheable).__name__}")
    return render.giosg_visitor(context.get("request"))


@pass_context
def giosg_call(context: Context, name: str, /, *args: Any, **kwargs: Any) -> SafeString:
    return render.giosg_call(context.get("request"), name, *args, **kwargs)


class GiosgExtension(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals.update(
            giosg_script=giosg_script, giosg_visitor=giosg_visitor, giosg_call=giosg_call
        )
