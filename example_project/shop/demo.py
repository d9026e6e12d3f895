"""The demo's users: created by ``manage.py create_demo_users`` and listed on the login page."""

from __future__ import annotations

from typing import NamedTuple


class DemoUser(NamedTuple):
    username: str
    password: str
    first_name: str
    last_name: str
    email: str

    @property
    def description_lines(self) -> list[str]:
        """What giosg's default visitor variables will carry for this user."""
        name = f"{self.first_name} {self.last_name}".strip()
        return [part for part in (name, self.email) if part] or ["username only"]

    @property
    def description(self) -> str:
        return ", ".join(self.description_lines)


DEMO_USERS = [
    DemoUser("ada", "ada-demo-password", "Ada", "Lovelace", "ada@example.com"),
    # No name and no email: giosg gets the username only.
    DemoUser("bob", "bob-demo-password", "", "", ""),
]
