"""The example site (example_project/) as its own server, started the way ``make demo`` starts
it: ``migrate``, ``create_demo_users``, then ``runserver``, here on a free port with a
throwaway SQLite database and a known signing key. Used by tests/test_example_site.py and
scripts/screenshot.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "example_project" / "manage.py"
# Variables the example's settings read: none may leak in from the shell running the tests.
SETTINGS_VARIABLES = {
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "ENV_FILE",
    "SECRET_KEY",
}


def example_env(database: Path, **variables: str) -> dict[str, str]:
    """The environment for the example's manage.py: this one, minus every setting the example
    reads (so neither the shell nor example_project/.env changes what is tested), plus
    ``variables``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTINGS_VARIABLES and not key.startswith("GIOSG_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        DATABASE_URL=f"sqlite:///{database}",
        ENV_FILE=os.devnull,  # not a file: no .env is read
        PYTHONUNBUFFERED="1",
    )
    env.update(variables)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py *args`` of the example; raises with the output when it fails."""
    result = subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode:
        raise RuntimeError(
            f"manage.py {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )
    return result


def free_port(preferred: int = 0) -> int:
    """``preferred`` when it is free, else any free port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ExampleSite:
    url: str
    env: dict[str, str]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def run_example_site(workdir: Path, *, port: int = 0, **variables: str) -> Iterator[ExampleSite]:
    """The example site served on http://127.0.0.1:<port> until the block ends (``port`` when
    it is free, else any free port).

    In demo mode (no ``GIOSG_COMPANY_ID`` in ``variables``) giosg's loader points at the site
    itself, so ``GIOSG_HOST`` is set to its URL."""
    port = free_port(port)
    url = f"http://127.0.0.1:{port}"
    env = example_env(workdir / "example.sqlite3", GIOSG_HOST=url, **variables)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "create_demo_users")
    log = workdir / "runserver.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(MANAGE), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole below
        )
    site = ExampleSite(url, env, log)
    try:
        wait_until_up(url, process, site)
        yield site
    finally:
        stop(process)


def wait_until_up(url: str, process: subprocess.Popen[bytes], site: ExampleSite) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the example site exited {process.returncode}:\n{site.output()}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"the example site did not answer at {url} in 30 s:\n{site.output()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
