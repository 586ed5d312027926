"""The one generation code path, shared by the CLI and the Ray workers.

A request runs through the stages ``runtime_diagnostics`` -> ``loading`` ->
``denoising`` (step i of N, from the pipeline's ``callback_on_step_end``) ->
``decoding`` -> ``encoding``; each is reported to a progress callback with
timings. A cancel seen at a denoising step ends the pipeline call there: no
VAE decode, no video written.
"""

from __future__ import annotations

import logging
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
from videogen.errors import GenerationCancelled, InvalidRequestError
from videogen.rocm_env import rocm_env_snapshot
from videogen.video.families import get_adapter, get_spec
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.loader import LoadedPipeline, load_pipeline
from videogen.video.model_meta import ModelMeta
from videogen.video.model_source import ModelSource
from videogen.video.policy import VideoLoadPolicy
from videogen.video.progress import STAGES, ProgressEvent, StageTiming
from videogen.video.request import Adjustment, VideoRequest
from videogen.video.speed import StepCacheSetting, set_step_cache
from videogen.video.stage_clock import StageClock, step_callback_kwargs

__all__ = ["STAGES", "GenerationResult", "GenerationWorker", "ProgressEvent", "StageTiming", "runtime_snapshot"]

logger = logging.getLogger(__name__)

# Errors after which the device cannot be trusted: the replica should be replaced.
_FATAL_DEVICE_MARKERS = ("illegal memory access", "device-side assert", "hipErrorLaunchFailure", "unspecified launch failure", "ECC error")


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
        self._pipelines: dict[tuple[str, str], LoadedPipeline] = {}
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

    def model_meta(self, family: str, task: str) -> ModelMeta:
        return self.source(family).model_meta(task)

    def check_health(self) -> None:
        if self.fatal_error:
            raise RuntimeError(f"this worker can no longer generate: {self.fatal_error}")

    # -- loading ---------------------------------------------------------------
    def warm(self, family: str, task: str) -> LoadedPipeline:
        """Load (once) and return the pipeline for family/task."""
        key = (family, task)
        if key not in self._pipelines:
            self._pipelines[key] = load_pipeline(self.source(family), task, self.policy(family), self.profile)
        return self._pipelines[key]

    def step_cache_for(self, request: VideoRequest) -> StepCacheSetting:
        """The step cache this request runs with: its own, within what the operator allows, else the policy's."""
        policy = self.policy(request.family)
        setting = request.step_cache or StepCacheSetting(kind=policy.step_cache)
        if setting.kind not in policy.step_cache_allowed:
            raise InvalidRequestError(
                "step_cache", f"{setting.kind!r} is not allowed by this server's policy",
                allowed=list(policy.step_cache_allowed),
            )
        return setting

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
        clock = StageClock(on_progress)
        clock.start("runtime_diagnostics", detail=self.diagnostics(family))
        # Refuse bad input before paying for a load.
        adapter.resolve_params(request, self.model_meta(family, task))
        step_cache = self.step_cache_for(request)
        if should_cancel():
            raise GenerationCancelled("cancelled before loading")

        cached = (family, task) in self._pipelines
        loading = clock.start("loading", detail={"cached": cached})
        loaded = self.warm(family, task)
        loading.detail = {"cached": cached, **loaded.public_provenance()}
        prepared = adapter.prepare_inputs(request, loaded.pipe, loaded.meta)
        total = prepared.params["num_inference_steps"]
        cache = set_step_cache(loaded.pipe, step_cache)
        prepared.params["step_cache"] = cache.applied
        if cache.applied != step_cache.kind:
            prepared.adjustments.append(
                Adjustment(field="step_cache", requested=step_cache.kind, used=cache.applied, reason=cache.reason)
            )

        clock.start("denoising", detail={"total_steps": total})
        denoise_started = time.time()

        def on_step(step_index: int) -> None:
            step = step_index + 1
            clock.denoising_step(step, total, denoise_started)
            if should_cancel():
                # Raised inside the pipeline call, so it ends here: the VAE never decodes a cancelled video.
                raise GenerationCancelled(f"cancelled at step {min(step, total)} of {total}")
            if step >= total:
                clock.start("decoding")  # the pipeline decodes right after its last step

        kwargs = dict(prepared.kwargs)
        kwargs.update(step_callback_kwargs(loaded.pipe, on_step))
        try:
            output = loaded.pipe(**kwargs)
        except GenerationCancelled:
            _settle_interrupted(loaded.pipe)
            raise
        finally:
            if cache.applied != "off":  # the next job starts from a clean cache state, or none
                set_step_cache(loaded.pipe, StepCacheSetting())
        if should_cancel():  # asked while the VAE was decoding: still no video is written
            raise GenerationCancelled("cancelled during decoding")
        if clock.current != "decoding":
            clock.start("decoding")
        frames = adapter.extract_frames(output)

        clock.start("encoding", detail={"codec": "h264", "pix_fmt": "yuv420p"})
        fps = prepared.params["fps"]
        size = write_mp4(frames, output_path, fps)
        clock.done()
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
            model=loaded.public_provenance(),
            frames=frames,
        )


def _settle_interrupted(pipe) -> None:
    """Do what a pipeline does at the end of a call it did not reach: offload its models again
    (model CPU offload would otherwise leave the denoiser on the GPU) and reset stateful hooks."""
    free_hooks = getattr(pipe, "maybe_free_model_hooks", None)
    if free_hooks is None:
        return
    try:
        free_hooks()
    except Exception:  # noqa: BLE001  (the cancel is what the caller must see)
        logger.warning("could not offload %s after a cancel", type(pipe).__name__, exc_info=True)
