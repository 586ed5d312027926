"""The one generation code path, shared by the CLI and the Ray workers.

A request runs through the stages ``runtime_diagnostics`` -> ``loading`` ->
``denoising`` (step i of N, from the pipeline's ``callback_on_step_end``) ->
``decoding`` -> ``encoding``; each is reported to a progress callback with
timings. A cancel request stops denoising at the next step.
"""

from __future__ import annotations

import inspect
import os
import platform
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from videogen import __version__
from videogen.errors import GenerationCancelled
from videogen.rocm_env import rocm_env_snapshot
from videogen.video.adapters import get_adapter
from videogen.video.foundation import VideoHardwareProfile, VideoLoadPolicy
from videogen.video.model_source import ModelSource
from videogen.video.registry import get_spec
from videogen.video.request import Adjustment, VideoRequest

STAGES = ("runtime_diagnostics", "loading", "denoising", "decoding", "encoding")
# Share of the overall progress bar each stage ends at.
_STAGE_END_PERCENT = {"runtime_diagnostics": 1.0, "loading": 5.0, "denoising": 90.0, "decoding": 95.0, "encoding": 100.0}
# Errors after which the device cannot be trusted: the replica should be replaced.
_FATAL_DEVICE_MARKERS = ("illegal memory access", "device-side assert", "hipErrorLaunchFailure", "unspecified launch failure", "ECC error")


class StageTiming(BaseModel):
    name: str
    started_at: float
    finished_at: float | None = None
    seconds: float | None = None
    detail: dict[str, Any] | None = None


class ProgressEvent(BaseModel):
    stage: str
    step: int | None = None
    total_steps: int | None = None
    percent: float
    eta_s: float | None = None
    stages: list[StageTiming] = Field(default_factory=list)


class GenerationResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    output_path: str
    num_frames: int
    width: int
    height: int
    fps: int
    bytes: int
    adjustments: list[Adjustment]
    stages: list[StageTiming]
    params: dict[str, Any]
    model: dict[str, Any]
    frames: np.ndarray | None = Field(default=None, exclude=True, repr=False)


def runtime_snapshot() -> dict[str, Any]:
    """Versions and process facts, as this process sees them."""
    import importlib.metadata as md

    def version(name: str) -> str | None:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return None

    return {
        "videogen": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "packages": {n: version(n) for n in ("torch", "diffusers", "transformers", "accelerate", "ray", "imageio-ffmpeg")},
        "rocm_env": rocm_env_snapshot(),
    }


class _StageClock:
    """Records stage timings and turns them into progress events."""

    def __init__(self, on_progress: Callable[[ProgressEvent], None] | None):
        self.on_progress = on_progress
        self.stages: list[StageTiming] = []

    def start(self, name: str, detail: dict | None = None) -> StageTiming:
        self.finish()
        stage = StageTiming(name=name, started_at=time.time(), detail=detail)
        self.stages.append(stage)
        previous = STAGES[STAGES.index(name) - 1] if STAGES.index(name) else None
        self.emit(name, percent=_STAGE_END_PERCENT[previous] if previous else 0.0)
        return stage

    def finish(self) -> None:
        if self.stages and self.stages[-1].finished_at is None:
            stage = self.stages[-1]
            stage.finished_at = time.time()
            stage.seconds = round(stage.finished_at - stage.started_at, 4)

    def emit(self, stage: str, percent: float, step: int | None = None, total: int | None = None, eta: float | None = None):
        if self.on_progress is not None:
            event = ProgressEvent(
                stage=stage, step=step, total_steps=total, percent=round(percent, 2), eta_s=eta,
                stages=[s.model_copy() for s in self.stages],
            )
            self.on_progress(event)


