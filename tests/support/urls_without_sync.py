"""An empty URLconf: a project that never routed the sync endpoint (giosg.W015, in
tests/test_checks.py)."""

from typing import Any

urlpatterns: list[Any] = []
