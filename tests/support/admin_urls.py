"""The test project's URLs plus Django's admin and ``include("django.contrib.auth.urls")``
under /auth/, whose LogoutView lands on the admin's "Logged out" page (no giosg tag). Used with
``django.contrib.admin`` added to INSTALLED_APPS by the tests that need it."""

from django.contrib import admin
from django.urls import include, path

from . import urls

urlpatterns = [
    *urls.urlpatterns,
    path("admin/", admin.site.urls),
    path("auth/", include("django.contrib.auth.urls")),
]
