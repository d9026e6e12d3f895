"""Make docs/demo.png: the example site in headless Chromium, signed in, with the panel showing
what giosg received.

    .venv/bin/python scripts/screenshot.py [--output docs/demo.png]

Starts the example site the way the end-to-end tests do (its own server on a free port, a
throwaway database, demo mode), signs in as the demo user ada through the login form, landing on
the Sales page, and saves a 1280x900 screenshot. Uses Debian's Chromium (``$CHROMIUM``, else
/usr/bin/chromium) through Playwright; nothing downloads a browser.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.example.server, however this script is started

from tests.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.example.server import run_example_site  # noqa: E402

VIEWPORT = {"width": 1280, "height": 900}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "demo.png")
    output: Path = parser.parse_args().output
    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        sys.exit(f"Chromium not found at {chromium}: apt-get install chromium, or set CHROMIUM")

    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="giosg-screenshot-") as workdir,
        run_example_site(Path(workdir), port=8000) as site,  # make demo's port, when free
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
        page.goto(f"{site.url}/accounts/login/?next=/sales/")
        page.fill("#id_username", "ada")
        page.fill("#id_password", "ada-demo-password")
        with page.expect_navigation():
            page.click("#login button")
        # The login goal, the Sales room and ada's signed identity.
        calls = page.eval_on_selector_all("#giosg-panel-calls .call", "items => items.length")
        if calls != 3:
            sys.exit(f"expected 3 calls in the panel, found {calls}:\n{site.output()}")
        output.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(output))
        browser.close()
    print(f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")


if __name__ == "__main__":
    main()
