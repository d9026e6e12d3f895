"""The supported Django/Python pairs, each in its own virtualenv, deprecation warnings as errors.

    make matrix           # every pair; the browser tests on the newest pair only
    .venv/bin/nox -s "tests(3.13-django6.1)"

The interpreters come from pyenv when it is there (PYENV_VERSION lets its shims find every
installed python3.X), else from PATH.
"""

from __future__ import annotations

import os
import pathlib

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_venv = "yes"

# Exactly what the classifiers in pyproject.toml claim.
MATRIX = [
    ("3.10", "5.2"),
    ("3.11", "5.2"),
    ("3.12", "5.2"),
    ("3.13", "5.2"),
    ("3.12", "6.0"),
    ("3.13", "6.0"),
    ("3.12", "6.1"),
    ("3.13", "6.1"),
]
NEWEST = MATRIX[-1]

pyenv_versions = pathlib.Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions"
if pyenv_versions.is_dir() and "PYENV_VERSION" not in os.environ:
    installed = sorted(p.name for p in pyenv_versions.iterdir() if p.name[:1].isdigit())
    os.environ["PYENV_VERSION"] = ":".join(reversed(installed))


@nox.session
@nox.parametrize(
    "python,django",
    [nox.param(python, django, id=f"{python}-django{django}") for python, django in MATRIX],
)
def tests(session: nox.Session, django: str) -> None:
    # The test group (pyproject.toml's [dependency-groups]) needs pip >= 25.1; a new venv has
    # the interpreter's bundled pip, which may be older.
    session.install("--upgrade", "pip>=25.1")
    session.install("-e", ".", "--group", "test", f"Django~={django}.0")
    session.run(
        "python",
        "-c",
        "import django, sys; print('Django', django.get_version(), 'on', sys.version)",
    )
    args = list(session.posargs)
    if (session.python, django) != NEWEST:
        args = ["-m", "not browser", *args]
    session.run(
        "python",
        "-W",
        "error::DeprecationWarning",
        "-W",
        "error::PendingDeprecationWarning",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        *args,
    )
