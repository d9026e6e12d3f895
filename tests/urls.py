from django.urls import path

from . import views

urlpatterns = [
    path("page/", views.page, name="page"),
    path("cases/<str:ids>/<str:how>/", views.cases_view, name="cases"),
    path("queue/<str:goal>/<str:kind>/", views.queue_goal, name="queue"),
    path("set-session/", views.set_session),
    path("async/queue/<str:goal>/", views.async_queue_goal),
    path("async/page/", views.async_page),
]
