"""Servers the load, fault and race tests start: gunicorn with the test project, Redis and
PostgreSQL.

Every process is started in its own session (process group), bound to 127.0.0.1 on a free
port, waited for with a bounded poll, and stopped by signalling its whole group (SIGTERM,
then SIGKILL), so a worker never outlives its test.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the repository: tests/ is a package under it
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def on_a_free_port(launch: Callable[[int], Process]) -> tuple[Process, int]:
    """``launch(port)`` on a free port, a few tries (another process may take the port between
    finding it free and binding it)."""
    for attempt in range(5):
        port = free_port()
        try:
            return launch(port), port
        except RuntimeError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Process:
    """A started process group, its output going to ``output``."""

    name: str
    popen: subprocess.Popen[bytes]
    output: Path

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def text(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the group, then SIGKILL if it does not end in time."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                break  # the group is gone
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # The leader ended; make sure no child of the group is left either.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            break


def start(
    name: str,
    argv: list[str],
    output: Path,
    env: dict[str, str] | None = None,
    *,
    user: str | None = None,
    cwd: Path = ROOT,
) -> Process:
    """Start ``argv`` in a new session, as ``user`` when given (the caller is then root)."""
    handle = output.open("ab")
    try:
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            **as_user(user),
        )
    finally:
        handle.close()
    return Process(name, popen, output)


def as_user(user: str | None) -> dict[str, Any]:
    """Popen's arguments that run the child as ``user`` (its own group only), or as we are."""
    if not user:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def wait_for(process: Process, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive:
            raise RuntimeError(
                f"{process.name} exited with {process.popen.returncode}:\n{process.text()[-4000:]}"
            )
        if ready():
            return
        time.sleep(0.05)
    process.stop()
    raise RuntimeError(f"{process.name} not ready after {timeout}s:\n{process.text()[-4000:]}")


# --- the test project's database ------------------------------------------------------------


def project_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIOSG_LOAD_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env["DJANGO_SETTINGS_MODULE"] = "tests.load.settings"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


_TEMPLATES: dict[tuple[Path, int], Path] = {}


def template_database(directory: Path, users: int) -> Path:
    """A migrated database with ``users`` visitors, made once per test session (and number of
    users) in ``directory``; each server gets its own copy (:func:`copy_database`)."""
    if (directory, users) not in _TEMPLATES:
        path = directory / f"template-{users}.sqlite3"
        prepare_database(path, users)
        _TEMPLATES[directory, users] = path
    return _TEMPLATES[directory, users]


def copy_database(template: Path, directory: Path) -> Path:
    path = directory / "db.sqlite3"
    shutil.copyfile(template, path)
    return path


def prepare_database(path: Path, users: int) -> None:
    """Migrate ``path`` and create ``users`` visitors (see tests/load/prepare.py)."""
    _prepare(users, GIOSG_LOAD_DB=str(path))


def _prepare(users: int, **database: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.load.prepare", str(users)],
        env=project_env(**database),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{result.stdout}\n{result.stderr}")


# --- gunicorn ---------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    process: Process
    store: str
    port: int
    log: Path  # the giosg_django and django.request records (LOGGING in tests/load/settings.py)
    access: Path  # gunicorn's access log: worker pid, method, path, query, status
    env: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def served_by(self) -> list[tuple[int, str, str, str, int]]:
        """(worker pid, method, path, query, status) for every request, in order."""
        rows = []
        text = self.access.read_text() if self.access.exists() else ""
        for line in text.splitlines():
            pid, method, path, query, status = line.split(" ")
            rows.append((int(pid.strip("<>")), method, path, query, int(status)))
        return rows

    def stop(self) -> None:
        self.process.stop()


def _answers(port: int) -> bool:
    import http.client

    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/page/")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def start_gunicorn(
    directory: Path,
    database: Path,
    store: str,
    *,
    workers: int = 3,
    threads: int = 1,
    worker_connections: int = 1000,
    **extra: str,
) -> Gunicorn:
    """gunicorn serving tests.load.settings with ``store`` sessions, ready to answer: sync
    workers, or with ``threads`` above 1 threaded ones (gthread), each accepting at most
    ``worker_connections`` connections at once (few, and parallel requests spread over the
    workers instead of queueing in the one that accepted first)."""
    log = directory / f"giosg-{store}.log"
    access = directory / f"access-{store}.log"
    for attempt in range(5):
        port = free_port()
        env = project_env(
            GIOSG_LOAD_BIND=f"{HOST}:{port}",
            GIOSG_LOAD_WORKERS=str(workers),
            GIOSG_LOAD_THREADS=str(threads),
            GIOSG_LOAD_WORKER_CONNECTIONS=str(worker_connections),
            GIOSG_LOAD_STORE=store,
            GIOSG_LOAD_DB=str(database),
            GIOSG_LOAD_LOG=str(log),
            GIOSG_LOAD_ACCESS_LOG=str(access),
            **extra,
        )
        process = start(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:tests.load.gunicorn_conf",
                "tests.load.wsgi:application",
            ],
            directory / f"gunicorn-{store}.out",
            env,
        )
        try:
            wait_for(process, lambda port=port: _answers(port), timeout=60)  # type: ignore[misc]
        except RuntimeError:
            process.stop()
            if attempt == 4 or "Address already in use" not in process.text():
                raise
            continue
        return Gunicorn(process, store, port, log, access, env)
    raise AssertionError("unreachable")


