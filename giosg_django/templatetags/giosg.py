"""``{% load giosg %}``: thin wrappers over :mod:`giosg_django.render`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from django import template
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString

from .. import calls, render

register = template.Library()


class RequestNode(template.Node):
    """A tag without arguments that renders ``function(request)``. (A plain Node: it is on
    every page, and simple_tag's argument handling costs more than the call itself.)"""

    def __init__(self, function: Callable[[Any], str]) -> None:
        self.function = function

    def render(self, context: Context) -> str:
        return self.function(context.get("request"))


def _no_arguments(function: Callable[[Any], SafeString]) -> Callable[[Parser, Token], RequestNode]:
    def compile_tag(parser: Parser, token: Token) -> RequestNode:
        bits = token.split_contents()
        if len(bits) > 1:
            raise template.TemplateSyntaxError(f"{bits[0]} takes no arguments")
        return RequestNode(function)

    return compile_tag


register.tag("giosg_script", _no_arguments(render.giosg_script))


@register.tag
def giosg_visitor(parser: Parser, token: Token) -> RequestNode:
    """``{% giosg_visitor %}``, or ``{% giosg_visitor cacheable %}`` for a page that is the
    same for everyone (``render.giosg_visitor_cacheable``)."""
    bits = token.split_contents()
    if bits[1:] == ["cacheable"]:
        return RequestNode(render.giosg_visitor_cacheable)
    if len(bits) > 1:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes no argument but the word cacheable, not {' '.join(bits[1:])!r}"
        )
    return RequestNode(render.visitor_html)  # (a node's output is never escaped)


class GiosgCallNode(template.Node):
    def __init__(
        self,
        name: FilterExpression,
        args: list[FilterExpression],
        kwargs: dict[str, FilterExpression],
    ) -> None:
        self.name = name
        self.args = args
        self.kwargs = kwargs

    def render(self, context: Context) -> str:
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {key: value.resolve(context) for key, value in self.kwargs.items()}
        return render.giosg_call(
            context.get("request"), self.name.resolve(context), *args, **kwargs
        )


@register.tag
def giosg_call(parser: Parser, token: Token) -> GiosgCallNode:
    """``{% giosg_call "module.method" arg... key=value... %}``."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            f'{bits[0]} needs a call name, e.g. {{% {bits[0]} "goal.matches" goal_id %}}'
        )
    name = parser.compile_filter(bits[1])
    args: list[FilterExpression] = []
    kwargs: dict[str, FilterExpression] = {}
    for bit in bits[2:]:
        key, eq, value = bit.partition("=")
        if eq and key.isidentifier():
            if key in kwargs:
                raise template.TemplateSyntaxError(f"{bits[0]} got {key}= twice")
            kwargs[key] = parser.compile_filter(value)
        elif kwargs:
            raise template.TemplateSyntaxError(
                f"{bits[0]}: positional argument {bit} after a keyword argument"
            )
        else:
            args.append(parser.compile_filter(bit))
    # A literal call name is checked now, with the argument names, so a typo fails at compile.
    if isinstance(name.var, str):
        try:
            build = calls.builder(name.var)
        except LookupError as exc:
            raise template.TemplateSyntaxError(f"{bits[0]}: {exc}") from None
        try:
            inspect.signature(build).bind(*args, **kwargs)
        except TypeError as exc:
            raise template.TemplateSyntaxError(f"{bits[0]} {name.var!r}: {exc}") from None
    return GiosgCallNode(name, args, kwargs)
