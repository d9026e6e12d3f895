"""The example site (example_project/) as ``make demo`` configures it: Django's system checks
report nothing about giosg, in demo mode and configured. Its pages, driven in Chromium through
its real forms, are tested in tests/browser/test_example_site.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from .example.server import example_env, manage

KEY = "example-site-tests-signing-key-".ljust(64, "k")  # 64 bytes: enough for HS256


@pytest.mark.parametrize(
    "variables",
    [
        {},  # demo mode: no environment at all
        {
            "GIOSG_COMPANY_ID": "a-real-company",
            "GIOSG_SIGNING_KEY": KEY,
            "DEBUG": "false",
            "SECRET_KEY": "a-long-production-like-secret-key-for-the-check",
        },
    ],
    ids=["demo-mode", "configured"],
)
def test_check_reports_nothing_about_giosg(tmp_path: Path, variables: dict[str, str]) -> None:
    result = manage(example_env(tmp_path / "db.sqlite3", **variables), "check")
    output = result.stdout + result.stderr
    assert "giosg." not in output
    assert "System check identified no issues" in output
