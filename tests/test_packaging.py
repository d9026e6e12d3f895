"""The package's habits: its version in one place, the licence pyproject.toml names shipped
beside it, and the migration that DatabaseStorage needs inside the package."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import giosg_django

ROOT = Path(__file__).resolve().parents[1]


def project_table() -> str:
    """pyproject.toml's [project] table, as text (tomllib is Python 3.11+; 3.10 is supported)."""
    text = (ROOT / "pyproject.toml").read_text()
    return text.split("[project]", 1)[1].split("\n[", 1)[0]


def test_the_version_is_written_once() -> None:
    project = project_table()
    assert not re.search(r"^version\s*=", project, re.MULTILINE)
    assert re.search(r'^dynamic = \["version"\]', project, re.MULTILINE)
    assert importlib.metadata.version("giosg-django") == giosg_django.__version__


def test_the_licence_is_the_one_pyproject_names() -> None:
    assert re.search(r'^license = "MIT"$', project_table(), re.MULTILINE)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_migration_ships_inside_the_package() -> None:
    migrations = Path(giosg_django.__file__).parent / "migrations"
    assert (migrations / "0001_initial.py").is_file() and (migrations / "__init__.py").is_file()