# --- Redis ------------------------------------------------------------------------------------

REDIS_INSTALL = "install Debian's redis-server (apt-get install redis-server)"


def redis_server_path() -> str | None:
    path = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    return path if path and os.path.exists(path) else None


def require_redis_server() -> str:
    """The redis-server binary; skips the test when it is missing (fails under CI)."""
    path = redis_server_path()
    if path is None:
        message = f"redis-server not found; {REDIS_INSTALL} or set REDIS_SERVER=/path"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
        pytest.skip(message)
    return path


@dataclass
class Redis:
    """A redis-server on a loopback port, in memory only (``--save ''``, no AOF)."""

    binary: str
    directory: Path
    port: int = 0
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def _launch(self, port: int) -> Process:
        argv = [self.binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly"]
        argv += ["no", "--dir", str(self.directory), "--daemonize", "no"]
        process = start("redis-server", argv, self.directory / "redis.out")
        try:
            wait_for(process, lambda: self.ping(port), timeout=20)
        except RuntimeError:
            process.stop()
            raise
        return process

    def start(self) -> None:
        """Start on a free port (a few tries, in case another process takes the port)."""
        self.process, self.port = on_a_free_port(self._launch)

    def restart(self) -> None:
        """Start again, empty, on the same port: the servers using it know only that one."""
        assert self.process is not None and not self.process.alive
        deadline = time.monotonic() + 20
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.process = self._launch(self.port)

    @staticmethod
    def ping(port: int) -> bool:
        import redis

        client = redis.Redis(host=HOST, port=port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


# --- PostgreSQL -------------------------------------------------------------------------------

POSTGRES_INSTALL = "install Debian's postgresql (apt-get install postgresql)"
POSTGRES_SUPERUSER = "postgres"  # made by initdb -U, whoever runs it; trust auth, no password


def postgres_bin_dir() -> Path | None:
    """The directory of initdb and postgres: ``POSTGRES_BIN``, else the newest of Debian's
    /usr/lib/postgresql/<version>/bin (not on PATH), else wherever PATH has initdb."""
    configured = os.environ.get("POSTGRES_BIN")
    candidates = [Path(configured)] if configured else []
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda bin_dir: _version(bin_dir.parent.name), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bin_dir in candidates:
        if (bin_dir / "initdb").exists() and (bin_dir / "postgres").exists():
            return bin_dir
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def postgres_user() -> str | None:
    """Who runs PostgreSQL: initdb and postgres refuse to run as root, so as root an
    unprivileged user (the ``postgres`` user Debian's package makes, else ``nobody``); anyone
    else runs it as themselves (``None``)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    return ""  # root, with no user to run it as


def require_postgres() -> tuple[Path, str | None]:
    """PostgreSQL's bin directory and the user to run it as; skips the test when it cannot
    run here (fails under CI, which installs it)."""
    bin_dir = postgres_bin_dir()
    user = postgres_user()
    message = None
    if bin_dir is None:
        message = f"PostgreSQL's initdb not found; {POSTGRES_INSTALL} or set POSTGRES_BIN=/dir"
    elif user == "":
        message = "running as root with no 'postgres' or 'nobody' user to run PostgreSQL as"
    if message is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)")
        pytest.skip(message)
    assert bin_dir is not None
    return bin_dir, user


@dataclass
class Postgres:
    """A throw-away PostgreSQL cluster on a loopback port: initdb into a temporary directory
    (owned by the user it runs as, since root may not run it), its unix socket in that
    directory, durability off (a test's data need not survive a crash)."""

    bin_dir: Path
    user: str | None
    port: int = 0
    directory: Path | None = None
    process: Process | None = None
    _templates: dict[int, str] = field(default_factory=dict)
    _databases: int = 0

    def address(self, name: str) -> str:
        """``GIOSG_LOAD_PG`` for database ``name`` (tests/load/settings.py)."""
        return f"{HOST}:{self.port}/{name}"

    def start(self) -> None:
        # Not under pytest's base temp: it is private to root, and the server's user must
        # reach its data directory.
        directory = Path(tempfile.mkdtemp(prefix="giosg-postgres-"))
        self.directory = directory
        if self.user:
            shutil.chown(directory, self.user, pwd.getpwnam(self.user).pw_gid)
        argv = [str(self.bin_dir / "initdb"), "-D", str(directory / "data")]
        argv += ["-U", POSTGRES_SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"]
        initdb = subprocess.run(
            argv,
            cwd=directory,
            **as_user(self.user),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        self.process, self.port = on_a_free_port(self._launch)

    def _launch(self, port: int) -> Process:
        assert self.directory is not None
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.directory / "data")]
        argv += ["-h", HOST, "-p", str(port), "-k", str(self.directory)]
        for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
            argv += ["-c", setting]
        argv += ["-c", "max_connections=200"]
        process = start(
            "postgres",
            argv,
            self.directory / "postgres.out",
            {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
            user=self.user,
            cwd=self.directory,
        )
        try:
            wait_for(process, lambda: self.ping(port), timeout=30)
        except RuntimeError:
            process.stop()
            raise
        return process

    def connect(self, name: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host=HOST,
            port=self.port,
            user=POSTGRES_SUPERUSER,
            dbname=name,
            connect_timeout=5,
            autocommit=True,
        )

    def ping(self, port: int) -> bool:
        import psycopg

        try:
            with psycopg.connect(
                host=HOST, port=port, user=POSTGRES_SUPERUSER, dbname="postgres", connect_timeout=1
            ):
                return True
        except psycopg.Error:
            return False

    def fresh_database(self, users: int) -> str:
        """A new database, migrated, with ``users`` visitors: copied from a template made once
        per cluster (and number of users), as the SQLite file is (:func:`template_database`)."""
        from psycopg import sql

        if users not in self._templates:
            template = f"template_{users}"
            with self.connect() as connection:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
            _prepare(users, GIOSG_LOAD_PG=self.address(template))
            self._templates[users] = template
        self._databases += 1
        name = f"giosg_{self._databases}"
        with self.connect() as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(self._templates[users])
                )
            )
        return name

    def stop(self) -> None:
        if self.process is not None:
            # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for its clients to leave);
            # then the whole group, as for every other server.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.popen.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.popen.wait(timeout=15)
            self.process.stop()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
