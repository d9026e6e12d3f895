"""Many workers, many visitors, real session stores.

gunicorn serves the test project with three sync workers on 127.0.0.1, and 60 visitors at once
(``http.client``, a cookie jar each, no browser) each log in through ``LoginView``, make a JSON
request that queues a goal of their own, load a page, log out through ``LogoutView`` and load
two more pages. Every page's scripts run in node. Each visitor's identity is their own (the
signed token verifies and names them), their goal arrives exactly once, the page after logout
closes and hides the chat and clears the variables with no identity, and nothing follows.

The same run on each session store: the database (SQLite in WAL mode), signed cookies, and
Django's cache sessions on a real Redis server. ``GIOSG_LOAD_VISITORS=600`` runs more
visitors (``GIOSG_LOAD_CONCURRENCY``, 60 by default, at a time).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .load.processes import (
    HOST,
    Gunicorn,
    Redis,
    copy_database,
    require_redis_server,
    start_gunicorn,
    template_database,
)
from .load.visitor import Visitor, check_full_visit, run_visitors

pytestmark = pytest.mark.load

VISITORS = int(os.environ.get("GIOSG_LOAD_VISITORS", "60"))
CONCURRENCY = max(1, min(VISITORS, int(os.environ.get("GIOSG_LOAD_CONCURRENCY", "60"))))
WORKERS = 3
STORES = ["db", "cookies", "redis"]


@pytest.fixture(params=STORES)
def server(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """gunicorn on a fresh copy of the migrated database, with the store's sessions."""
    store: str = request.param
    redis_binary = require_redis_server() if store == "redis" else None
    template = template_database(tmp_path_factory.getbasetemp(), max(VISITORS, 100))
    directory: Path = tmp_path_factory.mktemp(f"load-{store}")
    database = copy_database(template, directory)
    redis = None
    extra = {}
    try:
        if redis_binary is not None:
            redis = Redis(redis_binary, directory)
            redis.start()
            extra["GIOSG_LOAD_REDIS"] = redis.url
        gunicorn = start_gunicorn(directory, database, store, workers=WORKERS, **extra)
        try:
            yield gunicorn
        finally:
            gunicorn.stop()
    finally:
        if redis is not None:
            redis.stop()


def test_every_visitor_gets_their_own_calls_exactly_once(server: Gunicorn, js_engine: Any) -> None:
    visitors = [Visitor(n, HOST, server.port) for n in range(VISITORS)]
    started = time.monotonic()
    run_visitors(visitors, Visitor.full_visit, concurrency=CONCURRENCY, timeout=90 + VISITORS)
    elapsed = time.monotonic() - started

    problems = [problem for visitor in visitors for problem in check_full_visit(js_engine, visitor)]
    assert problems == [], f"{len(problems)} problem(s):\n" + "\n".join(problems[:30])

    log = server.log_text()
    assert "ERROR" not in log and "Traceback" not in log, log[-4000:]
    assert "giosg:" not in log, log[-4000:]  # nothing dropped, nothing ignored

    # The queue lives in the session, not in a worker: the workers all served visitors, and
    # calls queued by one worker were delivered by another.
    rows = [row for row in server.served_by() if row[3].startswith("v=")]  # not the probe
    assert len(rows) == 7 * VISITORS
    assert all(status < 500 for *_, status in rows)
    workers_of: dict[str, dict[str, int]] = defaultdict(dict)
    for pid, _method, path, query, _status in rows:
        name = query.removeprefix("v=")
        if path.startswith("/queue/"):
            workers_of[name]["queue"] = pid
        elif path == "/page/" and "page" not in workers_of[name]:
            workers_of[name]["page"] = pid
    assert len({pid for pid, *_ in rows}) == WORKERS
    elsewhere = sum(1 for seen in workers_of.values() if seen["queue"] != seen["page"])
    assert elsewhere > 0, "every goal was delivered by the worker that queued it"
    print(
        f"\n{server.store}: {VISITORS} visitors,"
        f" {len(rows)} requests in {elapsed:.1f}s; {elsewhere} goals delivered by another worker"
    )
