"""Two sites served by one project, told apart by the request's host: the per-request
``COMPANY_ID``/``SIGNING_KEY`` callables the sites tests configure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.test import AsyncClient


@dataclass(frozen=True)
class Site:
    host: str
    company_id: str
    signing_key: str


# Keys long enough for HS512 (RFC 7518 3.2), and different from each other.
A = Site("a.example", "company-a", "a" * 64)
B = Site("b.example", "company-b", "b" * 64)
SITES = {site.host: site for site in (A, B)}


def site_for(request: HttpRequest) -> Site | None:
    """The site of the request's host (port ignored); ``None`` for any other host."""
    host = request.get_host().rsplit(":", 1)[0]
    return SITES.get(host)


def company_id(request: HttpRequest) -> str | None:
    site = site_for(request)
    return site.company_id if site else None


def signing_key(request: HttpRequest) -> str | None:
    site = site_for(request)
    return site.signing_key if site else None


def sites_table_down(request: HttpRequest) -> str | None:
    raise RuntimeError("the sites table is down")


class HostAsyncClient(AsyncClient):
    """An ``AsyncClient`` whose ``headers={"host": ...}`` replaces the ``testserver`` host.

    Django's async test client always sends ``host: testserver`` and appends a given host as a
    second header, which the request joins into one invalid ``Host`` ("testserver,a.example").
    """

    def _base_scope(self, **request: Any) -> dict[str, Any]:
        scope: dict[str, Any] = super()._base_scope(**request)  # type: ignore[misc]
        hosts = [header for header in scope["headers"] if header[0] == b"host"]
        scope["headers"] = [
            header for header in scope["headers"] if header[0] != b"host" or header is hosts[-1]
        ]
        return scope


# A dotted path that imports and is long enough for HS256 as a literal key: the sites tests
# check that such a string is used as the key itself, never imported.
signing_key_for_the_request_host = signing_key
