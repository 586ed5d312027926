"""Helpers for the serve tests (the fixtures live in conftest.py).

The shared app: a real local Ray + the VideoGen app from deploy/cpu-tiny.yaml.

One Ray cluster per test session (``ray.init(address="local")``: never attaches to
another cluster on the machine, never ``ray stop``), its own temp dir, Serve's
HTTP proxy on a free port, and the app built from ``deploy/cpu-tiny.yaml``'s
``args`` with a temporary state directory.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from videogen.serve.store.records import TERMINAL as _TERMINAL

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = tuple(str(s) for s in _TERMINAL)
# Families whose worker scales from zero in the shared app (proves waiting jobs wake it).
SCALE_FROM_ZERO = "animatediff"
# The family whose queue the shared app bounds small (max_queued_jobs) for the burst test.
BOUNDED_FAMILY = "sana-video"
BOUNDED_QUEUE = 3
# A second named model of wan in the shared app, beside the family's entry (issue 14): its own worker deployment.
NAMED_MODEL = "wan-draft"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_tiny_args() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "deploy" / "cpu-tiny.yaml").read_text())
    return config["applications"][0]["args"]


@dataclass
class ServedApp:
    base_url: str
    state_dir: str
    gcs_address: str
    args: dict[str, Any]

    def client(self, **kw):
        import httpx

        return httpx.Client(base_url=self.base_url, timeout=kw.pop("timeout", 60.0), **kw)


def wait_job(client, job_id: str, timeout: float = 60.0, poll: float = 0.1) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/video/jobs/{job_id}").json()
        if job["status"] in TERMINAL or time.monotonic() > deadline:
            return job
        time.sleep(poll)


def read_sse(response) -> list[dict[str, Any]]:
    """Parse a whole SSE body into [{'id', 'event', 'data'}]."""
    events, current = [], {}
    for line in response.iter_lines():
        if not line:
            if current:
                events.append(current)
                current = {}
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(": ")
        current[key] = json.loads(value) if key == "data" else value
    if current:
        events.append(current)
    return events


def wait_job_tolerant(client, job_id: str, timeout: float = 60.0, poll: float = 0.2) -> dict[str, Any]:
    """Like wait_job, but rides out an ingress that is restarting (connection errors, 5xx)."""
    import httpx

    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            r = client.get(f"/api/video/jobs/{job_id}")
            if r.status_code == 200:
                job = r.json()
                if job["status"] in TERMINAL:
                    return job
        except httpx.HTTPError:
            pass
        time.sleep(poll)
    return job


def wait_until(predicate, timeout: float = 60.0, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - e.g. the ingress is restarting
            value = None
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"condition not met within {timeout}s")


def replica_actor(replica_id: str):
    """The Ray actor of a Serve replica, from the id VideoGen records (app#deployment#unique)."""
    import ray

    return ray.get_actor(f"SERVE_REPLICA::{replica_id}", namespace="serve")


def ingress_replica_ids() -> list[str]:
    import ray

    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
    return [
        n.removeprefix("SERVE_REPLICA::") for n in names if n.startswith("SERVE_REPLICA::videogen#VideoGenIngress#")
    ]
