"""Every code block of the documentation runs as written: README.md, docs/*.md,
example_project/README.md and CONTRIBUTING.md (the last two are included in the docs site).

Each fenced block has a marker, an HTML comment on the line before it (a blank line between is
allowed), which says how it is tested; a block without one fails ``test_every_block_has_a_marker``:

``<!-- test: settings -->``
    Python appended to the project's ``mysite/settings.py``; a list the block writes out in full
    (``INSTALLED_APPS = [# ... "giosg_django"]``) adds its items to the list already there, after
    the item that precedes them in the block (``docs_project.merge``). Then
    ``manage.py check`` must find no error; once the page's last block has run, no warning
    either (a walkthrough may warn halfway, before the step that fixes it).
``<!-- test: urls -->``
    The same for ``mysite/urls.py`` (``urlpatterns`` merged by route), then the same check.
``<!-- test: file PATH -->``
    The block is the whole file ``PATH`` in the project: a ``.py`` file is then imported, an
    ``.html`` file rendered as a template (with a signed-in user).
``<!-- test: view [METHOD] -->``
    Python defining views: each function is routed, requested by a signed-in client (``GET``
    unless the marker names another method), must answer below 400 after redirects, and when it
    uses ``request.giosg`` its calls must reach a page with ``{% giosg_visitor %}``.
``<!-- test: calls -->``
    Statements on ``request.giosg``, each followed by a ``# _giosg(...)`` comment: what a page
    then sends to giosg (read with ``giosg_django.testing``) must be exactly those calls.
``<!-- test: template -->`` / ``<!-- test: jinja2 -->``
    Rendered through a request of a signed-in user; one with ``giosg_call`` must render a call.
``<!-- test: python -->``
    Python executed in the configured project (``django.setup()`` done).
``<!-- test: pytest -->``
    A test module for the reader's own site, run with pytest and pytest-django in the project.
``<!-- test: shell -->``
    Shell commands run with bash (``set -e``) in the project, ``python`` being this virtualenv's.
``<!-- test: js -->`` / ``<!-- test: html -->``
    JavaScript checked by ``node --check``; for HTML, each inline ``<script>`` in it.
``<!-- test: skip (REASON) -->``
    Not run, for a reason shown in the page source: installing from PyPI, a server that runs
    until Ctrl-C, output that differs on every run.

``requires=MODULE`` after the kind (``settings requires=hijack``) runs the block only where
that module can be imported (Django 6's ``django.utils.csp`` runs in the Django 6 sessions of
the matrix). Blocks of one page run in order in one project: a page is a walkthrough, so a later
block may use what an earlier one set up. Every page starts from a fresh
``django-admin startproject mysite`` (migrated), README.md and docs/getting-started.md as they
are; the other pages after docs/getting-started.md has run in it, as a reader who followed it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support.jsengine import inline_scripts

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [
        ROOT / "README.md",
        ROOT / "CONTRIBUTING.md",
        ROOT / "example_project" / "README.md",
        *(ROOT / "docs").glob("*.md"),
    ]
)
GETTING_STARTED = ROOT / "docs" / "getting-started.md"
FRESH_PAGES = {ROOT / "README.md", GETTING_STARTED}
DRIVER = Path(__file__).resolve().parent / "support" / "docs_project.py"
BIN = Path(sys.executable).parent
NODE = shutil.which("node")
# Settings blocks read the key from the environment, as the pages advise.
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "GIOSG_SIGNING_KEY": "docs-test-signing-key-of-more-than-32-bytes",
    "PYTHONDONTWRITEBYTECODE": "1",
}
ENV.pop("DJANGO_SETTINGS_MODULE", None)  # the suite's own; the project has its own

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
MARKER = re.compile(r"^ *<!-- test: (?P<spec>.*?) -->$")
KINDS = {
    "settings", "urls", "file", "view", "calls", "template", "jinja2",
    "python", "pytest", "shell", "js", "html", "skip",
}  # fmt: skip


@dataclass
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    info: str
    text: str
    spec: str | None  # the marker's text, None when the block has none

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str:
        return (self.spec or "").split()[0] if self.spec else ""

    @property
    def args(self) -> list[str]:
        return [word for word in (self.spec or "").split()[1:] if "=" not in word]

    @property
    def requires(self) -> list[str]:
        words = (self.spec or "").split()[1:]
        return [word.partition("=")[2] for word in words if word.startswith("requires=")]


def blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    found = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        body = [
            line[len(indent) :] if line.startswith(indent) else line
            for line in lines[index + 1 : end]
        ]
        before = index - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        marker = MARKER.match(lines[before]) if before >= 0 else None
        spec = marker["spec"] if marker else None
        found.append(Block(page, index + 1, opening["info"].strip(), "\n".join(body) + "\n", spec))
        index = end + 1
    return found


def run(command: list[str], cwd: Path, block: Block) -> str:
    result = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=120)
    if result.returncode:
        pytest.fail(
            f"{block.where} ({block.spec}) failed as written:\n{block.text}\n"
            f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


def append_merged(path: Path, block: Block) -> None:
    with path.open("a") as file:
        file.write(
            f"\n\n# --- {block.where}\nimport docs_project as _docs\n"
            f"_docs_before = _docs.snapshot(globals())\n{block.text}"
            "_docs.merge(globals(), _docs_before)\n"
        )


def node_check(source: str, project: Path, block: Block) -> None:
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node not found (apt-get install nodejs); CI is set")
        return
    script = project / "docs_block.js"
    script.write_text(source)
    run([NODE, "--check", str(script)], project, block)


def run_block(block: Block, project: Path) -> None:
    """Runs one block in ``project``, failing the test when it fails as written."""
    python = str(BIN / "python")
    source = project / "docs_block.txt"
    source.write_text(block.text)
    kind = block.kind
    if kind in ("settings", "urls"):
        append_merged(project / "mysite" / f"{kind}.py", block)
        run([python, "manage.py", "check", "--fail-level", "ERROR"], project, block)
    elif kind == "file":
        target = project / block.args[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text)
        if target.suffix == ".py":
            run([python, "docs_project.py", "import", str(source), block.args[0]], project, block)
        elif target.suffix == ".html":
            run([python, "docs_project.py", "template", str(target)], project, block)
    elif kind in ("view", "calls", "template", "jinja2", "python"):
        run([python, "docs_project.py", kind, str(source), *block.args], project, block)
    elif kind == "pytest":
        (project / "test_docs_block.py").write_text(block.text)
        (project / "docs_pytest.ini").write_text(
            "[pytest]\nDJANGO_SETTINGS_MODULE = mysite.settings\n"
        )
        command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "docs_pytest.ini"]
        run([*command, "--rootdir", str(project), "test_docs_block.py"], project, block)
    elif kind == "shell":
        run(["bash", "-euo", "pipefail", str(source)], project, block)
    elif kind == "js":
        node_check(block.text, project, block)
    elif kind == "html":
        for script in inline_scripts(block.text):
            if "src" not in script["attrs"]:
                node_check(script["text"], project, block)
    else:
        assert kind == "skip", f"{block.where}: unknown marker {block.spec!r}"


def runnable(block: Block) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in block.requires)


def run_page(page: Path, project: Path) -> list[Block]:
    ran = []
    for block in blocks(page):
        if block.kind != "skip" and runnable(block):
            run_block(block, project)
            ran.append(block)
    if ran:  # a walkthrough may warn halfway (W015 before its URLs); never once it is done
        command = [str(BIN / "python"), "manage.py", "check", "--fail-level", "WARNING"]
        run(command, project, ran[-1])
    return ran


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A fresh migrated ``startproject``, and a copy of it after docs/getting-started.md."""
    base = tmp_path_factory.mktemp("docs")
    fresh = base / "fresh"
    fresh.mkdir()
    subprocess.run(
        [str(BIN / "django-admin"), "startproject", "mysite", str(fresh)], check=True, env=ENV
    )
    shutil.copy(DRIVER, fresh / "docs_project.py")
    manage = [str(BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(manage, cwd=fresh, check=True, env=ENV)
    started = base / "started"
    shutil.copytree(fresh, started)
    run_page(GETTING_STARTED, started)
    yield {"fresh": fresh, "started": started, "base": base}


def test_every_block_has_a_marker() -> None:
    unmarked = [block.where for page in PAGES for block in blocks(page) if block.spec is None]
    assert not unmarked, f"blocks without a '<!-- test: ... -->' marker: {unmarked}"
    wrong = [
        f"{block.where}: {block.spec}"
        for page in PAGES
        for block in blocks(page)
        if block.kind not in KINDS
        or (block.kind == "skip" and not re.fullmatch(r"skip \(.+\)", block.spec or ""))
        or (block.kind == "file" and len(block.args) != 1)
    ]
    assert not wrong, f"markers that say nothing runnable (a skip needs its reason): {wrong}"


def run_page_in_copy(page: Path, projects: dict[str, Path]) -> list[Block]:
    start = projects["fresh"] if page in FRESH_PAGES else projects["started"]
    project = projects["base"] / str(page.relative_to(ROOT)).replace("/", "_")
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(start, project)
    return run_page(page, project)


@pytest.fixture(scope="session")
def page_outcomes(
    request: pytest.FixtureRequest, projects: dict[str, Path]
) -> dict[Path, list[Block] | BaseException]:
    """Runs the selected pages side by side (each in its own copy of the project: most of the
    time is Django starting in a subprocess), keeping what each raised for its own test."""
    selected = {
        item.callspec.params["page"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and hasattr(item, "callspec")
        and "page" in item.callspec.params
    }
    pages = [page for page in PAGES if page in selected and page != GETTING_STARTED]

    def outcome(page: Path) -> list[Block] | BaseException:
        try:
            return run_page_in_copy(page, projects)
        except BaseException as error:  # pytest.fail's exception is a BaseException
            return error

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        return dict(zip(pages, pool.map(outcome, pages), strict=True))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_page_blocks_run(
    page: Path, page_outcomes: dict[Path, list[Block] | BaseException]
) -> None:
    if page == GETTING_STARTED:
        return  # it ran in the fixture ``projects``, which fails when one of its blocks does
    outcome = page_outcomes[page]
    if isinstance(outcome, BaseException):
        raise outcome


def test_every_check_and_setting_is_documented() -> None:
    """The checks page has every id of checks.py's table, the settings page every key."""
    from giosg_django import checks, conf

    ids = set(re.findall(r"giosg\.[EW]\d{3}", checks.__doc__ or ""))
    page = (ROOT / "docs" / "checks.md").read_text()
    assert ids and not {id for id in ids if f"| `{id}` |" not in page}
    settings_page = (ROOT / "docs" / "settings.md").read_text()
    assert not [key for key in conf.DEFAULTS if f"| `{key}` |" not in settings_page]
