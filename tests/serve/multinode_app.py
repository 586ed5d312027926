"""Many nodes for real (issue 18), on one ``ray.cluster_utils.Cluster`` (run by test_serve_multinode.py).

    python tests/serve/multinode_app.py SPEC_JSON OUT_DIR

A head node without GPUs and two worker nodes that each declare ``num_gpus=2``. Every node has its own state
directory (its raylet's ``VIDEOGEN_STATE_DIR``, which the app's ``state_dir: $VIDEOGEN_STATE_DIR`` names and
each replica expands on its node) and nothing in common with the others but the PostgreSQL job store and the
S3 bucket (SeaweedFS, behind a relay this script can close) the test started. Two ingress replicas, on the head
and on the second GPU node (a custom resource each); an HTTP proxy on every node (the GPU nodes' on ports of
their own), each routing to its own node's ingress; the tiny LTX family on one GPU per GPU node, and a named
model of it that autoscales 0..2 on the store's queue. The phases, each writing its facts to the report:

- ``autoscale`` (beside the next two: other GPUs): jobs an ingress admitted and never dispatched (it is gone:
  they are written to the store under its lease) scale the named model up from zero before any reaper
  re-dispatches them; they run; it scales back to zero. Its timeline is the reaction times the test prints;
- ``cross``: jobs submitted through one ingress, their SSE streams read through the other, their videos
  downloaded through both; then ``ingress_kill``: the ingress that dispatched a running job killed;
- ``pg_restart``: PostgreSQL stopped for ``OUTAGE_S`` and started again while a job runs and a stream of it
  is open: the answers during the outage, the replicas before and after, the job's end;
- ``node_kill``: a GPU node removed while it runs a job;
- ``s3_down``: the bucket unreachable for a job's upload.

Facts go to OUT_DIR/report.json; the test asserts on them.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.pop("RAY_ADDRESS", None)
os.environ.pop("VIDEOGEN_STATE_DIR", None)  # each node sets its own: the app's state_dir names the variable

import httpx
import ray
import ray._private.utils

# Do not advertise this throwaway cluster in /tmp/ray: other drivers on the machine
# calling a bare ray.init() must not attach to it.
ray._private.utils.write_ray_address = lambda *args, **kwargs: None

from ray import serve
from ray.cluster_utils import Cluster
from serve_helpers import TERMINAL, free_port, replica_actor  # (run as a script from tests/serve)

from videogen.serve.builder import build_app

FAMILY = "ltx-video"
SCALED = "ltx-scaled"  # the named model that autoscales from zero
APP = "videogen"
SHORT = {"num_inference_steps": 8}
LONG = {"num_inference_steps": 200, "width": 64, "height": 64}  # a few seconds here: long enough to interrupt
# Longer than three failed health checks even on a loaded box (each waits the store's 5 s pool timeout, 1 s apart;
# 20 s gave only two once in CI).
OUTAGE_S = 27.0
INGRESS_RESOURCE = "videogen_ingress"  # one per node that hosts an ingress replica
DEAD_DISPATCHER = "VideoGenIngress#gone:00000000"
DATABASE_URL = ""  # the job store's (set by main)


class TcpRelay:
    """127.0.0.1:port -> target, closed on demand with every connection it carries (the bucket unreachable)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: set[socket.socket] = set()
        self.closed = False
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            with self.lock:
                if self.closed:
                    client.close()
                    upstream.close()
                    return
                self.sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for s in self.sockets:
                s.close()
        try:  # wakes the accept() blocked in its thread (close() alone would let one more connection through)
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()


def replica_counts(deployment: str) -> dict[str, int]:
    status = serve.status().applications[APP].deployments[deployment]
    return {str(k): v for k, v in status.replica_states.items() if v}


def serve_replicas() -> set[str]:
    return {
        a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith("SERVE_REPLICA::")
    }


