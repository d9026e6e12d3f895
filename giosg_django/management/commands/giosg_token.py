"""``manage.py giosg_token USERNAME``: the signed token giosg would get for that user."""

from __future__ import annotations

import datetime
import json
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.core.exceptions import DisallowedHost
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import HttpRequest

from giosg_django.calls import visitor_submit
from giosg_django.conf import get_config
from giosg_django.signing import sign


class Command(BaseCommand):
    help = "Print the signed giosg visitor token for USERNAME, then its decoded payload."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the user's username (USERNAME_FIELD)")
        parser.add_argument(
            "--host",
            default="localhost",
            help="host of the request handed to per-site COMPANY_ID/SIGNING_KEY callables",
        )

    def handle(self, *args: Any, username: str, host: str, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user with {user_model.USERNAME_FIELD} {username!r}.") from None

        request = HttpRequest()
        request.META.update({"SERVER_NAME": host, "SERVER_PORT": "443", "HTTP_HOST": host})
        request.user = user
        try:
            request.get_host()
        except DisallowedHost:
            raise CommandError(f"The host {host!r} is not in ALLOWED_HOSTS.") from None
        config = get_config()
        try:
            key = config.signing_key(request)
            variables = (
                config.call_hook("VISITOR_VARIABLES", request)
                if config["VISITOR_VARIABLES"]
                else None
            )
        except Exception as exc:
            raise CommandError(f"A GIOSG setting failed for host {host!r}: {exc!r}") from exc
        if key is None:
            raise CommandError(
                f"GIOSG['SIGNING_KEY'] is not set (or gives no key for host {host!r}): there is "
                "nothing to sign with. Set it to the key from the giosg console."
            )
        if variables is None:
            raise CommandError(f"GIOSG['VISITOR_VARIABLES'] gives no variables for {username!r}.")
        algorithm = config["SIGNING_ALGORITHM"]
        call = visitor_submit(variables)  # the same validation as a page
        token = sign(call.args[0], key=key, algorithm=algorithm, ttl=config["TOKEN_TTL"])
        # Just signed here: read back without the key, which PyJWT never gets.
        payload = jwt.decode(token, options={"verify_signature": False})
        expires = datetime.datetime.fromtimestamp(payload["exp"], tz=datetime.timezone.utc)
        self.stdout.write(token)
        self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True))
        self.stdout.write(
            f"{algorithm}, expires {expires.isoformat()} ({config['TOKEN_TTL']} s from now)"
        )
