"""Multi-node check on a ``ray.cluster_utils.Cluster`` (run by test_serve_multinode.py).

    python tests/serve/multinode_app.py OUT_DIR

A head node without GPUs and two worker nodes that each declare ``num_gpus=1``;
the VideoGen app with the real ``num_gpus: 1`` per worker replica (two replicas
of one family, so one lands on each GPU node); jobs submitted over HTTP; a
report of which node ran each job goes to OUT_DIR/report.json.
"""

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.pop("RAY_ADDRESS", None)

import httpx
import ray
import ray._private.utils

# Do not advertise this throwaway cluster in /tmp/ray: other drivers on the machine
# calling a bare ray.init() must not attach to it.
ray._private.utils.write_ray_address = lambda *args, **kwargs: None

from ray import serve
from ray.cluster_utils import Cluster
from serve_helpers import TERMINAL, free_port  # (run as a script from tests/serve)

from videogen.serve.builder import build_app

FAMILY = "ltx-video"


def main(out: Path) -> None:
    t0 = time.monotonic()
    temp_dir = tempfile.mkdtemp(prefix="vgcl-")
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 2, "num_gpus": 0, "temp_dir": temp_dir, "include_dashboard": False},
    )
    gpu_nodes = [cluster.add_node(num_cpus=2, num_gpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    cluster.connect(namespace="videogen-multinode")
    report: dict = {"cluster_resources": ray.cluster_resources()}
    report["gpu_node_ids"] = [n.node_id for n in gpu_nodes]
    report["head_node_id"] = cluster.head_node.node_id
    try:
        port = free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port}, proxy_location="HeadOnly")
        args = {
            "num_gpus": 1,  # the real setting: each worker replica holds one GPU
            "state_dir": str(out / "state"),
            "heartbeat_timeout_s": 10,
            "worker_defaults": {"ray_actor_options": {"num_cpus": 0.1}},
            # Warm only the task the jobs run: the other three pipelines' loads and warm-up runs prove nothing here.
            "families": {FAMILY: {"model": "tiny", "warm": ["text-to-video"], "deployment": {"num_replicas": 2}}},
        }
        started = time.monotonic()
        serve.run(build_app(args), name="videogen", route_prefix="/")
        report["deploy_s"] = round(time.monotonic() - started, 2)

        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=60) as client:
            runtime = client.get("/api/video/runtime").json()
            report["replicas"] = [
                {
                    "node_id": r["node_id"],
                    "accelerator_ids": r["diagnostics"]["replica"].get("accelerator_ids"),
                    "cuda_visible_devices": r["diagnostics"]["runtime"]["rocm_env"].get("CUDA_VISIBLE_DEVICES"),
                }
                for r in runtime["families"][FAMILY]["replicas"]
            ]

            def one(i: int) -> dict:
                body = {"family": FAMILY, "prompt": f"clip {i}", "seed": i, "num_inference_steps": 40}
                job = client.post("/api/video/jobs", json=body).json()
                while job["status"] not in TERMINAL:
                    time.sleep(0.1)
                    job = client.get(f"/api/video/jobs/{job['id']}").json()
                video = client.get(f"/api/video/jobs/{job['id']}/video")
                return {
                    "id": job["id"],
                    "status": job["status"],
                    "node_id": (job["worker"] or {}).get("node_id"),
                    "video_bytes": len(video.content),
                    "error": job["error"],
                }

            with ThreadPoolExecutor(6) as pool:
                report["jobs"] = list(pool.map(one, range(6)))
        report["total_s"] = round(time.monotonic() - t0, 2)
    finally:
        (out / "report.json").write_text(json.dumps(report, indent=1))
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
            cluster.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
    print("ok")