class Clients:
    """One HTTP client per proxy: ``head`` (routes to the head's ingress) and ``g2`` (to the GPU node's)."""

    def __init__(self, ports: dict[str, int]):
        self.http = {name: httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=60) for name, p in ports.items()}

    def __getitem__(self, name: str) -> httpx.Client:
        return self.http[name]

    def submit(self, via: str, seed: int, model: str | None = None, **fields) -> str:
        body = {"family": FAMILY, "prompt": f"clip {seed}", "seed": seed, **SHORT, **fields}
        if model:
            body["model"] = model
        r = self.http[via].post("/api/video/jobs", json=body)
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def job(self, job_id: str, via: str = "head") -> dict:
        r = self.http[via].get(f"/api/video/jobs/{job_id}")
        r.raise_for_status()
        return r.json()

    def wait(self, job_id: str, via: str = "head", timeout: float = 240, until=None) -> dict:
        deadline = time.monotonic() + timeout
        job: dict = {}
        while time.monotonic() < deadline:
            try:
                r = self.http[via].get(f"/api/video/jobs/{job_id}")
                if r.status_code == 200:
                    job = r.json()
                    if (until or (lambda j: j["status"] in TERMINAL))(job):
                        return job
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return job

    def events(self, via: str, job_id: str) -> dict:
        """Every event of the job through ``via``, as an SSE client reads them: a stream cut (the store went
        away under it) is opened again with ``Last-Event-ID``, as EventSource does."""
        ids: list[int] = []
        cuts = 0
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            headers = {"Last-Event-ID": str(ids[-1])} if ids else {}
            try:
                with self.http[via].stream(
                    "GET", f"/api/video/jobs/{job_id}/events", params=None if ids else {"since": 0}, headers=headers
                ) as r:
                    if r.status_code != 200:
                        r.read()
                        raise httpx.HTTPStatusError(r.text, request=r.request, response=r)
                    event: dict = {}
                    for line in r.iter_lines():  # one event at a time: what came before a cut counts
                        if line.startswith(("id: ", "data: ")):
                            key, _, value = line.partition(": ")
                            event[key] = value
                        elif not line and "id" in event:
                            ids.append(int(event["id"]))
                            if json.loads(event["data"])["status"] in TERMINAL:
                                return {"ids": ids, "cuts": cuts}
                            event = {}
            except httpx.HTTPError:
                cuts += 1
                time.sleep(0.5)
        return {"ids": ids, "cuts": cuts}


def until(predicate, timeout: float = 120, poll: float = 0.1):
    """``predicate()``'s first truthy answer (a request failing meanwhile counts as no)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := predicate():
                return value
        except httpx.HTTPError:
            pass
        time.sleep(poll)
    raise TimeoutError(f"not within {timeout}s")


def rows(sql: str, *args) -> list[tuple]:
    """A query on the job store's database, on a connection of its own (one survives the restart phase)."""
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


def run_s(job: dict) -> float | None:
    """How long the job's last attempt ran."""
    if job.get("started_at") and job.get("finished_at"):
        return round(job["finished_at"] - job["started_at"], 2)
    return None


# -- the phases -----------------------------------------------------------------------------------------
def cross_ingress(c: Clients, ingress: dict[str, str]) -> dict:
    """Submitted through one ingress, streamed through the other, downloaded through both."""
    plan = [("head", "g2"), ("g2", "head")] * 2
    with ThreadPoolExecutor(len(plan) * 2) as pool:
        ids = [c.submit(via, seed=i) for i, (via, _) in enumerate(plan)]
        streams = [pool.submit(c.events, other, job_id) for job_id, (_, other) in zip(ids, plan, strict=True)]
        jobs = [c.wait(job_id) for job_id in ids]
        sse = [s.result(timeout=120) for s in streams]
    out = []
    for job, (via, other), seen in zip(jobs, plan, sse, strict=True):
        videos = {name: c[name].get(f"/api/video/jobs/{job['id']}/video").content for name in ("head", "g2")}
        ranged = c[other].get(f"/api/video/jobs/{job['id']}/video", headers={"Range": "bytes=0-99"})
        logged = [r[0] for r in rows("SELECT seq FROM events WHERE job_id=%s ORDER BY seq", job["id"])]
        out.append(
            {
                "id": job["id"],
                "status": job["status"],
                "run_s": run_s(job),
                "node_id": (job["worker"] or {}).get("node_id"),
                "submitted_via": ingress[via],
                "dispatcher": rows("SELECT dispatcher FROM jobs WHERE id=%s", job["id"])[0][0],
                "streamed_via": ingress[other],
                "sse_ids": seen["ids"],
                "sse_cuts": seen["cuts"],
                "store_event_ids": logged,
                "video_bytes": {name: len(v) for name, v in videos.items()},
                "videos_equal": videos["head"] == videos["g2"],
                "range_status": ranged.status_code,
                "range_bytes": len(ranged.content),
            }
        )
    return {"jobs": out}


