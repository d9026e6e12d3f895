"""giosg_django's cost, as ratios measured side by side in one process (``make bench``).

Each figure compares the same work with and without giosg, interleaving the two call by call
and taking the median of each side's per-call CPU times, so machine noise hits both alike:

1. a signed-in page with ``{% giosg_visitor %}`` and a signed identity, against the same page
   without giosg (full Django stack: WSGI handler, sessions, auth), and the nearest peer's tag
   (django-analytical's ``{% intercom %}``, identity as an HMAC) on that page in the same rounds;
   beside it, that page carrying the text of giosg's inline page client alone (no giosg code);
2. an anonymous JSON view with GiosgMiddleware installed, against the same view without it;
3. ``{% giosg_visitor %}`` for a signed-in user, against the floor it cannot avoid: rendering an
   empty template plus one ``jwt.encode`` of the same variables; the tag's render alone (the
   figure the goal is for), and the same through GiosgMiddleware (whose per-request share the
   page figure holds: shown beside it, no goal of its own), and the peer's tag alone against
   the same floor (like for like: each tag renders a signed identity);
4. memory: tracemalloc growth over 100,000 renders (after a warm-up).

Speed is never asserted by a test; this prints the table, and the goals beside it.
"""

from __future__ import annotations

import argparse
import gc
import io
import operator
import os
import re
import shutil
import statistics
import subprocess
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

from giosg_django.conf import get_config  # noqa: E402
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
        found.extend(v.split(";")[0].strip() for k, v in headers if k.lower() == "set-cookie")

    for _chunk in handler(environ(path, cookie), keep):
        pass
    return found


def call(handler: WSGIHandler, path: str, cookie: str = "") -> Callable[[Any], None]:
    def run(_: Any) -> None:
        for _chunk in handler(environ(path, cookie), start_response):
            pass

    return run


