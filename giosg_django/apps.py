from django.apps import AppConfig


class GiosgConfig(AppConfig):
    name = "giosg_django"
    verbose_name = "giosg"

    def ready(self) -> None:
        # Registers the system checks with Django's check framework.
        from . import checks  # noqa: F401
