"""``manage.py create_demo_users``: the demo's users with known passwords. Safe to run again:
existing users get their names, email and password reset to the listed ones."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from shop.demo import DEMO_USERS


class Command(BaseCommand):
    help = "Create or reset the demo users (listed in shop/demo.py) and print their passwords."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        self.stdout.write("Demo users (username / password):")
        for demo in DEMO_USERS:
            user, created = user_model.objects.update_or_create(
                username=demo.username,
                defaults={
                    "first_name": demo.first_name,
                    "last_name": demo.last_name,
                    "email": demo.email,
                },
            )
            user.set_password(demo.password)
            user.save(update_fields=["password"])
            state = "created" if created else "reset"
            self.stdout.write(
                f"  {demo.username} / {demo.password}    ({demo.description}; {state})"
            )
