"""A chat widget never takes down the page it sits on: ``with contained("what"):``.

Everything giosg_django does while a page renders (a settings callable, the session store, the
signing, the injection) runs inside ``contained``: with ``DEBUG`` on the error is raised, so the
developer sees it; otherwise it is logged and the page is served without the failed part. Code
after the ``with`` block runs in both cases (a ``return`` inside the block is skipped when it
failed), so the fallback value follows the block.
"""

from __future__ import annotations

import logging
from types import TracebackType

from django.conf import settings

logger = logging.getLogger("giosg_django")


class contained:  # lower case: a context manager, read as a phrase
    """Contain a failure of ``what`` (e.g. ``"reading the CSP nonce"``): raise it with DEBUG
    on, else log it on the ``giosg_django`` logger and go on. ``args`` are ``%``-formatted
    into ``what`` only when something failed (``contained("rendering %s.%s", module,
    method)``), so a page pays no formatting for what went well.

    A class rather than ``contextlib.contextmanager``: it runs several times on every page,
    and needs no generator. It holds no state of its own, so an instance for a constant
    message may be made once and used by every request and thread."""

    __slots__ = ("args", "what")

    def __init__(self, what: str, *args: object) -> None:
        self.what = what
        self.args = args

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if kind is None:
            return False
        if not issubclass(kind, Exception) or settings.DEBUG:
            return False  # it must propagate (KeyboardInterrupt, or DEBUG is on)
        logger.error(
            "giosg: %s failed; the page is rendered without it",
            self.what % self.args if self.args else self.what,
            exc_info=(kind, error, traceback),  # type: ignore[arg-type]
        )
        return True
