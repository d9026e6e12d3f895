from django.apps import AppConfig


class GiosgConfig(AppConfig):
    name = "giosg_django"
    verbose_name = "giosg"

    def ready(self) -> None:
        # Importing these registers the system checks and connects the login/logout receivers.
        from . import checks, receivers  # noqa: F401
