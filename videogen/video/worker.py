"""The one generation code path, shared by the CLI and the Ray workers.

A request runs through the stages ``runtime_diagnostics`` -> ``loading`` ->
``denoising`` (step i of N, from the pipeline's ``callback_on_step_end``) ->
``decoding`` -> ``encoding``; each is reported to a progress callback with
timings. A cancel seen at a denoising step ends the pipeline call there: no
VAE decode, no video written.
"""

from __future__ import annotations

import functools
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
from videogen.video.job_cost import Throughput
from videogen.video.job_plan import CapacityPlanner, JobPlan
from videogen.video.loader import LoadedPipeline, load_pipeline
from videogen.video.lora_config import DEFAULT_MAX_LORAS_PER_REPLICA
from videogen.video.model_meta import ModelMeta
from videogen.video.model_source import ModelSource
from videogen.video.parallel.config import ParallelConfig
from videogen.video.pipeline_failure import is_device_fault, pipeline_failure
from videogen.video.placement import settle_interrupted
from videogen.video.policy import VideoLoadPolicy
from videogen.video.progress import STAGES, ProgressEvent, StageTiming
from videogen.video.recipes import parse_recipes, recipe_scheduler
from videogen.video.request import Adjustment, VideoRequest
from videogen.video.speed import StepCacheSetting, set_step_cache, warm_up_compiled
from videogen.video.stage_clock import StageClock, step_callback_kwargs
from videogen.video.task_media import warm_up_media
from videogen.video.worker_loras import WorkerLoras

__all__ = ["STAGES", "GenerationResult", "GenerationWorker", "ProgressEvent", "StageTiming", "runtime_snapshot"]

logger = logging.getLogger(__name__)


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
    estimate: dict[str, Any] | None = None  # the job's JobPlan (cost estimate + rung), when it could be priced
    measured: dict[str, Any] = Field(default_factory=dict)  # measured figures beside the estimate
    outputs: dict[str, dict] = Field(default_factory=dict)  # thumbnail/spritesheet/preview: bytes, media type, layout


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str | None]:
    """Installed versions, read once: they cannot change under a running process, and reading package metadata
    costs milliseconds that every job would pay (each job's diagnostics carry them)."""
    import importlib.metadata as md

    def version(name: str) -> str | None:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return None

    return {n: version(n) for n in ("torch", "diffusers", "transformers", "accelerate", "ray", "imageio-ffmpeg")}