def autoscale_from_queue(c: Clients, store) -> dict:
    """Jobs an ingress admitted and never dispatched (it is gone) wake the named model from zero."""
    from videogen.serve.service.dispatch import LEASE_S
    from videogen.video.progress import Progress
    from videogen.video.request import VideoRequest

    deployment = f"VideoWorker_{SCALED}"
    before = replica_counts(deployment)
    started = time.monotonic()
    ids = []
    for seed in (101, 102):
        request = VideoRequest(family=FAMILY, model=SCALED, prompt=f"queued {seed}", seed=seed, **SHORT)
        ids.append(
            store.jobs.create(
                family=FAMILY,
                task="text-to-video",
                request=request.summary(),
                image=None,
                model={"family": FAMILY, "name": SCALED, "source": "tiny"},
                params={"seed": seed, **SHORT},
                adjustments=[],
                progress=Progress.queued(total_steps=SHORT["num_inference_steps"]),
                max_attempts=2,
                dispatcher=DEAD_DISPATCHER,  # admitted by an ingress that died before dispatching them
                lease_s=LEASE_S,
                model_name=SCALED,
            ).id
        )
    seen: list[tuple[float, dict]] = []
    marks: dict = {}
    while time.monotonic() - started < 240:
        counts = replica_counts(deployment)
        now = round(time.monotonic() - started, 2)
        if not seen or seen[-1][1] != counts:
            seen.append((now, counts))
        total, running = sum(counts.values()), counts.get("RUNNING", 0)
        if total and "first_replica_s" not in marks:
            marks["first_replica_s"] = now
            # Who holds the jobs when the first replica is asked for: still the dead ingress, never dispatched.
            marks["rows_then"] = rows("SELECT status, dispatcher, attempts FROM jobs WHERE id = ANY(%s)", ids)
        marks["peak"] = max(marks.get("peak", 0), total)
        if total >= 2:
            marks.setdefault("two_asked_s", now)
        if running >= 1:
            marks.setdefault("one_running_s", now)
        if running >= 2:
            marks.setdefault("two_running_s", now)
        if "first_replica_s" in marks and "jobs_done_s" not in marks:
            if all(r[0] in TERMINAL for r in rows("SELECT status FROM jobs WHERE id = ANY(%s)", ids)):
                marks["jobs_done_s"] = now
        if "jobs_done_s" in marks and total == 0:
            marks["back_to_zero_s"] = now
            break
        time.sleep(0.2)
    jobs = [c.wait(job_id, timeout=5) for job_id in ids]
    return {
        "before": before,
        "timeline": seen,
        "lease_s": LEASE_S,
        **marks,
        "jobs": [
            {
                "status": j["status"],
                "attempts": j["attempts"],
                "node_id": (j["worker"] or {}).get("node_id"),
                "dispatcher": rows("SELECT dispatcher FROM jobs WHERE id=%s", j["id"])[0][0],
            }
            for j in jobs
        ],
    }


