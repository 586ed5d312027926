"""Cancel frees the worker at the next denoising step, on every family: no VAE decode, no video.

Each family runs a long tiny job (many steps, many frames: its decode alone would take a while);
it is cancelled once denoising has started, over HTTP or through the handle. What is asserted is
where it stopped (at the step the cancel was seen, never the decoder); the seconds are printed.
"""

from __future__ import annotations

import time

import pytest
from serve_helpers import wait_job

from videogen.video.registry import SPECS
from videogen.video.task_media import warm_up_media

pytestmark = pytest.mark.serve

STEPS = 200


# The UNet families' tiny steps are slow already; the transformers' need more frames and pixels for the
# cancel to land mid-denoise (all of it stays inside cpu-tiny.yaml's job_timeout_s, or admission refuses it).
_SLOW_STEPS = {"animatediff", "ltx-video", "text-to-video-sd"}


def _long_body(family: str) -> dict:
    rule = SPECS[family].frame_rule
    frames, size = (9, 32) if family in _SLOW_STEPS else (33, 96)
    num_frames = rule.nearest(min(rule.max_frames, frames))
    task = SPECS[family].tasks[0]  # text-to-video, or an edit-only family's video-to-video: its clip to edit
    return {
        "family": family,
        "task": task,
        "prompt": "a long one",
        "seed": 1,
        "num_inference_steps": STEPS,
        "num_frames": num_frames,
        "height": size,
        "width": size,
        **warm_up_media(task, num_frames, SPECS[family].defaults.fps),
    }


def _until_denoising(client, job_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/video/jobs/{job_id}").json()
        if (job.get("progress") or {}).get("step"):
            return job
        assert job["status"] in ("queued", "running"), job.get("error")
        time.sleep(0.02)
    raise AssertionError(f"{job_id} never reached a denoising step")


def _check_stopped_at_a_step(done: dict, step_at_cancel: int, family: str, seconds: float) -> None:
    assert done["status"] == "cancelled", done
    stages = [s["name"] for s in done["stages"]]
    assert "decoding" not in stages and "encoding" not in stages, (family, stages)
    stopped = int(done["error"]["message"].split("cancelled at step ")[1].split(" ")[0])
    # progress is written coalesced, so the step it showed at the DELETE may lag the worker's by a few
    assert step_at_cancel <= stopped < STEPS, (family, step_at_cancel, stopped)
    print(
        f"[cancel] {family}: DELETE at step {step_at_cancel}, stopped at step {stopped}, "
        f"ended {seconds * 1000:.0f} ms after the cancel"
    )


@pytest.mark.parametrize("family", sorted(SPECS))
def test_cancel_over_http_ends_at_the_next_step_on_every_family(client, family):
    r = client.post("/api/video/jobs", json=_long_body(family))
    assert r.status_code == 202, r.text
    job = r.json()
    running = _until_denoising(client, job["id"])
    started = time.monotonic()
    assert client.delete(f"/api/video/jobs/{job['id']}").status_code == 200
    step_at_cancel = (
        client.get(f"/api/video/jobs/{job['id']}").json()["progress"]["step"] or running["progress"]["step"]
    )
    done = wait_job(client, job["id"], timeout=60, poll=0.01)
    _check_stopped_at_a_step(done, step_at_cancel, family, time.monotonic() - started)
    assert client.get(f"/api/video/jobs/{job['id']}/video").status_code == 409


def test_cancel_through_the_handle_ends_at_the_next_step(served_app, client):
    from ray import serve

    handle = serve.get_app_handle("videogen")
    job = handle.submit.remote(_long_body("wan")).result()
    running = _until_denoising(client, job["id"])
    started = time.monotonic()
    assert handle.cancel.remote(job["id"]).result()["cancel_requested"] is True
    done = wait_job(client, job["id"], timeout=60, poll=0.01)
    _check_stopped_at_a_step(done, running["progress"]["step"], "wan (handle)", time.monotonic() - started)