def runtime_snapshot() -> dict[str, Any]:
    """Versions and process facts, as this process sees them."""
    return {
        "videogen": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "packages": dict(_package_versions()),
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
        job_timeout_s: float | None = None,
        loras: Mapping[str, Mapping[str, Any]] | None = None,  # family -> declared LoRA adapters (lora_config)
        max_loras_per_replica: int = DEFAULT_MAX_LORAS_PER_REPLICA,
        recipes: Mapping[str, Mapping[str, Any]] | None = None,  # family -> the operator's sampling recipes
        parallel: ParallelConfig | None = None,  # this replica's split of a job across ranks (None: one rank)
    ):
        self._models = dict(models or {})
        self._default_model = default_model
        self._profile = profile
        self._policy_overrides = dict(policy_overrides or {})
        self.parallel = parallel if parallel and parallel.world_size > 1 else None  # admission prices a rank's share
        self._pipelines: dict[tuple[str, str], LoadedPipeline] = {}
        self._run_lock = threading.Lock()
        self.fatal_error: str | None = None
        self.planner = CapacityPlanner(job_timeout_s)
        self.loras = WorkerLoras(loras, max_loras_per_replica)  # resident adapters per pipeline, switched per job
        self._recipes = {
            family: parse_recipes(value, f"recipes of {family}") for family, value in (recipes or {}).items()
        }

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
        return VideoLoadPolicy.derive(self.profile, spec, overrides=self._policy_overrides).with_parallel(self.parallel)

    def diagnostics(self, family: str | None = None, policy: VideoLoadPolicy | None = None) -> dict[str, Any]:
        runtime = runtime_snapshot()
        runtime["loaded_pipelines"] = [f"{f}/{t}" for f, t in self._pipelines]
        runtime["fatal_error"] = self.fatal_error
        return {
            "hardware_profile": self.profile.model_dump(),
            "load_policy": (policy or self.policy(family)).model_dump(),
            "runtime": runtime,
            "throughput": self.planner.throughputs(),  # FLOP/s achieved per family/task (admission and ETAs)
            "parallel": self.parallel and {"config": self.parallel.describe(), "world_size": self.parallel.world_size},
        }

    def estimate(self, request: VideoRequest) -> JobPlan | None:
        """What ``request`` would cost here and where it would run; a ``CapacityError`` when it cannot fit."""
        family, task = request.family, request.task
        params = get_adapter(family).resolve_params(request, self.model_meta(family, task)).params
        return self.planner.plan(self.source(family), task, params, get_spec(family), self.profile, self.policy(family))

    def model_meta(self, family: str, task: str) -> ModelMeta:
        meta = self.source(family).model_meta(task).with_recipes(self._recipes.get(family))
        return meta.with_loras(self.loras.adapters(family))

    def check_health(self) -> None:
        if self.fatal_error:
            raise RuntimeError(f"this worker can no longer generate: {self.fatal_error}")

    # -- loading ---------------------------------------------------------------
    def warm(self, family: str, task: str) -> LoadedPipeline:
        """Load (once) and return the pipeline for family/task. With regional compile on, a short call at the
        model's default shape builds the compiled graphs here, at replica warm-up, so no job pays for them."""
        key = (family, task)
        if key not in self._pipelines:
            loaded = load_pipeline(self.source(family), task, self.policy(family), self.profile)
            compiled = loaded.provenance.get("levers", {}).get("compile", {})
            self.loras.prepare(key, loaded)  # before a compiled warm-up: its graphs hold the hot-swap slots
            if compiled.get("applied") == "regional":
                warm_up_compiled(loaded.pipe, self._warm_up_kwargs(family, task, loaded), compiled)
            self._pipelines[key] = loaded
        return self._pipelines[key]

    @staticmethod
    def _warm_up_kwargs(family: str, task: str, loaded: LoadedPipeline) -> dict[str, Any]:
        """Pipeline kwargs of a 2-step job at the model's default shape, stopping at the latents (no decode)."""
        request = _warm_up_request(family, task, loaded.meta)
        kwargs = get_adapter(family).prepare_inputs(request, loaded.pipe, loaded.meta).kwargs
        return kwargs | {"output_type": "latent"}

    def warm_up(self, family: str, task: str) -> Throughput | None:
        """One short generation (2 steps at the model's default shape) to measure the FLOP/s this worker
        achieves; failures are logged, never raised (a warm-up must not stop a replica)."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="videogen-warm-up-") as tmp:
            try:
                self.generate(_warm_up_request(family, task, self.model_meta(family, task)), Path(tmp) / "warm-up.mp4")
            except Exception:
                logger.warning("warm-up run of %s/%s failed", family, task, exc_info=True)
        return self.planner.throughput(family, task)

    def step_cache_for(self, request: VideoRequest, policy: VideoLoadPolicy | None = None) -> StepCacheSetting:
        """The step cache this request runs with: its own, within what the operator allows, else the policy's."""
        policy = policy or self.policy(request.family)
        setting = request.step_cache or StepCacheSetting(kind=policy.step_cache)
        if setting.kind not in policy.step_cache_allowed:
            raise InvalidRequestError(
                "step_cache",
                f"{setting.kind!r} is not allowed by this server's policy",
                allowed=list(policy.step_cache_allowed),
            )
        return setting

    # -- generation ------------------------------------------------------------
    def generate(
        self,
        request: VideoRequest,
        output_path: str | Path | None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> GenerationResult:
        """``output_path`` None: run the job and write nothing (a parallel replica's ranks but the writer)."""
        path = Path(output_path) if output_path is not None else None
        with self._run_lock:
            try:
                return self._generate(request, path, on_progress, should_cancel or (lambda: False))
            except RuntimeError as exc:
                if is_device_fault(exc):
                    self.fatal_error = str(exc)[:500]
                raise

    def _generate(self, request, output_path, on_progress, should_cancel) -> GenerationResult:
        from videogen.video.encode import write_mp4
        from videogen.video.outputs import PICTURE_VARIANTS, remove_outputs, write_outputs

        family, task = request.family, request.task
        adapter = get_adapter(family)
        clock = StageClock(on_progress)
        policy = self.policy(family)  # derived once per job
        clock.start("runtime_diagnostics", detail=self.diagnostics(family, policy))
        # Refuse bad input, and what cannot fit this hardware, before paying for a load. The request is
        # resolved here once (its image decoded once); the pipeline's kwargs are built from this.
        settled = adapter.resolve_params(request, self.model_meta(family, task))
        step_cache = self.step_cache_for(request, policy)
        plan = self.planner.plan(self.source(family), task, settled.params, get_spec(family), self.profile, policy)
        clock.expected_seconds = plan.estimate.expected_seconds if plan else None
        if should_cancel():
            raise GenerationCancelled("cancelled before loading")

        cached = (family, task) in self._pipelines
        loading = clock.start("loading", detail={"cached": cached})
        loaded = self.warm(family, task)
        loras = self.loras.apply((family, task), settled.params.get("loras"))  # never reloads the base
        loading.detail = {"cached": cached, **loaded.public_provenance(), **({"loras": loras} if loras else {})}
        prepared = adapter.prepare_inputs(request, loaded.pipe, loaded.meta, settled)
        # video-to-video runs int(steps x strength) of its steps: the progress counts those, and a refining second
        # pass's (LTX-Video's latent upscale)
        total = prepared.params.get("denoising_steps", prepared.params["num_inference_steps"])
        total += prepared.params.get("refine_steps", 0)
        clock.block_steps = prepared.params.get("denoising_blocks")  # a job in windows: each step says its window
        self.planner.settle_rung(loaded, plan, policy, prepared.adjustments)
        cache = set_step_cache(
            loaded.pipe,
            step_cache,
            support=get_spec(family).step_caches,
            task=task,
            guidance_scale=prepared.params["guidance_scale"],
        )
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
            run = functools.partial(adapter.run, loaded.pipe, kwargs, prepared.params)
            with recipe_scheduler(loaded.pipe, prepared.params):  # a recipe's scheduler for this call only
                output = self.planner.call(loaded, policy, run, prepared.adjustments)
        except GenerationCancelled:
            settle_interrupted(loaded.pipe)
            raise
        except (RuntimeError, ValueError, IndexError) as exc:
            raise pipeline_failure(exc, loaded, prepared.params) from exc
        finally:
            if cache.applied != "off":  # the next job starts from a clean cache state, or none
                set_step_cache(loaded.pipe, StepCacheSetting(), support=get_spec(family).step_caches, task=task)
        if should_cancel():  # asked while the VAE was decoding: still no video is written
            raise GenerationCancelled("cancelled during decoding")
        if clock.current != "decoding":
            clock.start("decoding")
        frames = adapter.extract_frames(output)
        soundtrack = adapter.extract_audio(output, loaded.pipe, prepared.params)  # None: a silent video
        measured = self._measured(clock, plan, family, task, policy.dtype)

        audio = {"audio_codec": "aac", **soundtrack.describe()} if soundtrack else {}
        fps, size, outputs = prepared.params["fps"], 0, {}
        try:
            if output_path is not None:
                clock.start("encoding", detail={"codec": "h264", "pix_fmt": "yuv420p", **audio})
                size = write_mp4(frames, output_path, fps, audio=soundtrack)
                # The thumbnail, spritesheet and animated preview, timed as a stage of their own.
                clock.start("outputs", detail={"variants": list(PICTURE_VARIANTS)})
                outputs = write_outputs(frames, output_path, fps)
        except BaseException:
            # A job that fails here leaves no file: no temporary, no MP4 without its pictures.
            # (A full disk is already a StorageFullError: write_mp4 and write_outputs map it.)
            if output_path is not None:
                remove_outputs(output_path)
            raise
        clock.done()
        return GenerationResult(
            output_path=str(output_path or ""),
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
            outputs=outputs,
            estimate=plan.model_dump() if plan else None,
            measured=measured,
        )

    def _measured(self, clock: StageClock, plan: JobPlan | None, family: str, task: str, dtype: str) -> dict[str, Any]:
        """The pipeline call's measured figures beside the estimate; the replica's throughput is refitted with them.
        The decoding stage is still running here (the frames were just extracted): it counts until now."""
        now = time.time()
        spent = {s.name: s.seconds if s.seconds is not None else now - s.started_at for s in clock.stages}
        denoise, decode = spent.get("denoising", 0.0), spent.get("decoding", 0.0)
        seconds = denoise + decode
        learned = self.planner.learn(family, task, plan, denoise, decode, self.profile, dtype)
        out: dict[str, Any] = {"pipeline_seconds": round(seconds, 4)}
        if plan is not None:
            out["achieved_flops_per_s"] = plan.estimate.total_flops / seconds if seconds > 0 else None
            out["expected_seconds"] = plan.estimate.expected_seconds
        if learned is not None:
            out["throughput"] = learned.model_dump()
        if self.profile.backend in ("cuda", "rocm"):
            import torch

            out["peak_memory_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        return out


def _warm_up_request(family: str, task: str, meta: ModelMeta) -> VideoRequest:
    """The one warm-up job (compile at warm-up and the throughput measurement): 2 steps at the model's default
    shape, with plain stand-ins for the task's inputs (a clip as long as a default job: the job keeps that shape)."""
    defaults = {**get_spec(family).defaults.model_dump(), **meta.request_defaults}
    media = warm_up_media(task, int(defaults["num_frames"]), int(defaults["fps"]))
    return VideoRequest(family=family, task=task, prompt="warm-up", seed=0, num_inference_steps=2, **media)
