"""The test project as gunicorn serves it in the load and fault tests.

The tests start gunicorn with this module and say in the environment what varies:

- ``GIOSG_LOAD_STORE``: the session store, ``db`` (SQLite in WAL mode), ``cookies`` (signed
  cookies) or ``redis`` (Django's cache sessions on the Redis server at ``GIOSG_LOAD_REDIS``);
- ``GIOSG_LOAD_DB``: the SQLite file (migrated, with the visitors' users, before gunicorn starts);
- ``GIOSG_LOAD_PG=host:port/name``: PostgreSQL's database ``name`` instead (same preparation;
  user ``postgres``, trust authentication: the cluster the tests start, tests/load/processes.py);
- ``GIOSG_LOAD_PENDING``: where the waiting calls are kept (``PENDING_STORAGE``), ``session``,
  ``cache`` (the Redis server at ``GIOSG_LOAD_REDIS``, the cache alias ``pending``) or ``db``;
  unset, giosg's default;
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

PG = os.environ.get("GIOSG_LOAD_PG")
if PG:
    address, _, name = PG.partition("/")
    host, _, port = address.rpartition(":")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": host,
            "PORT": port,
            "NAME": name,
            "USER": "postgres",
            "OPTIONS": {"connect_timeout": 10},
        }
    }

SESSION_ENGINE = {
    "db": "django.contrib.sessions.backends.db",
    "cookies": "django.contrib.sessions.backends.signed_cookies",
    "redis": "django.contrib.sessions.backends.cache",
}[STORE]

# A store that is down answers at once: no waiting on a dead socket.
REDIS_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CACHES: dict[str, Any] = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if STORE == "redis":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["GIOSG_LOAD_REDIS"],
            "OPTIONS": REDIS_OPTIONS,
        }
    }

# The cache the pending calls use, apart from the sessions' (which may be Redis too).
PENDING = os.environ.get("GIOSG_LOAD_PENDING")
PENDING_STORAGES = {
    "session": "giosg_django.storage.SessionStorage",
    "cache": "giosg_django.storage.CacheStorage",
    "db": "giosg_django.storage.DatabaseStorage",
}
if PENDING == "cache":
    CACHES["pending"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["GIOSG_LOAD_REDIS"],
        "OPTIONS": REDIS_OPTIONS,
    }

KEY = hooks.KEY  # the tests verify the tokens with it
GIOSG: dict[str, Any] = {
    **base.GIOSG,
    "SIGNING_KEY": KEY,
    "LOGIN_GOAL": "login-goal",
}
if PENDING:
    GIOSG["PENDING_STORAGE"] = PENDING_STORAGES[PENDING]
    if PENDING == "cache":
        GIOSG["PENDING_CACHE"] = "pending"
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
