"""Run a page's inline scripts in a real JS engine (Node's vm) and read giosg's queue.

The page's ``<script>`` elements are split out the way an HTML parser does it (so a value that
ended a script early would show up as a syntax error here), then run in order in one global
object by a long-lived ``node`` process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any


class _Undefined:
    """JS ``undefined`` in a decoded argument list."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()
ENGINE = Path(__file__).parent.parent / "js" / "engine.js"  # tests/js, beside tests/support


def _decode(value: Any) -> Any:
    if value == {"$undefined": True}:
        return UNDEFINED
    return value


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._current = {"attrs": dict(attrs), "text": ""}

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append(self._current)
            self._current = None


def inline_scripts(html: str) -> list[dict[str, Any]]:
    """The page's ``<script>`` elements: ``{"attrs": {...}, "text": "..."}`` in order."""
    parser = _Scripts()
    parser.feed(html)
    parser.close()
    return parser.scripts


@dataclass
class EngineResult:
    calls: list[list[Any]] | None
    company: Any
    host: Any
    inserted: list[dict[str, Any]]
    errors: list[str]
    pwned: str | None
    listeners: list[str] = field(default_factory=list)
    storage: dict[str, str] = field(default_factory=dict)
    scripts: list[dict[str, Any]] = field(default_factory=list)


def node_path() -> str | None:
    return os.environ.get("NODE") or shutil.which("node")


class NodeEngine:
    def __init__(self, node: str) -> None:
        self._process = subprocess.Popen(
            [node, str(ENGINE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="surrogatepass",
        )
        self._lock = threading.Lock()

    def run_scripts(
        self, scripts: list[str], storage: dict[str, str] | None = None
    ) -> dict[str, Any]:
        assert self._process.stdin and self._process.stdout
        # ensure_ascii keeps lone surrogates as \\udXXX escapes that JSON.parse restores.
        line = json.dumps({"scripts": scripts, "storage": storage or {}}, ensure_ascii=True)
        with self._lock:
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError("the node engine stopped")
        data: dict[str, Any] = json.loads(answer)
        if "fatal" in data:
            raise RuntimeError(data["fatal"])
        return data

    def run(self, html: str, storage: dict[str, str] | None = None) -> EngineResult:
        """Run every inline script of ``html`` (those without ``src``) in page order, with
        ``storage`` as the page's localStorage."""
        scripts = [s for s in inline_scripts(html) if "src" not in s["attrs"]]
        data = self.run_scripts([s["text"] for s in scripts], storage)
        calls = None
        if data["calls"] is not None:
            calls = [[_decode(arg) for arg in args] for args in data["calls"]]
        return EngineResult(
            calls=calls,
            company=_decode(data["company"]),
            host=_decode(data["host"]),
            inserted=data["inserted"],
            errors=data["errors"],
            pwned=data["pwned"],
            listeners=data["listeners"],
            storage=data["storage"],
            scripts=scripts,
        )

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait(timeout=10)
