"""A WSGI server for one set of settings (the live server loads its middleware only once)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def wsgi_server(**overrides: Any) -> Iterator[str]:
    """Serve the test project with ``overrides`` applied (middleware included) on a free
    loopback port; yields the base URL."""
    with override_settings(**overrides):
        server = make_server(
            "127.0.0.1",
            0,
            WSGIHandler(),
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