class GenerationWorker:
    """Holds warm pipelines and runs requests through them, one at a time."""

    def __init__(
        self,
        models: Mapping[str, str | None] | None = None,
        default_model: str | None = None,
        profile: VideoHardwareProfile | None = None,
        policy_overrides: Mapping[str, Any] | None = None,
    ):
        self._models = dict(models or {})
        self._default_model = default_model
        self._profile = profile
        self._policy_overrides = dict(policy_overrides or {})
        self._pipelines: dict[tuple[str, str], Any] = {}
        self._run_lock = threading.Lock()
        self.fatal_error: str | None = None

    # -- what this worker is ----------------------------------------------------
    @property
    def profile(self) -> VideoHardwareProfile:
        if self._profile is None:
            self._profile = VideoHardwareProfile.detect()
        return self._profile

    def source(self, family: str) -> ModelSource:
        get_spec(family)
        return ModelSource(family=family, value=self._models.get(family, self._default_model))

    def policy(self, family: str | None = None) -> VideoLoadPolicy:
        spec = get_spec(family) if family else None
        return VideoLoadPolicy.derive(self.profile, spec, overrides=self._policy_overrides)

    def diagnostics(self, family: str | None = None) -> dict[str, Any]:
        runtime = runtime_snapshot()
        runtime["loaded_pipelines"] = [f"{f}/{t}" for f, t in self._pipelines]
        runtime["fatal_error"] = self.fatal_error
        return {
            "hardware_profile": self.profile.model_dump(),
            "load_policy": self.policy(family).model_dump(),
            "runtime": runtime,
        }

    def model_meta(self, family: str, task: str) -> dict:
        return self.source(family).model_meta(task)

    def check_health(self) -> None:
        if self.fatal_error:
            raise RuntimeError(f"this worker can no longer generate: {self.fatal_error}")

    # -- loading ---------------------------------------------------------------
    def warm(self, family: str, task: str):
        """Load (once) and return the pipeline for family/task."""
        key = (family, task)
        if key not in self._pipelines:
            from videogen.video.loader import load_pipeline

            self._pipelines[key] = load_pipeline(self.source(family), task, self.policy(family))
        return self._pipelines[key]

    # -- generation ------------------------------------------------------------
    def generate(
        self,
        request: VideoRequest,
        output_path: str | Path,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> GenerationResult:
        with self._run_lock:
            try:
                return self._generate(request, Path(output_path), on_progress, should_cancel or (lambda: False))
            except RuntimeError as exc:
                if any(marker in str(exc) for marker in _FATAL_DEVICE_MARKERS):
                    self.fatal_error = str(exc)[:500]
                raise

    def _generate(self, request, output_path, on_progress, should_cancel) -> GenerationResult:
        from videogen.video.encode import write_mp4

        family, task = request.family, request.task
        adapter = get_adapter(family)
        clock = _StageClock(on_progress)
        clock.start("runtime_diagnostics", detail=self.diagnostics(family))
        # Refuse bad input before paying for a load.
        adapter.resolve_params(request, self.model_meta(family, task))
        if should_cancel():
            raise GenerationCancelled("cancelled before loading")

        cached = (family, task) in self._pipelines
        loading = clock.start("loading", detail={"cached": cached})
        pipe = self.warm(family, task)
        loading.detail = {"cached": cached, **_public_source(pipe)}
        prepared = adapter.prepare_inputs(request, pipe, pipe._videogen_model_meta)
        total = prepared.params["num_inference_steps"]

        clock.start("denoising", detail={"total_steps": total})
        denoise_started = time.time()
        state = {"cancelled": False}

        def on_step(step_index: int) -> None:
            step = step_index + 1
            elapsed = time.time() - denoise_started
            eta = elapsed / step * (total - step)
            lo, hi = _STAGE_END_PERCENT["loading"], _STAGE_END_PERCENT["denoising"]
            clock.emit("denoising", lo + (hi - lo) * min(step, total) / total, step=min(step, total), total=total, eta=round(eta, 3))
            if step < total and should_cancel():
                state["cancelled"] = True
                if hasattr(type(pipe), "interrupt"):
                    pipe._interrupt = True  # the pipeline skips the remaining steps
                else:
                    raise GenerationCancelled(f"cancelled at step {step} of {total}")
            if step >= total:
                clock.start("decoding")  # the pipeline decodes right after its last step

        kwargs = dict(prepared.kwargs)
        kwargs.update(_step_callback_kwargs(pipe, on_step))
        output = pipe(**kwargs)
        if state["cancelled"]:
            raise GenerationCancelled("cancelled during denoising")
        if should_cancel():  # asked while the VAE was decoding: still no video is written
            raise GenerationCancelled("cancelled during decoding")
        if clock.stages[-1].name != "decoding":
            clock.start("decoding")
        frames = adapter.extract_frames(output)

        clock.start("encoding", detail={"codec": "h264", "pix_fmt": "yuv420p"})
        fps = prepared.params["fps"]
        size = write_mp4(frames, output_path, fps)
        clock.finish()
        clock.emit("done", 100.0)
        return GenerationResult(
            output_path=str(output_path),
            num_frames=int(frames.shape[0]),
            width=int(frames.shape[2]),
            height=int(frames.shape[1]),
            fps=fps,
            bytes=size,
            adjustments=prepared.adjustments,
            stages=clock.stages,
            params=prepared.params,
            model=_public_source(pipe),
            frames=frames,
        )


def _public_source(pipe) -> dict[str, Any]:
    """Provenance fit for job records: no server paths (clients see jobs), no policy dump."""
    return {k: v for k, v in pipe._videogen_source.items() if k not in ("policy", "path")}


def _step_callback_kwargs(pipe, on_step: Callable[[int], None]) -> dict[str, Any]:
    """Hook a per-step callback into whichever callback API this pipeline has."""
    accepted = inspect.signature(pipe.__call__).parameters
    if "callback_on_step_end" in accepted:

        def callback_on_step_end(_pipe, step_index, _timestep, callback_kwargs):
            on_step(step_index)
            return callback_kwargs

        return {"callback_on_step_end": callback_on_step_end}
    if "callback" in accepted:  # older pipelines (TextToVideoSD)
        return {"callback": lambda step, _t, _latents: on_step(step), "callback_steps": 1}
    return {}