def pg_restart(c: Clients, spec: dict, ingress: dict[str, str]) -> dict:
    """PostgreSQL stopped and started again while a job runs and a stream of it is open through the other ingress."""
    replicas_before = serve_replicas()
    job_id = c.submit("head", seed=201, **LONG)
    with ThreadPoolExecutor(16) as pool:
        stream = pool.submit(c.events, "g2", job_id)
        running = until(lambda: (j := c.job(job_id))["status"] == "running" and j["progress"]["step"] and j)
        subprocess.run(spec["pg_stop"], check=True, capture_output=True)
        down_at = time.monotonic()
        during = []
        probes = [
            ("POST", "/api/video/jobs", {"family": FAMILY, "prompt": "during", **SHORT}),
            ("GET", f"/api/video/jobs/{job_id}", None),
            ("GET", "/api/video/jobs", None),
            ("GET", "/api/video/runtime", None),
            ("GET", "/healthz", None),
        ]

        def probe(via: str, method: str, path: str, body) -> dict:
            r = c[via].request(method, path, json=body)
            code = (
                (r.json().get("error") or {}).get("code")
                if r.headers.get("content-type", "").startswith("application/json")
                else None
            )
            return {
                "via": via,
                "path": f"{method} {path}",
                "status": r.status_code,
                "code": code,
                "retry_after": r.headers.get("retry-after"),
            }

        for answer in pool.map(lambda a: probe(*a), [(via, *p) for via in ("head", "g2") for p in probes]):
            during.append(answer)
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        subprocess.run(spec["pg_start"], check=True, capture_output=True)
        up_at = time.monotonic()

        def back(via: str) -> tuple[float, str]:  # the first job this ingress accepts again
            body = {"family": FAMILY, "prompt": "after", "seed": 202, **SHORT}
            r = until(lambda: (r := c[via].post("/api/video/jobs", json=body)).status_code == 202 and r, poll=0.2)
            return round(time.monotonic() - up_at, 2), r.json()["id"]

        answers = dict(zip(("head", "g2"), pool.map(back, ("head", "g2")), strict=True))
        recovered = {via: a[0] for via, a in answers.items()}
        after_ids = {via: a[1] for via, a in answers.items()}
        job = c.wait(job_id)
        seen = stream.result(timeout=120)
    after = {via: c.wait(i) for via, i in after_ids.items()}
    logged = [r[0] for r in rows("SELECT seq FROM events WHERE job_id=%s ORDER BY seq", job_id)]
    stores = {via: c[via].get("/api/video/runtime").json()["ingress"] for via in ("head", "g2")}
    return {
        "outage_s": round(up_at - down_at, 2),
        "during": during,
        "recovered_s": recovered,
        "job": {"status": job["status"], "attempts": job["attempts"], "error": job["error"], "run_s": run_s(job)},
        "job_when_stopped": {k: running["progress"].get(k) for k in ("step", "total_steps")},
        "sse_ids": seen["ids"],
        "sse_cuts": seen["cuts"],
        "store_event_ids": logged,
        "after": {via: j["status"] for via, j in after.items()},
        "replicas_same": serve_replicas() == replicas_before,
        "replicas_before": sorted(replicas_before),
        "replicas_after": sorted(serve_replicas()),
        "ingress_store": {via: {"dispatcher": s["dispatcher"], **(s["store"] or {})} for via, s in stores.items()},
        "ingress": ingress,
    }


def node_kill(c: Clients, cluster: Cluster, node) -> dict:
    """A GPU node removed while it runs a job: the job runs again on the other node."""
    ids = [c.submit("head", seed=300 + i, **LONG) for i in range(2)]  # one per GPU node

    def running_there() -> dict | None:
        for job_id in ids:
            j = c.job(job_id)
            if (
                j["status"] == "running"
                and (j["worker"] or {}).get("node_id") == node.node_id
                and j["progress"]["step"]
            ):
                return j
        return None

    victim = until(running_there)
    cluster.remove_node(node)
    killed_at = time.monotonic()
    other = next(job_id for job_id in ids if job_id != victim["id"])
    c["head"].delete(f"/api/video/jobs/{other}")  # the other node's replica is then free for the retry at once
    jobs = {job_id: c.wait(job_id) for job_id in ids}
    return {
        "killed_node": node.node_id,
        "victim_when_killed": {k: victim["progress"].get(k) for k in ("step", "total_steps")},
        "ended_in_s": round(time.monotonic() - killed_at, 2),
        "jobs": [
            {
                "victim": job_id == victim["id"],
                "status": j["status"],
                "run_s": run_s(j),
                "attempts": j["attempts"],
                "node_id": (j["worker"] or {}).get("node_id"),
                "history": j.get("history"),
            }
            for job_id, j in jobs.items()
        ],
    }


