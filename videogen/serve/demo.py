"""End-to-end demo through Ray Serve (``make demo``).

    python -m videogen.serve.demo --out out/

Starts a local Ray (never attaches to another cluster), serves
``deploy/cpu-tiny.yaml`` (all seven families on tiny models), submits a
text-to-video and an image-to-video job over HTTP, follows their progress
through Server-Sent Events, writes the MP4s into ``--out`` and shuts down.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "deploy" / "cpu-tiny.yaml"
_print_lock = threading.Lock()


def say(*parts) -> None:
    with _print_lock:
        print(*parts, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_frame_png(size: int = 64) -> str:
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:size, 0:size]
    img = np.stack([x * 255 // size, y * 255 // size, np.full_like(x, 160)], axis=-1).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _follow(client, label: str, job_id: str) -> dict:
    """Print the job's progress from its SSE stream until it ends; return the last job JSON."""
    last, shown = None, None
    with client.stream("GET", f"/api/video/jobs/{job_id}/events", headers={"Last-Event-ID": "0"}, timeout=None) as r:
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            job = json.loads(line[6:])
            last = job
            p = job["progress"] or {}
            step = f" step {p['step']}/{p['total_steps']}" if p.get("step") else ""
            eta = f" eta {p['eta_s']:.2f}s" if p.get("eta_s") else ""
            text = f"[{label}] {job['status']:9} {p.get('stage', ''):20}{step}{eta} {p.get('percent', 0):5.1f}%"
            if text != shown:
                say(text)
                shown = text
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videogen.serve.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out", help="where the MP4s (and the job store) go")
    parser.add_argument(
        "--config", default=str(DEFAULT_CONFIG), help="Serve config YAML (default deploy/cpu-tiny.yaml)"
    )
    parser.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    parser.add_argument("--families", help="serve only these families (comma-separated; default: all in the config)")
    args = parser.parse_args(argv)

    import httpx
    import yaml

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(Path(args.config).read_text())
    app_cfg = config["applications"][0]
    app_args = dict(app_cfg.get("args") or {})
    app_args.setdefault("state_dir", str(out / "state"))
    if args.families:
        wanted = [f.strip() for f in args.families.split(",") if f.strip()]
        app_args["families"] = {f: (app_args.get("families") or {}).get(f, {"model": "tiny"}) for f in wanted}

    os.environ.pop("RAY_ADDRESS", None)  # a stale address would make ray.init hang
    import ray
    from ray import serve

    from videogen.serve.builder import build_app
    from videogen.video.encode import read_mp4

    t0 = time.monotonic()
    say(f"starting a local Ray (config {args.config}) ...")
    ray.init(
        address="local",
        num_cpus=max(4, os.cpu_count() or 1),
        include_dashboard=False,
        _temp_dir=tempfile.mkdtemp(prefix="videogen-demo-ray-"),
        log_to_driver=False,
    )
    port = args.port or _free_port()
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(
            build_app(app_args), name=app_cfg.get("name", "videogen"), route_prefix=app_cfg.get("route_prefix", "/")
        )
        base = f"http://127.0.0.1:{port}"
        say(f"serving at {base} after {time.monotonic() - t0:.1f}s")

        with httpx.Client(base_url=base, timeout=60) as client:
            runtime = client.get("/api/video/runtime").json()
            say(
                f"hardware: {runtime['hardware_profile']['backend']} ({runtime['hardware_profile']['device_name']}), "
                f"policy: {runtime['load_policy']['placement']} {runtime['load_policy']['dtype']}"
            )
            for family, info in runtime["families"].items():
                say(f"  {family:18} {info['status']:10} replicas={info['replica_states']} model={info['model']}")

            served = runtime["served_families"]
            t2v_family = "wan" if "wan" in served else served[0]
            from videogen.video.registry import get_spec

            i2v_family = next(
                (f for f in ("ltx-video", "wan", "cogvideox") if f in served and "image-to-video" in get_spec(f).tasks),
                None,
            )
            requests = [
                (
                    "t2v",
                    t2v_family,
                    {
                        "family": t2v_family,
                        "task": "text-to-video",
                        "prompt": "a red fox running through snow",
                        "num_frames": 17,
                        "height": 48,
                        "width": 48,
                        "num_inference_steps": 8,
                        "seed": 7,
                        "fps": 8,
                    },
                )
            ]
            if i2v_family:
                requests.append(
                    (
                        "i2v",
                        i2v_family,
                        {
                            "family": i2v_family,
                            "task": "image-to-video",
                            "prompt": "the sun sets over the sea",
                            "image": _first_frame_png(),
                            "num_frames": 17,
                            "height": 64,
                            "width": 64,
                            "num_inference_steps": 8,
                            "seed": 7,
                            "fps": 8,
                        },
                    )
                )
            jobs = {}
            for kind, family, body in requests:
                r = client.post("/api/video/jobs", json=body)
                r.raise_for_status()
                jobs[kind] = (family, r.json())
                say(f"submitted {kind} on {family}: {r.json()['id']} (202 {r.json()['status']})")

            finals: dict[str, dict] = {}
            threads = [
                threading.Thread(
                    target=lambda k=k, f=f, j=j: finals.__setitem__(k, _follow(client, f"{f} {k}", j["id"]))
                )
                for k, (f, j) in jobs.items()
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

            ok = True
            for kind, (family, _) in jobs.items():
                job = finals[kind]
                if job["status"] != "succeeded":
                    say(f"{kind}: {job['status']}: {job['error']}")
                    ok = False
                    continue
                path = out / f"serve-{family}-{kind}.mp4"
                path.write_bytes(client.get(job["result"]["video_url"]).content)
                frames, fps = read_mp4(path)
                timings = ", ".join(f"{s['name']} {s['seconds']:.3f}s" for s in job["stages"])
                say(
                    f"wrote {path} ({path.stat().st_size} bytes, {frames.shape[0]} frames "
                    f"{frames.shape[2]}x{frames.shape[1]} @ {fps:g} fps)"
                )
                say(f"  stages: {timings}")
                if job["adjustments"]:
                    say(f"  adjustments: {[(a['field'], a['requested'], a['used']) for a in job['adjustments']]}")
        say(f"done in {time.monotonic() - t0:.1f}s")
        return 0 if ok else 1
    finally:
        say("shutting down Serve and Ray ...")
        try:
            serve.shutdown()
        finally:
            ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
