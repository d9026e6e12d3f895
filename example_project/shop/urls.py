from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.account, name="account"),
    path("shop/", views.shop, name="shop"),
    path("shop/thanks/", views.thanks, name="thanks"),
    path("sales/", views.sales, name="sales"),
    path("support/", views.support, name="support"),
    path("callback/", views.callback, name="callback"),
    path("offers/", views.offers, name="offers"),
    path("callback/request/", views.callback_request, name="callback-request"),
    path("consent/", views.consent, name="consent"),
]
