from django.contrib.auth.views import LoginView, LogoutView
from django.urls import include, path

from . import client_views, views

urlpatterns = [
    path("page/", views.page, name="page"),
    path("accounts/login/", LoginView.as_view(template_name="login.html"), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("logout-here/", views.logout_and_render),
    path("consent/<str:answer>/", views.set_consent),
    path("cases/<str:ids>/<str:how>/", views.cases_view, name="cases"),
    path("queue/<str:goal>/<str:kind>/", views.queue_goal, name="queue"),
    path("slow/<str:goal>/", views.slow),
    path("storage/", views.storage_in_use),
    path("set-session/", views.set_session),
    path("async/queue/<str:goal>/", views.async_queue_goal),
    path("async/page/", views.async_page),
    path("async/template/", views.async_template_page),
    path("async/in-loop/", views.async_render_in_loop),
    path("async/lazy-user-in-loop/", views.async_lazy_user_in_loop),
    path("async/logout/", views.async_logout_and_render),
    path("plain/", views.plain),
    path("htmx/<str:version>/htmx.js", views.htmx_script),
    path("htmx/<str:version>/page/", views.htmx_page),
    path("live2/<str:company>", views.giosg_stub),
    path("inject/exempt/", views.exempt_page),
    path("inject/async-exempt/", views.async_exempt_page),
    path("inject/async-full/", views.async_full_page),
    path("inject/<str:kind>/", views.inject_page),
    path("hijack/", include("hijack.urls")),
    path("client/", include(client_views.urlpatterns)),
]
