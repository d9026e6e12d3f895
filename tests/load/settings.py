"""The test project as gunicorn serves it in the load and fault tests.

The tests start gunicorn with this module and say in the environment what varies:

- ``GIOSG_LOAD_STORE``: the session store, ``db`` (SQLite in WAL mode), ``cookies`` (signed
  cookies) or ``redis`` (Django's cache sessions on the Redis server at ``GIOSG_LOAD_REDIS``);
- ``GIOSG_LOAD_DB``: the SQLite file (migrated, with the visitors' users, before gunicorn starts);
- ``GIOSG_LOAD_LOG``: the file that receives the ``giosg_django`` and ``django.request`` records;
- ``GIOSG_LOAD_HOOKS=1``: giosg's settings callables from :mod:`tests.load.hooks`, which raise
  when the request asks them to (the fault tests).
"""

from __future__ import annotations

import os
from typing import Any

from tests import settings as base

from . import hooks

# Everything tests/settings.py sets, then what differs under gunicorn.
globals().update({name: getattr(base, name) for name in dir(base) if name.isupper()})

STORE = os.environ.get("GIOSG_LOAD_STORE", "db")

DEBUG = False

# Django's own SessionMiddleware: the backend is chosen once per worker, as on a real site.
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "giosg_django.middleware.GiosgMiddleware",
]

DATABASES: dict[str, Any] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("GIOSG_LOAD_DB", ":memory:"),
        "OPTIONS": {
            # WAL: readers do not wait for the writer; three workers share the file.
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }
}

SESSION_ENGINE = {
    "db": "django.contrib.sessions.backends.db",
    "cookies": "django.contrib.sessions.backends.signed_cookies",
    "redis": "django.contrib.sessions.backends.cache",
}[STORE]

CACHES: dict[str, Any] = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if STORE == "redis":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["GIOSG_LOAD_REDIS"],
            # A store that is down answers at once: no waiting on a dead socket.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }

KEY = hooks.KEY  # the tests verify the tokens with it
GIOSG: dict[str, Any] = {
    **base.GIOSG,
    "SIGNING_KEY": KEY,
    "LOGIN_GOAL": "login-goal",
}
if os.environ.get("GIOSG_LOAD_HOOKS") == "1":
    GIOSG.update(
        {
            "COMPANY_ID": hooks.company_id,
            "ENABLED": hooks.enabled,
            "VISITOR_VARIABLES": hooks.visitor_variables,
            "VISITOR_IDENTIFIER": hooks.visitor_identifier,
            "SIGNING_KEY": hooks.signing_key,
        }
    )

LOG_FILE = os.environ.get("GIOSG_LOAD_LOG")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(process)d %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "file": (
            {"class": "logging.FileHandler", "filename": LOG_FILE, "formatter": "line"}
            if LOG_FILE
            else {"class": "logging.StreamHandler", "formatter": "line"}
        )
    },
    "loggers": {
        "giosg_django": {"level": "DEBUG", "handlers": ["file"], "propagate": False},
        "django.request": {"level": "WARNING", "handlers": ["file"], "propagate": False},
    },
}
