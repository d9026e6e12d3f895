"""``make bench`` runs: its two scripts, each a few calls per side, end with their tables (a
rename inside giosg_django that a benchmark still used once broke ``make bench`` unnoticed,
since nothing else runs it). The figures themselves are never asserted: speed is measured, not
tested."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *arguments: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_bench_prints_every_figure_with_the_peer() -> None:
    output = run("bench.py", "--n", "2", "--rounds", "1", "--renders", "10")
    for line in (
        "signed-in page, signed identity vs no giosg",
        "of which the inline page client's bytes",
        "signed-in page, django-analytical Intercom (HMAC) vs none",
        "anonymous JSON view, middleware vs none",
        "django-analytical's {% intercom %} (HMAC), the same floor",
        "page overhead: giosg_django",
        "memory after 10 renders",
    ):
        assert line in output, output


def test_storage_bench_compares_every_store() -> None:
    output = run("storage.py", "--rounds", "2", "--warm-up", "1")
    for line in (
        "plain page, database",
        "queue + deliver one call, database",
        "sync endpoint, nothing waiting",
        "cacheable page, signed in",
    ):
        assert line in output, output
