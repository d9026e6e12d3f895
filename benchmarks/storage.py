"""What each ``PENDING_STORAGE`` costs (``make bench`` runs it after bench.py).

Two figures per store, its sides interleaved call by call with the other stores' (the median
of each call's CPU time plus its waiting on the store: wall-clock time here, since a round
trip to Redis is time the request spends, not CPU):

1. a signed-in page with nothing waiting: the goal is that CacheStorage and DatabaseStorage
   cost no more than SessionStorage (a visitor without a receipt costs them no round trip);
2. queueing one call and delivering it: a JSON request that queues a goal, then the page
   that renders it (the browser's cookies carried from one to the other);
3. the sync endpoint (``giosg_django:sync``), against the plain page: a POST with nothing
   waiting (the identity alone), and a JSON request queuing a goal then the sync that
   delivers it (what a page that does not reload costs the server per call);
4. the same signed-in page with ``{% giosg_visitor cacheable %}`` (what a page the same for
   everyone costs the server when it is rendered, before any cache), against the plain page.

The session is the signed-cookie backend (benchmarks/settings.py), the database SQLite in
memory, the cache a redis-server started here on a free loopback port (the row is left out,
saying why, when Debian's redis-server is not installed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test import override_settings  # noqa: E402

from benchmarks.bench import environ, signed_in_cookie  # noqa: E402
from giosg_django.conf import get_config  # noqa: E402
from giosg_django.storage import CacheStorage, DatabaseStorage, SessionStorage  # noqa: E402
from tests.load.processes import Redis, redis_server_path  # noqa: E402


def use(storage: Any) -> Callable[[], None]:
    """Make ``storage`` the process's store (what ``PENDING_STORAGE`` would give) before a
    call: the store is made once per settings and kept beside them."""

    def make_arg() -> None:
        # GiosgSettings.storage is a cached_property: what it keeps is the instance's own.
        vars(get_config())["storage"] = storage

    return make_arg


CSRF = "c" * 32  # a CSRF secret, as Django's cookie holds one: the sync endpoint's POST


def request(handler: WSGIHandler, path: str, jar: dict[str, str], method: str = "GET") -> list[str]:
    """``path`` with the cookies of ``jar``; applies the response's Set-Cookie to it."""
    headers: list[str] = []

    def keep(status: str, response_headers: Any) -> None:
        assert status.startswith("200"), status
        headers.extend(v for k, v in response_headers if k.lower() == "set-cookie")

    cookie = "; ".join(f"{name}={value}" for name, value in {**jar, "csrftoken": CSRF}.items())
    wsgi = environ(path, cookie)
    if method == "POST":
        wsgi.update(REQUEST_METHOD="POST", HTTP_X_CSRFTOKEN=CSRF, CONTENT_LENGTH="0")
    for _chunk in handler(wsgi, keep):
        pass
    for header in headers:
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                jar.pop(name, None)
            else:
                jar[name] = morsel.value
    return headers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="calls per side")
    parser.add_argument("--warm-up", type=int, default=50, help="calls per side first")
    options = parser.parse_args()
    cookie, _user = signed_in_cookie()
    base = dict(pair.split("=", 1) for pair in cookie.split("; "))
    stores: dict[str, Any] = {"session": SessionStorage(), "database": DatabaseStorage()}
    redis = None
    binary = redis_server_path()
    directory = Path(tempfile.mkdtemp(prefix="giosg-bench-"))
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if binary is not None:
        redis = Redis(binary, directory)
        redis.start()
        caches["default"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis.url,
        }
        stores["cache"] = CacheStorage()
    else:
        print("cache: left out, redis-server is not installed (apt-get install redis-server)")
    try:
        with override_settings(CACHES=caches):
            run(stores, base, options)
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(directory, ignore_errors=True)


def run(stores: dict[str, Any], base: dict[str, str], options: argparse.Namespace) -> None:
    handler = WSGIHandler()
    jar = dict(base)
    request(handler, "/page/yes/", jar)  # the cookies giosg sets on a first page
    sides: list[tuple[str, Callable[[Any], Any], Callable[[], None]]] = []
    for name, storage in stores.items():
        # Each store works as the others do: the goal queued reaches the next page, once.
        use(storage)()
        cycle_jar = dict(jar)
        request(handler, "/queue/", cycle_jar)
        page: list[bytes] = []
        cookie = "; ".join(f"{k}={v}" for k, v in cycle_jar.items())
        page.extend(handler(environ("/page/yes/", cookie), lambda *a: None))
        assert b"bench-goal" in b"".join(page), f"{name}: the goal did not arrive"

        def plain(_: Any, jar: dict[str, str] = jar) -> None:
            request(handler, "/page/yes/", dict(jar))

        def cycle(_: Any, jar: dict[str, str] = jar) -> None:
            visit = dict(jar)
            request(handler, "/queue/", visit)
            request(handler, "/page/yes/", visit)

        sides.append((f"plain page, {name}", plain, use(storage)))
        sides.append((f"queue + deliver one call, {name}", cycle, use(storage)))
        if name == "session":

            def sync_alone(_: Any, jar: dict[str, str] = jar) -> None:
                request(handler, "/giosg/sync/", dict(jar), "POST")

            def queue_then_sync(_: Any, jar: dict[str, str] = jar) -> None:
                visit = dict(jar)
                request(handler, "/queue/", visit)
                request(handler, "/giosg/sync/", visit, "POST")

            def cacheable(_: Any, jar: dict[str, str] = jar) -> None:
                request(handler, "/page/cacheable/", dict(jar))

            sides.append(("sync endpoint, nothing waiting", sync_alone, use(storage)))
            sides.append(("queue + sync one call", queue_then_sync, use(storage)))
            sides.append(("cacheable page, signed in", cacheable, use(storage)))

    times: dict[str, list[float]] = {label: [] for label, _, _ in sides}
    for _, fn, make_arg in sides:  # warm up
        for _ in range(options.warm_up):
            make_arg()
            fn(None)
    clock = time.perf_counter
    for round_ in range(options.rounds):
        shift = round_ % len(sides)
        for label, fn, make_arg in sides[shift:] + sides[:shift]:
            make_arg()
            start = clock()
            fn(None)
            times[label].append(clock() - start)
    median = {label: statistics.median(found) * 1e6 for label, found in times.items()}
    print(f"{'storage benchmark (median µs per call)':<48} {'µs':>9} {'vs session':>11}")
    for kind in ("plain page", "queue + deliver one call"):
        reference = median[f"{kind}, session"]
        for name in stores:
            value = median[f"{kind}, {name}"]
            print(f"{kind + ', ' + name:<48} {value:9.1f} {value - reference:+10.1f}")
    print("goal: a plain page costs no more with cache or database than with the session")
    page = median["plain page, session"]
    for label in (
        "sync endpoint, nothing waiting",
        "queue + sync one call",
        "cacheable page, signed in",
    ):
        print(f"{label:<48} {median[label]:9.1f} {median[label] / page:10.2f}x a plain page")


if __name__ == "__main__":
    main()
