"""Many nodes for real (issue 18): a Cluster whose nodes share nothing but PostgreSQL and an S3 bucket.

One cluster in one subprocess (``multinode_app.py``, its phases described there): a head and two worker nodes
that each declare GPUs, every node with its own state directory; two ingress replicas on different nodes; the
tiny LTX family on one GPU per GPU node and a named model of it autoscaled 0..2 on the store's queue. The
PostgreSQL server and SeaweedFS are the suite's own (``tests/pg_server.py``, ``tests/s3_server.py``); the
subprocess gets the database URL, the bucket and the commands that stop and start PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.serve


@pytest.fixture(scope="module")
def report(postgres_server, s3_server, tmp_path_factory):
    out = tmp_path_factory.mktemp("multinode")
    spec = {
        "database_url": postgres_server.create_database("multinode"),
        "artifacts": s3_server.artifacts(prefix="multinode"),
        "s3": {
            "endpoint": s3_server.endpoint,
            "bucket": s3_server.bucket,
            "access_key": s3_server.access_key,
            "secret_key": s3_server.secret_key,
        },
        "pg_stop": postgres_server.ctl("stop"),
        "pg_start": postgres_server.ctl("start"),
    }
    (out / "spec.json").write_text(json.dumps(spec))
    # Its own cluster in its own process: the session's local Ray stays untouched.
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("multinode_app.py")), str(out / "spec.json"), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=500,
        )
    finally:
        postgres_server.reconnect()  # the app restarted the server: the admin connection went with it
    report_file = out / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    print(f"\nmulti-node app: {time.monotonic() - started:.1f}s; phases {report.get('timings')}")
    assert proc.returncode == 0, (report, proc.stderr[-6000:])
    print(*(line for line in proc.stdout.splitlines() if line.startswith("shutdown took")))
    return report


def test_every_node_keeps_its_own_state_dir(report):
    assert report["cluster_resources"]["GPU"] == 4
    gpu_nodes = set(report["gpu_node_ids"])
    # The family's two replicas: one per GPU node, each holding one GPU Ray assigned.
    assert {r["node_id"] for r in report["replicas"]} == gpu_nodes
    for r in report["replicas"]:
        assert len(r["accelerator_ids"]["GPU"]) == 1
    dirs = report["node_dirs"]
    assert report["ingress_state_dirs"] == {"head": dirs["head"], "g2": dirs["gpu2"]}  # each node its own
    # Nothing of the store on any node (no SQLite file), and no video left behind: each went to the bucket.
    for name, files in report["node_dir_files"].items():
        assert files == ["videos"], (name, files)


def test_jobs_cross_ingresses_and_nodes(report):
    ingress = report["ingress"]
    assert ingress["head"] != ingress["g2"] and report["ingress_sticky"]  # each proxy: its own node's ingress
    jobs = report["cross"]["jobs"]
    for job in jobs:
        assert job["status"] == "succeeded", job
        # Dispatched by the ingress it was submitted through; streamed through the other one, which saw every
        # event the store logged (written by a worker on another node), in order.
        assert job["dispatcher"] == job["submitted_via"] != job["streamed_via"], job
        assert job["sse_ids"] == job["store_event_ids"] and len(job["sse_ids"]) >= 3, job
        # Downloaded through both ingresses (from the bucket: no node has the file), whole and by range.
        assert job["video_bytes"]["head"] > 0 and job["videos_equal"], job
        assert job["range_status"] == 206 and job["range_bytes"] == 100, job
    used = {job["node_id"] for job in jobs}
    assert used == set(report["gpu_node_ids"]) and report["head_node_id"] not in used


def test_jobs_a_dead_ingress_admitted_scale_a_model_from_zero_and_back(report):
    scale = report["autoscale"]
    print(
        "\nautoscaling on the store's queue (upscale_delay_s 1, downscale_delay_s 2), seconds after two jobs were "
        f"queued: first replica asked {scale['first_replica_s']}, running {scale.get('one_running_s')}, a second "
        f"asked {scale.get('two_asked_s')} (running {scale.get('two_running_s')}), jobs done {scale.get('jobs_done_s')}"
        f", back to zero {scale.get('back_to_zero_s')}; peak {scale['peak']}; timeline {scale['timeline']}"
    )
    assert scale["before"] == {}  # scaled to zero
    # Asked for while both jobs still sat under the dead ingress's lease, never dispatched: the store's queue
    # woke the deployment, no handle had a request for it.
    assert [tuple(r) for r in scale["rows_then"]] == [("queued", "VideoGenIngress#gone:00000000", 0)] * 2
    assert scale["peak"] >= 1 and "back_to_zero_s" in scale, scale
    # Once the lease ran out, a live ingress dispatched them (the killed one's replacement is live too, and runs
    # beside this phase); they ran once.
    live = {*report["ingress"].values(), report["ingress_replacement"]}
    for job in scale["jobs"]:
        assert job["status"] == "succeeded" and job["attempts"] == 1, job
        assert job["dispatcher"] in live and job["node_id"] in report["gpu_node_ids"], job


def test_a_postgres_restart_loses_nothing_and_replaces_no_replica(report):
    pg = report["pg_restart"]
    print(f"\nPostgreSQL away {pg['outage_s']}s; each ingress took jobs again {pg['recovered_s']}s after it was back")
    # While it was away, every route through both ingresses answered 503 store_unavailable with Retry-After.
    assert len(pg["during"]) == 10
    for answer in pg["during"]:
        assert answer["status"] == 503 and answer["code"] == "store_unavailable", answer
        assert int(answer["retry_after"]) >= 1, answer
    # The job running across it finished on its first attempt; its stream, through the other ingress, was cut
    # with the store and resumed (Last-Event-ID) without missing an event.
    assert pg["job_when_stopped"]["step"] < pg["job_when_stopped"]["total_steps"]
    assert pg["job"]["status"] == "succeeded" and pg["job"]["attempts"] == 1, pg["job"]
    assert pg["sse_ids"] == pg["store_event_ids"]
    assert pg["after"] == {"head": "succeeded", "g2": "succeeded"}  # back by itself, through both
    # Three failed health checks in a row make Serve replace a replica: each ingress saw that many store
    # failures, yet no replica (ingress or worker) was replaced, and each says so in its diagnostics.
    assert pg["replicas_same"], (pg["replicas_before"], pg["replicas_after"])
    for via, store in pg["ingress_store"].items():
        assert store["outage"] is None and store["last_outage"]["failed_checks"] >= 3, (via, store)


def test_a_gpu_node_lost_mid_job_runs_it_again_on_the_other(report):
    kill = report["node_kill"]
    assert kill["victim_when_killed"]["step"] < kill["victim_when_killed"]["total_steps"]
    victim = next(job for job in kill["jobs"] if job["victim"])
    assert victim["status"] == "succeeded" and victim["attempts"] == 2, victim
    assert victim["history"][0]["worker"]["node_id"] == kill["killed_node"]
    assert victim["node_id"] in report["gpu_node_ids"] and victim["node_id"] != kill["killed_node"]


def test_an_ingress_killed_mid_job_leaves_it_to_finish(report):
    kill = report["ingress_kill"]
    assert kill["killed_replica"].split("#", 1)[1] == report["ingress"]["g2"].split(":")[0]
    assert kill["when_killed"]["step"] < kill["when_killed"]["total_steps"]
    assert kill["status"] == "succeeded" and kill["attempts"] == 1, kill


def test_an_unreachable_bucket_fails_the_job_with_its_reason_and_leaves_nothing(report):
    down = report["s3_down"]
    assert down["status"] == "failed" and down["error"]["code"] == "artifact_upload_failed", down
    assert down["objects_of_job"] == [] and down["local_leftovers"] == [], down
    assert down["objects_of_others"] > 0  # the listing saw the bucket: the earlier jobs' objects are there