def ingress_kill(c: Clients) -> dict:
    """The ingress that dispatched a running job killed: the job still ends (the worker writes its result)."""
    job_id = c.submit("g2", seed=400, **LONG)
    running = until(lambda: (j := c.job(job_id))["status"] == "running" and j["progress"]["step"] and j)
    dispatcher = rows("SELECT dispatcher FROM jobs WHERE id=%s", job_id)[0][0]
    replica = f"{APP}#{dispatcher.split(':')[0]}"
    ray.kill(replica_actor(replica))
    job = c.wait(job_id, via="head")
    return {
        "killed_replica": replica,
        "when_killed": {k: running["progress"].get(k) for k in ("step", "total_steps")},
        "status": job["status"],
        "run_s": run_s(job),
        "attempts": job["attempts"],
    }


def s3_down(c: Clients, relay: TcpRelay, spec: dict, node_dirs: dict[str, Path]) -> dict:
    """The bucket unreachable for a worker's upload: the job fails with the reason; nothing half-written stays."""
    import obstore
    from obstore.store import S3Store

    relay.close()
    job = c.wait(c.submit("head", seed=500))
    s3 = spec["s3"]
    bucket = S3Store(
        s3["bucket"],
        endpoint=s3["endpoint"],  # SeaweedFS itself, not the closed relay
        access_key_id=s3["access_key"],
        secret_access_key=s3["secret_key"],
        region="us-east-1",
        client_options={"allow_http": True},
    )
    keys = [o["path"] for batch in obstore.list(bucket, prefix=spec["artifacts"].get("prefix")) for o in batch]
    leftovers = [str(p) for d in node_dirs.values() for p in (d / "videos").glob(f"{job['id']}*")]
    return {
        "status": job["status"],
        "error": job["error"],
        "objects_of_job": [k for k in keys if job["id"] in k],
        "objects_of_others": len(keys),
        "local_leftovers": leftovers,
    }


