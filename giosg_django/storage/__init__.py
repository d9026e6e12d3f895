"""Where the calls waiting for a visitor are kept between their requests: ``PENDING_STORAGE``.

Never in process memory: whichever worker serves the visitor's next page renders them. Every
store implements one interface, :class:`PendingStorage` (``storage.base``):

- :class:`SessionStorage` (the default, ``storage.session``): in the visitor's Django session.
  Parallel requests of one visitor can lose or repeat a call (the last session write wins).
- :class:`CacheStorage` (``storage.cache``) and :class:`DatabaseStorage`
  (``storage.database``): records written once and taken once (``storage.records``), in a
  cache every worker shares or in the database: nothing lost, nothing delivered twice.
"""

from .base import (
    LOAD_FAILED,
    NOTHING,
    STORE_FAILED,
    WRITE_FAILED,
    Loaded,
    PendingStorage,
    decode,
    encode,
    get_storage,
    keyed_session,
)
from .cache import CacheStorage
from .database import DatabaseStorage
from .session import COOKIE_LIMIT, SESSION_KEY, SessionStorage, fit_cookie

__all__ = [
    "COOKIE_LIMIT",
    "LOAD_FAILED",
    "NOTHING",
    "SESSION_KEY",
    "STORE_FAILED",
    "WRITE_FAILED",
    "CacheStorage",
    "DatabaseStorage",
    "Loaded",
    "PendingStorage",
    "SessionStorage",
    "decode",
    "encode",
    "fit_cookie",
    "get_storage",
    "keyed_session",
]
