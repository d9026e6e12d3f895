""":class:`CacheStorage`: the waiting calls as records (``storage.records``) in a cache every
worker shares (``GIOSG["PENDING_CACHE"]``: Redis or memcached through Django's own backends).

Three operations are needed: ``get_many`` (find), and two atomic on those servers: ``add``
(write a record once) and ``delete``, which says whether this request removed the record, so
that exactly one request takes it. The cache must read what it wrote: not from a replica that
may lag behind (Django's RedisCache with several servers reads from any: check giosg.W014). A
local-memory or dummy cache is not shared by worker processes (check giosg.W013). Set socket
timeouts on it (``OPTIONS``): a server that hangs, rather than refuses, would hold every request
that carries a receipt.
"""

from __future__ import annotations

from django.core.cache import BaseCache, caches

from ..conf import get_config
from .records import RecordStorage

KEY_PREFIX = "giosg_django:pending:"


class CacheStorage(RecordStorage):
    """In the cache ``GIOSG["PENDING_CACHE"]``; no call is written into the session."""

    def cache(self) -> BaseCache:
        return caches[get_config()["PENDING_CACHE"]]

    def find(self, record_ids: list[str]) -> dict[str, str]:
        found = self.cache().get_many([KEY_PREFIX + record_id for record_id in record_ids])
        return {key.removeprefix(KEY_PREFIX): text for key, text in found.items()}

    def remove(self, record_id: str) -> bool:
        # Read by any number of requests, removed by one: the one whose delete removed it.
        return bool(self.cache().delete(KEY_PREFIX + record_id))

    def write(self, record_id: str, text: str, ttl: int) -> None:
        # add: written once. False when the cache refused it (memcached: over its item size;
        # the key itself is 128 random bits, never taken).
        if not self.cache().add(KEY_PREFIX + record_id, text, timeout=ttl):
            raise RuntimeError(f"the cache {get_config()['PENDING_CACHE']!r} did not store it")