def main(spec: dict, out: Path) -> None:
    from videogen.serve.store.job_store import JobStore

    t0 = time.monotonic()
    timings: dict[str, float] = {}
    report: dict = {"timings": timings}
    host, port = spec["s3"]["endpoint"].removeprefix("http://").split(":")
    relay = TcpRelay((host, int(port)))
    node_dirs = {name: out / "nodes" / name for name in ("head", "gpu1", "gpu2")}
    proxy_ports = {"gpu1": free_port(), "gpu2": free_port()}

    def node_env(name: str) -> dict[str, str]:
        env = {"VIDEOGEN_STATE_DIR": str(node_dirs[name])}
        if name in proxy_ports:  # colocated proxies need a port each (the head's is http_options.port)
            env["RAY_SERVE_WORKER_PROXY_HTTP_PORT"] = str(proxy_ports[name])
        return env

    cluster = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 2,
            "num_gpus": 0,
            "temp_dir": tempfile.mkdtemp(prefix="vgcl-"),
            "include_dashboard": False,
            "resources": {INGRESS_RESOURCE: 1},
            "env_vars": node_env("head"),
        },
    )
    gpu1 = cluster.add_node(num_cpus=2, num_gpus=2, env_vars=node_env("gpu1"))
    gpu2 = cluster.add_node(num_cpus=2, num_gpus=2, resources={INGRESS_RESOURCE: 1}, env_vars=node_env("gpu2"))
    cluster.wait_for_nodes()
    cluster.connect(namespace="videogen-multinode")
    timings["cluster_s"] = round(time.monotonic() - t0, 2)
    report["cluster_resources"] = ray.cluster_resources()
    report["gpu_node_ids"] = [gpu1.node_id, gpu2.node_id]
    report["head_node_id"] = cluster.head_node.node_id
    global DATABASE_URL
    DATABASE_URL = spec["database_url"]
    driver_store = JobStore(out / "driver", database_url=spec["database_url"])
    try:
        head_port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": head_port}, proxy_location="EveryNode")
        artifacts = {**spec["artifacts"], "endpoint_url": f"http://127.0.0.1:{relay.port}"}
        args = {
            "num_gpus": 1,  # the real setting: each worker replica holds one GPU
            "state_dir": "$VIDEOGEN_STATE_DIR",  # expanded by each replica on its own node
            "database_url": spec["database_url"],
            "artifacts": artifacts,
            "heartbeat_timeout_s": 10,
            "ingress": {
                "num_replicas": 2,
                "ray_actor_options": {"num_cpus": 0.1, "resources": {INGRESS_RESOURCE: 1}},
                "health_check_period_s": 1,
            },
            "worker_defaults": {"ray_actor_options": {"num_cpus": 0.1}, "health_check_period_s": 1},
            # Warm only the task the jobs run: the other pipelines' loads and warm-up runs prove nothing here.
            "families": {
                FAMILY: {
                    "model": "tiny",
                    "warm": ["text-to-video"],
                    "deployment": {"num_replicas": 2, "max_replicas_per_node": 1},
                }
            },
            "models": {
                SCALED: {
                    "family": FAMILY,
                    "model": "tiny",
                    "warm": ["text-to-video"],
                    "deployment": {
                        "autoscaling_config": {
                            "min_replicas": 0,
                            "initial_replicas": 0,
                            "max_replicas": 2,
                            "upscale_delay_s": 1,
                            "downscale_delay_s": 2,
                            "look_back_period_s": 2,
                        }
                    },
                }
            },
        }
        started = time.monotonic()
        serve.run(build_app(args), name=APP, route_prefix="/")
        timings["deploy_s"] = round(time.monotonic() - started, 2)

        c = Clients({"head": head_port, "g2": proxy_ports["gpu2"]})
        runtime = {via: c[via].get("/api/video/runtime").json() for via in ("head", "g2")}
        ingress = {via: r["ingress"]["dispatcher"] for via, r in runtime.items()}
        report["ingress"] = ingress
        report["ingress_sticky"] = all(
            c[via].get("/api/video/runtime").json()["ingress"]["dispatcher"] == ingress[via]
            for via in ("head", "g2")
            for _ in range(3)
        )
        report["ingress_state_dirs"] = {via: r["state_dir"] for via, r in runtime.items()}
        report["node_dirs"] = {name: str(d) for name, d in node_dirs.items()}
        report["replicas"] = [  # the family's two (the named model has none yet)
            {"node_id": r["node_id"], "accelerator_ids": r["diagnostics"]["replica"].get("accelerator_ids")}
            for r in runtime["head"]["families"][FAMILY]["replicas"]
        ]

        written = threading.Lock()  # two phases run side by side

        def timed(name: str, phase) -> None:
            started = time.monotonic()
            facts = phase()
            with written:
                report[name] = facts
                timings[f"{name}_s"] = round(time.monotonic() - started, 2)
                (out / "report.json").write_text(json.dumps(report, indent=1, default=str))

        # The named model's GPUs are not the family's: its scale-up and the cross-ingress jobs run side by side.
        # (the ingress killed is replaced by Serve while the scale-down ends)
        with ThreadPoolExecutor(2) as pool:
            both = [pool.submit(timed, "autoscale", lambda: autoscale_from_queue(c, driver_store))]
            both.append(
                pool.submit(
                    lambda: (
                        timed("cross", lambda: cross_ingress(c, ingress)),
                        timed("ingress_kill", lambda: ingress_kill(c)),
                    )
                )
            )
            for done in both:
                done.result()

        def replacement() -> str | None:  # g2's ingress as Serve put it back (its proxy prefers its own node's)
            answer = c["g2"].get("/api/video/runtime")
            dispatcher = answer.status_code == 200 and answer.json()["ingress"]["dispatcher"]
            return dispatcher if dispatcher and dispatcher not in ingress.values() else None

        # The scaled model's jobs wait out the dead ingress's lease; the killed ingress's replacement may be
        # the live one that takes them, so the report names it too.
        report["ingress_replacement"] = until(replacement)
        timed("pg_restart", lambda: pg_restart(c, spec, ingress))
        timed("node_kill", lambda: node_kill(c, cluster, gpu1))
        timed("s3_down", lambda: s3_down(c, relay, spec, node_dirs))
        report["node_dir_files"] = {
            name: sorted(str(p.relative_to(d)) for p in d.rglob("*")) if d.exists() else None
            for name, d in node_dirs.items()
        }
        timings["total_s"] = round(time.monotonic() - t0, 2)
    finally:
        (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
        # No serve.shutdown(): the whole throwaway cluster goes, its replicas with it (seconds sooner).
        ray.shutdown()
        cluster.shutdown()
        driver_store.close()
        print(f"shutdown took {time.monotonic() - t0 - timings.get('total_s', 0):.1f}s")


if __name__ == "__main__":
    main(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
    print("ok")
