"""The demo's pages. Each giosg call is one line of Python on ``request.giosg``: the call is
kept in the visitor's session and rendered by ``{% giosg_visitor %}`` on the next page the
visitor sees, so a redirect after a POST loses nothing."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_page
from django.views.decorators.http import require_POST
from giosg_django.identity import default_visitor_variables

from demo_site.giosg import CONSENT_COOKIE

from .forms import OrderForm, SupportForm
from .models import PRODUCTS, Order

LAST_ORDER = "shop_last_order"  # session key: the thank-you page shows only your own order


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/home.html")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "shop/account.html",
        {
            # What the default GIOSG["VISITOR_VARIABLES"] sends for this user, signed.
            "variables": default_visitor_variables(request),
            "orders": request.user.orders.all()[:5],
        },
    )


def shop(request: HttpRequest) -> HttpResponse:
    form = OrderForm(request.POST or None, initial={"product": next(iter(PRODUCTS))})
    if request.method == "POST" and form.is_valid():
        order = form.save(commit=False)
        order.user = request.user if request.user.is_authenticated else None
        order.save()
        # The order's total (a Decimal) is the goal's value; giosg gets it as a number.
        request.giosg.goal.matches(settings.SHOP_ORDER_GOAL, value=order.total)
        request.session[LAST_ORDER] = order.pk
        return redirect("thanks")  # the goal is rendered on the thank-you page
    return render(request, "shop/shop.html", {"form": form, "products": PRODUCTS})


def thanks(request: HttpRequest) -> HttpResponse:
    order = Order.objects.filter(pk=request.session.get(LAST_ORDER)).first()
    if order is None:
        return redirect("shop")
    return render(request, "shop/thanks.html", {"order": order})


def sales(request: HttpRequest) -> HttpResponse:
    # Operators of the Sales room see this visitor while the page is open.
    request.giosg.room.join(name="Sales")
    return render(request, "shop/sales.html")


def support(request: HttpRequest) -> HttpResponse:
    form = SupportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        request.giosg.chat.start_task(form.cleaned_data["message"])
        messages.success(request, "Thanks: an operator will get back to you.")
        return redirect("support")
    return render(request, "shop/support.html", {"form": form})


@cache_page(60)
def offers(request: HttpRequest) -> HttpResponse:
    """A page the same for everyone, cached for a minute: {% giosg_visitor cacheable %}. Its
    template shows no user; each visitor's identity and calls come from the sync endpoint."""
    return render(request, "shop/offers.html")


def callback(request: HttpRequest) -> HttpResponse:
    """A page that never reloads: its form posts JSON with fetch() (shop/callback.js)."""
    return render(request, "shop/callback.html")


@require_POST
def callback_request(request: HttpRequest) -> JsonResponse:
    """The callback form's JSON endpoint, as an API view of a front end would be: the task it
    queues reaches giosg on the same page, through the page client's sync, without a reload."""
    try:
        data = json.loads(request.body)
        phone = str(data["phone"]).strip()[:40]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"ok": False, "error": "a phone number, please"}, status=400)
    if not phone:
        return JsonResponse({"ok": False, "error": "a phone number, please"}, status=400)
    request.giosg.chat.start_task(f"Please call me back: {phone}")
    return JsonResponse({"ok": True})


@require_POST
def consent(request: HttpRequest) -> HttpResponse:
    """The consent banner's buttons: remember the answer, go back to the page."""
    answer = "yes" if request.POST.get("answer") == "yes" else "no"
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    response = redirect(back)
    response.set_cookie(CONSENT_COOKIE, answer, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def giosg_stub(request: HttpRequest, company_id: str) -> HttpResponse:
    """Demo mode only: what the loader fetches instead of giosg's client script. It does
    nothing, so the calls stay in ``window._giosg._e`` for the panel to read."""
    body = (
        "/* giosg_django demo: a stand-in for giosg's client script. Set GIOSG_COMPANY_ID to\n"
        "   load the real one; until then the page's calls stay in window._giosg._e. */\n"
    )
    return HttpResponse(body, content_type="text/javascript; charset=utf-8")
