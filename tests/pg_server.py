"""A real PostgreSQL for the job store tests, started by the suite from the machine's Debian packages
(``make install`` installs ``postgresql`` where ``initdb`` is missing).

One cluster per test session, started when a test first asks for it: ``initdb`` and ``pg_ctl`` on a temp
dir (as the ``postgres`` user when the suite runs as root: ``initdb`` refuses root), listening on
127.0.0.1 at a free port, its Unix socket in the temp dir, ``fsync=off`` (a test database need not
survive a crash). Stopped, and its directory removed, when the session ends.

Fixtures (imported by ``tests/serve/conftest.py``):

- ``postgres_server``: the running cluster (``url(db)``, ``create_database()``, ``admin``);
- ``store_backend``: ``"sqlite"`` and ``"postgres"``: a test that uses it (or the fixtures below) runs on each;
- ``store_url``: None on SQLite; on PostgreSQL the session's store database, its tables emptied first
  (``postgres_url``: that database, for a test only about PostgreSQL);
- ``open_store``: ``open_store()`` is a ``JobStore`` on this test's backend (another call: another
  "node" on the same database); every one opened is closed after the test;
- ``store``: one such ``JobStore``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

STORE_DB = "videogen_store"


def _bindir() -> Path:
    """The newest installed server's binaries (Debian keeps them under /usr/lib/postgresql/<major>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL's initdb is not installed: run `make install` (it installs postgresql)")
    return Path(initdb).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        import psycopg

        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="vgpg-"))
        self.data = self.root / "data"
        self.port = free_port()
        as_root = os.geteuid() == 0
        if as_root:
            shutil.chown(self.root, "postgres")
        self._prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        user = "postgres"
        self._run(
            self.bindir / "initdb", "-D", self.data, "-U", user, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        self._options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        subprocess.run(self.ctl("start"), check=True, capture_output=True, cwd=self.root)
        self._base = f"postgresql://{user}@127.0.0.1:{self.port}"
        self.admin = psycopg.connect(self.url("postgres"), autocommit=True)
        self._names = itertools.count()

    def _run(self, *args: object) -> None:
        subprocess.run([*self._prefix, *map(str, args)], check=True, capture_output=True, cwd=self.root)

    def ctl(self, action: str) -> list[str]:
        """The ``pg_ctl`` command line that starts this server (``start``: same data, same port), stops it cleanly
        (``stop``) or asks whether it runs (``status``): the multi-node test restarts it mid-run from its own
        process."""
        pg_ctl = [*self._prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w"]
        if action == "start":
            return [*pg_ctl, "-l", str(self.root / "server.log"), "-o", self._options, "start"]
        return [*pg_ctl, "-m", "fast", "stop"] if action == "stop" else [*pg_ctl, "status"]

    def reconnect(self) -> None:
        """A new admin connection (the old one died with a restart); the server started again if a test left it
        stopped (pg_ctl status: 3)."""
        import psycopg

        if subprocess.run(self.ctl("status"), capture_output=True, cwd=self.root).returncode == 3:
            subprocess.run(self.ctl("start"), check=True, capture_output=True, cwd=self.root)
        self.admin.close()
        self.admin = psycopg.connect(self.url("postgres"), autocommit=True)

    def url(self, database: str) -> str:
        return f"{self._base}/{database}"

    def create_database(self, prefix: str = "vg") -> str:
        """A new, empty database; its URL."""
        name = f"{prefix}_{next(self._names)}"
        self.admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        self.admin.close()
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    server.admin.execute(f"CREATE DATABASE {STORE_DB}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_backend(request) -> str:
    return request.param


@pytest.fixture()
def postgres_url(postgres_server) -> str:
    import psycopg

    url = postgres_server.url(STORE_DB)
    with psycopg.connect(url, autocommit=True) as conn:  # each test starts empty (the tables: on first use)
        if conn.execute("SELECT to_regclass('jobs') IS NOT NULL").fetchone()[0]:
            conn.execute("TRUNCATE jobs, events, replicas RESTART IDENTITY")
    return url


@pytest.fixture()
def store_url(store_backend, request) -> str | None:
    return request.getfixturevalue("postgres_url") if store_backend == "postgres" else None


@pytest.fixture()
def open_store(store_url, tmp_path):
    from videogen.serve.store.job_store import JobStore

    opened = []

    def open_one() -> JobStore:
        opened.append(JobStore(tmp_path, database_url=store_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture()
def store(open_store):
    return open_store()