def compare_many(
    sides: list[Callable[[Any], Any]],
    n: int,
    rounds: int,
    make_arg: Callable[[], Any] = lambda: None,
) -> list[float]:
    """Seconds per call of each side: the median of every call's own CPU time
    (``time.thread_time``: another process's turn on the CPU is not counted), the sides taken
    call by call in a rotating order, so whatever disturbs the machine falls on all of them
    alike, and the median ignores the calls it hit. Each call gets a fresh argument from
    ``make_arg``, made before its clock starts. The start-up heap is frozen out of the
    garbage collector first, as in ``run_side``."""
    for fn in sides:  # warm caches
        for _ in range(max(50, n // 10)):
            fn(make_arg())
    gc.collect()
    gc.freeze()
    clock = time.thread_time
    times: list[list[float]] = [[] for _ in sides]
    for round_ in range(rounds):
        shift = round_ % len(sides)
        order = list(enumerate(sides))
        order = order[shift:] + order[:shift]
        for _ in range(n):
            for side, fn in order:
                arg = make_arg()
                start = clock()
                fn(arg)
                times[side].append(clock() - start)
    gc.unfreeze()
    return [statistics.median(side) for side in times]


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


Side = tuple[Callable[[Any], Any], Callable[[], Any]]  # (the work, a fresh argument for it)


def make_sides() -> tuple[dict[str, Side], Callable[[Any], Any], Callable[[], Any]]:
    """Every side the figures compare, by name; and the middleware rendering the tag with its
    request maker (for the memory figure)."""
    cookie, user = signed_in_cookie()
    with_giosg = WSGIHandler()
    # As a browser would: the cookies giosg sets on the first page come back on every later one
    # (to both sides, so the request is the same bytes; only giosg reads its cookie).
    cookie = "; ".join([cookie, *set_cookies(with_giosg, "/page/yes/", cookie)])
    with override_settings(MIDDLEWARE=settings.WITHOUT_GIOSG):
        without_giosg = WSGIHandler()

    # 3. The tag through the middleware, against an empty template plus one jwt.encode.
    factory = RequestFactory()
    for pair in cookie.split("; ")[1:]:  # giosg's own cookies, as a browser sends them back
        name, _, value = pair.partition("=")
        factory.cookies[name] = value
    session = SessionStore(cookie.split("; ")[0].split("=", 1)[1])
    session.load()

    giosg_key = get_config()["SIGNING_KEY"]

    def next_second() -> None:
        # A visitor's next page comes seconds later, when the token of the last one is no
        # longer the one signing makes (its exp differs): every page signs afresh, as on a
        # site. (Reuse within a second, for a burst of one visitor's requests, is not counted.)
        if giosg_key._tokens is not None:
            giosg_key._tokens.clear()

    def a_request() -> Any:
        next_second()
        # As SessionMiddleware and AuthenticationMiddleware leave it (the session middleware
        # has parsed the cookies to find the session's).
        request = factory.get("/tag/")
        request.COOKIES  # noqa: B018
        request.session = session
        request.user = user
        return request

    tag = get_template("tag.html")
    peer_tag = get_template("tag_peer.html")
    empty = get_template("empty.html")
    middleware = GiosgMiddleware(lambda request: HttpResponse(tag.render({}, request)))
    variables = default_visitor_variables(a_request())
    key, ttl = settings.GIOSG["SIGNING_KEY"], 600

    def floor(request: Any) -> HttpResponse:
        response = HttpResponse(empty.render({}, request))
        jwt.encode({**variables, "exp": int(time.time()) + ttl}, key, algorithm="HS256")
        return response

    sides: dict[str, Side] = {
        # The same signed-in page three ways: giosg's tag (with its middleware), no chat tag,
        # and the nearest peer (django-analytical's Intercom tag, HMAC identity).
        "page": (call(with_giosg, "/page/yes/", cookie), next_second),
        "page-bare": (call(without_giosg, "/page/no/", cookie), next_second),
        "page-peer": (call(without_giosg, "/page/peer/", cookie), next_second),
        # The bare page carrying the page client's text, and nothing else of giosg.
        "page-client": (call(without_giosg, "/page/client/", cookie), next_second),
        # The bare page again, measured like the others: what the method shows for no
        # difference at all (its resolution on this machine), printed beside the figures.
        "page-bare-again": (call(without_giosg, "/page/no/", cookie), next_second),
        "json": (call(with_giosg, "/api/"), next_second),
        "json-bare": (call(without_giosg, "/api/"), next_second),
        "tag": (lambda request: HttpResponse(tag.render({}, request)), a_request),
        "tag-middleware": (middleware, a_request),
        "tag-floor": (floor, a_request),
        # The nearest peer's tag alone, on the same requests (its identity an HMAC).
        "tag-peer": (lambda request: HttpResponse(peer_tag.render({}, request)), a_request),
    }
    return sides, middleware, a_request


# (figure, measured side, baseline side, goal); the peer's row is measured against the bare page.
FIGURES = [
    ("signed-in page, signed identity vs no giosg", "page", "page-bare", "<= 1.05x"),
    (
        "  of which the inline page client's bytes (no giosg code)",
        "page-client",
        "page-bare",
        "(info)",
    ),
    (
        "signed-in page, django-analytical Intercom (HMAC) vs none",
        "page-peer",
        "page-bare",
        "(peer)",
    ),
    ("anonymous JSON view, middleware vs none", "json", "json-bare", "<= 1.03x"),
    ("{% giosg_visitor %} signed-in vs empty template + jwt.encode", "tag", "tag-floor", "<= 1.1x"),
    ("  the same, with GiosgMiddleware's request work", "tag-middleware", "tag-floor", "(info)"),
    (
        "  django-analytical's {% intercom %} (HMAC), the same floor",
        "tag-peer",
        "tag-floor",
        "(peer)",
    ),
]


def report(per_call: dict[str, float], unit: str, scale: float) -> None:
    print(f"{'benchmark':<62} {'measured':>11} {'baseline':>11} {'ratio':>7}  goal")
    for name, side, baseline, goal in FIGURES:
        a, b = per_call[side], per_call[baseline]
        print(f"{name:<62} {a * scale:>9.1f}{unit} {b * scale:>9.1f}{unit} {a / b:>6.3f}x  {goal}")
    ours = per_call["page"] - per_call["page-bare"]
    theirs = per_call["page-peer"] - per_call["page-bare"]
    verdict = "below" if ours < theirs else "NOT below"
    print(
        f"page overhead: giosg_django {ours * scale:+.1f}{unit}, django-analytical "
        f"{theirs * scale:+.1f}{unit} ({verdict} the peer's; goal: below)"
    )


def timed(sides: dict[str, Side], options: argparse.Namespace) -> dict[str, float]:
    """Seconds per call, each comparison's sides interleaved in the same rounds."""
    per_call: dict[str, float] = {}
    groups = [(["page", "page-bare", "page-peer", "page-client", "page-bare-again"], 1)]
    groups.append((["json", "json-bare"], 3))
    groups.append((["tag", "tag-middleware", "tag-floor", "tag-peer"], 1))
    for names, weight in groups:
        make_arg = sides[names[0]][1]
        found = compare_many(
            [sides[n][0] for n in names], options.n * weight, options.rounds, make_arg
        )
        per_call.update(zip(names, found, strict=True))
    return per_call


def counted(names: list[str], options: argparse.Namespace) -> dict[str, float]:
    """CPU instructions per call, counted by valgrind's callgrind: the same on every run
    whatever else the machine does (a figure of work, not of time; caches and branch
    prediction are not in it). Each side runs in its own process under callgrind, which counts
    only inside ``operator.call`` (``--toggle-collect``): the calls themselves, never the
    set-up, the warm-up or the making of their arguments.

    With ``--misses``, the figure is instead the memory reads and writes that miss a simulated
    512 KiB second-level cache (callgrind's cache simulation, its last level sized as this
    machine's L2): what a request's code and data cost in time beyond their instructions, as
    the rest of the page (Django's template rendering) evicts them between one step of giosg
    and the next. Code spread over many small functions costs misses that instructions do not
    show. (The simulation has no prefetcher: the misses of a large text copied in order, the
    page client's, are mostly hidden by the CPU, as that row's time shows.)"""
    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    command = [
        "valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=_operator_call",
        "--callgrind-out-file=/dev/null",
    ]  # fmt: skip
    if options.misses:
        command += ["--cache-sim=yes", "--LL=524288,8,64"]
    command += [sys.executable, __file__, "--n", str(options.n)]
    # A fixed hash seed: string hashes (dict layouts, probe lengths) the same in every child and
    # run, so a count repeats; both sides of a figure get the same seed.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    running = {
        name: subprocess.Popen(
            [*command, "--side", name], stderr=subprocess.PIPE, text=True, env=env
        )
        for name in names
    }
    per_call = {}
    for name, process in running.items():
        _, errors = process.communicate()
        found = re.search(r"Collected : ([\d ]+)", errors)
        if process.returncode or found is None:
            sys.exit(f"callgrind failed for {name}:\n{errors[-2000:]}")
        events = [int(count) for count in found.group(1).split()]
        # Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw: the last three are the last level's misses.
        counted_events = sum(events[6:9]) if options.misses else events[0]
        per_call[name] = counted_events / options.n
    return per_call


def run_side(sides: dict[str, Side], name: str, n: int) -> None:
    """The child of ``counted``: warm the side up, then make ``n`` calls, each through
    ``operator.call`` (where callgrind counts)."""
    fn, make_arg = sides[name]
    for _ in range(20):
        fn(make_arg())
    # The objects made at start-up (Django, the apps, the templates) are frozen out of the
    # collector, as a pre-forking server's workers have them: a collection then walks what the
    # requests made, which is the work a request causes, instead of the whole start-up heap
    # whenever a full collection happens to fall inside the counted calls. Each argument is
    # made just before its call (not counted): a page clears the token memo for the next one.
    gc.collect()
    gc.freeze()
    for _ in range(n):
        operator.call(fn, make_arg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="calls per round")
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--renders", type=int, default=100_000, help="for the memory figure")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (callgrind), not time"
    )
    parser.add_argument(
        "--misses",
        action="store_true",
        help="with --instructions: count simulated L2 cache misses instead (see counted)",
    )
    parser.add_argument("--side", help=argparse.SUPPRESS)  # a child of --instructions
    parser.add_argument("--sides", help="with --instructions: only these sides (comma-separated)")
    options = parser.parse_args()

    if options.instructions and options.side is None:
        names = sorted({side for _, a, b, _ in FIGURES for side in (a, b)})
        if options.sides:  # a quick look at some sides only (no table)
            scale = 1 if options.misses else 1e-3
            for name, count in counted(options.sides.split(","), options).items():
                print(f"{name:<16} {count * scale:9.1f}")
            return
        if options.misses:
            report(counted(names, options), "", 1)
            print("(simulated L2 cache misses per call, callgrind's cache simulation)")
        else:
            report(counted(names, options), "", 1e-3)
            print("(thousands of instructions per call, callgrind)")
        return
    sides, middleware, a_request = make_sides()
    if options.side is not None:
        run_side(sides, options.side, options.n)
        return
    per_call = timed(sides, options)
    report(per_call, "us", 1e6)
    again = per_call["page-bare-again"] / per_call["page-bare"]
    print(f"resolution: the bare page against itself {again:.3f}x (1.000 would be exact)")

    # 4. Memory: what 100,000 renders leave behind once warm.
    for _ in range(min(10_000, options.renders)):
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
