from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from shop import views
from shop.demo import DEMO_USERS

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(extra_context={"demo_users": DEMO_USERS}),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only
    # The page client's sync endpoint: calls queued by fetch() (the callback page) reach giosg
    # without a reload.
    path("giosg/", include("giosg_django.urls")),
    path("", include("shop.urls")),
]

if settings.DEMO_MODE:
    # Stands in for giosg's client script, which the loader fetches from GIOSG["HOST"].
    urlpatterns.append(path("live2/<str:company_id>", views.giosg_stub, name="giosg-stub"))
