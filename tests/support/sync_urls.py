"""The test project's URLs with the sync endpoint routed (``giosg_django.urls``), as a site
that uses pages which do not reload has them."""

from django.urls import include, path

from . import cacheable_views, spa_views, turbo_views

urlpatterns = [
    path("giosg/", include("giosg_django.urls")),
    path("spa/", include(spa_views.urlpatterns)),
    path("turbo/", include(turbo_views.urlpatterns)),
    path("cached/", include(cacheable_views.urlpatterns)),
    path("", include("tests.support.urls")),
]
