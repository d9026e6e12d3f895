"""giosg_django's cost, as ratios measured side by side in one process (``make bench``).

Each figure compares the same work with and without giosg, interleaving the two in rounds and
taking the median per-call time of each, so machine noise hits both sides alike:

1. a signed-in page with ``{% giosg_visitor %}`` and a signed identity, against the same page
   without giosg (full Django stack: WSGI handler, sessions, auth), and the nearest peer's tag
   (django-analytical's ``{% intercom %}``, identity as an HMAC) on that page in the same rounds;
2. an anonymous JSON view with GiosgMiddleware installed, against the same view without it;
3. ``{% giosg_visitor %}`` for a signed-in user through the middleware, against the floor it
   cannot avoid: rendering an empty template plus one ``jwt.encode`` of the same variables;
4. memory: tracemalloc growth over 100,000 renders (after a warm-up).

Speed is never asserted by a test; this prints the table, and the goals beside it.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

import django  # noqa: E402

django.setup()

import jwt  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.backends.signed_cookies import SessionStore  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template.loader import get_template  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402

from giosg_django.identity import default_visitor_variables  # noqa: E402
from giosg_django.middleware import GiosgMiddleware  # noqa: E402


def environ(path: str, cookie: str = "") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_COOKIE": cookie,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }


def start_response(status: str, headers: Any) -> None:
    assert status.startswith("200"), status


def set_cookies(handler: WSGIHandler, path: str, cookie: str) -> list[str]:
    """The ``name=value`` of each cookie the response to ``path`` sets."""
    found: list[str] = []

    def keep(status: str, headers: Any) -> None:
        found.extend(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")

    for _chunk in handler(environ(path, cookie), keep):
        pass
    return found


def call(handler: WSGIHandler, path: str, cookie: str = "") -> Callable[[Any], None]:
    def run(_: Any) -> None:
        for _chunk in handler(environ(path, cookie), start_response):
            pass

    return run


def compare(
    with_giosg: Callable[[Any], Any],
    baseline: Callable[[Any], Any],
    n: int,
    rounds: int,
    make_arg: Callable[[], Any] = lambda: None,
) -> tuple[float, float]:
    """Seconds per call of each side (see ``compare_many``)."""
    a, b = compare_many([with_giosg, baseline], n, rounds, make_arg)
    return a, b


def compare_many(
    sides: list[Callable[[Any], Any]],
    n: int,
    rounds: int,
    make_arg: Callable[[], Any] = lambda: None,
) -> list[float]:
    """Seconds per call of each side: the fastest of many short rounds that take the sides in
    turn, in a rotating order (the round least disturbed by the rest of the machine, as
    ``timeit`` advises), with garbage collection paused while the clock runs. Each call gets a
    fresh argument from ``make_arg``, made before the clock starts."""
    for fn in sides:  # warm caches
        for _ in range(max(50, n // 10)):
            fn(make_arg())
    times: list[list[float]] = [[] for _ in sides]
    for round_ in range(rounds):
        shift = round_ % len(sides)
        order = list(enumerate(sides))
        order = order[shift:] + order[:shift]
        for side, fn in order:
            args = [make_arg() for _ in range(n)]
            gc.collect()
            gc.disable()
            start = time.thread_time()
            for arg in args:
                fn(arg)
            elapsed = time.thread_time() - start
            gc.enable()
            times[side].append(elapsed / n)
    return [min(side) for side in times]


def signed_in_cookie() -> tuple[str, Any]:
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(
        "ada", "ada@example.com", "pw", first_name="Ada", last_name="Lovelace"
    )
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}", user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="calls per round")
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--renders", type=int, default=100_000, help="for the memory figure")
    options = parser.parse_args()

    cookie, user = signed_in_cookie()
    with_giosg = WSGIHandler()
    # As a browser would: the cookies giosg sets on the first page come back on every later one
    # (to both sides, so the request is the same bytes; only giosg reads its cookie).
    cookie = "; ".join([cookie, *set_cookies(with_giosg, "/page/yes/", cookie)])
    with override_settings(MIDDLEWARE=settings.WITHOUT_GIOSG):
        without_giosg = WSGIHandler()

    rows = []
    # The same signed-in page three ways, in the same rounds: giosg's tag (with its middleware),
    # no chat tag, and the nearest peer (django-analytical's Intercom tag, HMAC identity).
    a, b, peer = compare_many(
        [
            call(with_giosg, "/page/yes/", cookie),
            call(without_giosg, "/page/no/", cookie),
            call(without_giosg, "/page/peer/", cookie),
        ],
        options.n,
        options.rounds,
    )
    rows.append(("signed-in page, signed identity vs no giosg", a, b, "<= 1.05x"))
    rows.append(("signed-in page, django-analytical Intercom (HMAC) vs none", peer, b, "(peer)"))

    a, b = compare(
        call(with_giosg, "/api/"), call(without_giosg, "/api/"), options.n * 3, options.rounds
    )
    rows.append(("anonymous JSON view, middleware vs none", a, b, "<= 1.03x"))

    # 3. The tag through the middleware, against an empty template plus one jwt.encode.
    factory = RequestFactory()
    for pair in cookie.split("; ")[1:]:  # giosg's own cookies, as a browser sends them back
        name, _, value = pair.partition("=")
        factory.cookies[name] = value
    session = SessionStore(cookie.split("=", 1)[1])
    session.load()

    def a_request() -> Any:
        request = factory.get("/tag/")
        request.session = session
        request.user = user
        return request

    tag = get_template("tag.html")
    empty = get_template("empty.html")
    middleware = GiosgMiddleware(lambda request: HttpResponse(tag.render({}, request)))
    variables = default_visitor_variables(a_request())
    key, ttl = settings.GIOSG["SIGNING_KEY"], 600

    def floor(request: Any) -> HttpResponse:
        response = HttpResponse(empty.render({}, request))
        jwt.encode({**variables, "exp": int(time.time()) + ttl}, key, algorithm="HS256")
        return response

    a, b = compare(middleware, floor, options.n, options.rounds, a_request)
    rows.append(("{% giosg_visitor %} signed-in vs empty template + jwt.encode", a, b, "<= 1.1x"))

    print(f"{'benchmark':<62} {'measured':>10} {'baseline':>10} {'ratio':>7}  goal")
    for name, a, b, goal in rows:
        print(f"{name:<62} {a * 1e6:>8.1f}us {b * 1e6:>8.1f}us {a / b:>6.3f}x  {goal}")
    ours, theirs = rows[0][1] - rows[0][2], rows[1][1] - rows[1][2]
    verdict = "below" if ours < theirs else "NOT below"
    print(
        f"page overhead: giosg_django {ours * 1e6:+.1f}us, django-analytical {theirs * 1e6:+.1f}us "
        f"({verdict} the peer's; goal: below)"
    )

    # 4. Memory: what 100,000 renders leave behind once warm.
    for _ in range(10_000):
        middleware(a_request())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(options.renders):
        middleware(a_request())
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    print(f"memory after {options.renders:,} renders: {growth / 1024:+.1f} KiB  (goal: no growth)")


if __name__ == "__main__":
    main()
