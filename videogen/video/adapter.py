"""``VideoPipelineAdapter``: what every family adapter does over its diffusers pipeline.

The generic behaviour (defaults, frame/size rules from the spec, seeds, the image,
frame extraction) lives here once. A family adapter (``families/<family>/adapter.py``)
sets ``spec`` and overrides only what is really its own: ``family_call_kwargs`` for
pipeline arguments, ``family_adjustments`` for values it will not use as asked,
``load`` for unusual checkpoints.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from videogen.errors import InvalidRequestError, UnsupportedTaskError
from videogen.video import model_limits
from videogen.video.lora_config import settle_loras
from videogen.video.model_meta import ModelMeta
from videogen.video.recipes import pick_recipe
from videogen.video.request import FAMILY_FIELDS, Adjustment, VideoRequest
from videogen.video.soundtrack import Soundtrack, soundtrack_of
from videogen.video.spec import TASK_INPUTS, FrameRule, VideoModelSpec
from videogen.video.stage_clock import call_pipeline
from videogen.video.task_media import SettledMedia, decode_request_clip, refuse_unused, settle_media
from videogen.video.video_to_video import DEFAULT_STRENGTH, clip_frames


def diffusers_pipeline_class(spec: VideoModelSpec, task: str, name: str | None = None):
    """The diffusers class ``spec`` names for ``task`` (``name``: the class a checkpoint runs it with, see
    ``VideoModelSpec.pipeline_class_for``), looked up at run time (never an import error)."""
    spec.check_task(task)
    name = name or spec.pipeline_classes[task]
    import diffusers

    cls = getattr(diffusers, name, None)
    if cls is None:
        raise UnsupportedTaskError(
            f"the installed diffusers has no {name}; upgrade diffusers to use {task} with {spec.id}",
            family=spec.id,
            task=task,
        )
    return cls


@dataclass
class PreparedInputs:
    """Pipeline kwargs for one request, the values actually used and what was moved."""

    kwargs: dict[str, Any]
    params: dict[str, Any]
    adjustments: list[Adjustment] = field(default_factory=list)
    # every medium the task takes, decoded and conformed once by ``resolve_params`` (``task_media``)
    media: SettledMedia = field(default_factory=SettledMedia)

    @property
    def image(self):
        return self.media.image

    @property
    def video(self):
        return self.media.video

    @property
    def expected_frames(self) -> int:
        return self.params["expected_frames"]

    def at_least_steps(self, minimum: int, why: str) -> None:
        """Move a step count the family's scheduler cannot run (below ``minimum``) up to it, and say ``why``."""
        steps = self.params["num_inference_steps"]
        if steps < minimum:
            self.params["num_inference_steps"] = minimum
            reason = f"{why}: {minimum} steps at least"
            self.adjustments.append(
                Adjustment(field="num_inference_steps", requested=steps, used=minimum, reason=reason)
            )


class VideoPipelineAdapter:
    """Base adapter; a family adapter sets ``spec`` and overrides hooks as needed."""

    spec: ClassVar[VideoModelSpec]
    # video-to-video: the strength a request without one runs at (a model's videogen.json may say otherwise)
    default_strength: ClassVar[float] = DEFAULT_STRENGTH
    # Whether the family has models with a second, low-noise denoiser expert (``guidance_scale_2``; Wan 2.2 A14B)
    has_two_expert_models: ClassVar[bool] = False
    # Whether the family has models with a 2x latent upsampler a request's ``latent_upscale`` runs (LTX-Video)
    has_latent_upsampler_models: ClassVar[bool] = False

    @property
    def family(self) -> str:
        return self.spec.id

    # -- loading ---------------------------------------------------------
    def pipeline_class(self, task: str):
        """The diffusers class for ``task``, resolved at run time (never an import error)."""
        return diffusers_pipeline_class(self.spec, task)

    def checkpoint_pipeline_class(self, task: str, model_dir: Path):
        """The class that runs ``task`` on the checkpoint in ``model_dir``: its own where the family says it serves
        the task (a FramePack checkpoint's image-to-video), else the family's."""
        index = Path(model_dir) / "model_index.json"
        checkpoint_class = json.loads(index.read_text()).get("_class_name") if index.is_file() else None
        return diffusers_pipeline_class(self.spec, task, self.spec.pipeline_class_for(task, checkpoint_class))

    def load(self, task: str, model_dir: Path, torch_dtype, **load_kwargs):
        """Load from a local directory: safetensors only, no remote code, no network. ``load_kwargs``: what
        ``videogen.video.quantize.load_kwargs`` adds (a quantization config, or a denoiser read from a GGUF file)."""
        cls = self.checkpoint_pipeline_class(task, model_dir)
        return cls.from_pretrained(
            str(model_dir), dtype=torch_dtype, use_safetensors=True, local_files_only=True, **load_kwargs
        )

    def model_unavailable_reason(self, task: str, model_dir: Path) -> str | None:
        """Why the model in ``model_dir`` cannot run ``task``, which the family offers, read from its files before
        anything loads (AnimateDiff's control-to-video without a ControlNet); None when nothing is missing. The loader
        refuses such a model for the task, and ``videogen models`` shows the task not supported on it, with this."""
        return None

    # -- inputs ------------------------------------------------------------
    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        """Validate a request and settle every value, without a pipeline or torch.

        The ingress calls this to refuse bad input before a job is queued; the worker calls it
        once per job, before loading, and hands the result to ``prepare_inputs``.
        """
        spec = self.spec
        meta = meta or ModelMeta()
        task = request.task
        spec.check_task(task)
        recipe = pick_recipe(request.recipe, meta.recipes)  # its values replace the defaults; the request's win
        defaults = {
            **spec.defaults.model_dump(),
            **meta.request_defaults,
            **(recipe.request_defaults() if recipe else {}),
        }
        adjustments: list[Adjustment] = []

        def pick(name: str):
            value = getattr(request, name)
            return defaults[name] if value is None else value

        refuse_unused(request, task, spec)  # an input the task does not take is refused, never silently ignored
        loras = settle_loras(request.loras, meta.loras, recipe.loras if recipe else ())  # declared names only
        if request.guidance_scale_2 is not None and not self.has_two_expert_models:
            raise InvalidRequestError(
                "guidance_scale_2", f"is the low-noise expert's guidance; no {self.family} model has two experts"
            )
        if request.latent_upscale and not self.has_latent_upsampler_models:
            raise InvalidRequestError(
                "latent_upscale", f"runs a model's 2x latent upsampler; no {self.family} model has one", allowed=[False]
            )
        if request.with_audio and not spec.audio:
            raise InvalidRequestError("with_audio", f"{self.family} generates no sound", allowed=[False])
        for name in FAMILY_FIELDS:  # a family's own knobs (SkyReels-V2's diffusion forcing), refused elsewhere
            if getattr(request, name) is not None and name not in spec.request_fields:
                raise InvalidRequestError(name, f"is not a {self.family} request field", allowed=None)
        # A task with an input clip follows the clip's own length when the request names no frame count; a clip the
        # job continues (``spec.continues_clip``) is kept at its own length whatever the new video's is.
        follow_clip = "video" in TASK_INPUTS[task] and (request.num_frames is None or spec.continues_clip)
        # the model's own frames and size grid where it has them (a FramePack checkpoint, Wan 2.2 TI2V's /32)
        rule = model_limits.frame_rule(spec, task, meta)
        num_frames = None if follow_clip else self._check_frames(pick("num_frames"), adjustments, rule)
        height = self._check_size("height", pick("height"), adjustments, meta)
        width = self._check_size("width", pick("width"), adjustments, meta)
        clip = decode_request_clip(request, task)  # after the cheap checks: ffmpeg runs once
        if follow_clip:
            num_frames = self._check_frames(clip_frames(clip, int(pick("fps")), rule), adjustments, rule)
        params = {
            "num_frames": num_frames,
            "height": height,
            "width": width,
            "num_inference_steps": int(pick("num_inference_steps")),
            "guidance_scale": float(pick("guidance_scale")),
            "seed": request.seed if request.seed is not None else int(np.random.SeedSequence().entropy % 2**32),
            "fps": int(pick("fps")),
            "expected_frames": spec.output_frames(task, num_frames),
        }
        if spec.audio:  # whether the MP4 carries the soundtrack (the pipeline makes it either way)
            params["with_audio"] = request.with_audio is not False
        if recipe is not None:  # what the worker swaps in for the call (``recipes.recipe_scheduler``)
            params["recipe"] = request.recipe
            params.update(recipe.model_dump(include={"scheduler", "flow_shift"}, exclude_none=True))
        media = settle_media(
            request,
            clip,
            params,
            family=self.family,
            frame_rule=rule,
            default_strength=meta.request_defaults.get("strength", self.default_strength),
            spec=spec,
        )
        del clip  # the decoded source: only the conformed frames are kept
        params.update(media.params)
        if loras:  # what the worker loads and applies (``videogen.video.loras``), and the job says it ran with
            params["loras"] = loras
        adjustments.extend(media.adjustments)
        if spec.continues_clip and follow_clip:  # the job's frames are the new video's, which follows the clip
            new = request.num_frames
            frames = (
                rule.nearest(int(pick("num_frames"))) if new is None else self._check_frames(new, adjustments, rule)
            )
            params.update(num_frames=frames, expected_frames=spec.output_frames(task, frames))
        adjustments.extend(self.family_adjustments(request))
        return PreparedInputs(kwargs={}, params=params, adjustments=adjustments, media=media)

    def prepare_inputs(
        self, request: VideoRequest, pipe, meta: ModelMeta | None = None, settled: PreparedInputs | None = None
    ) -> PreparedInputs:
        """Turn one request into pipeline kwargs, moving values to valid ones. ``settled``: what
        ``resolve_params`` already made of this request with ``meta`` (it is not resolved again)."""
        import torch

        meta = meta or ModelMeta()
        prepared = settled if settled is not None else self.resolve_params(request, meta)
        params = prepared.params
        kwargs: dict[str, Any] = {
            "prompt": request.prompt,
            "num_frames": params["num_frames"],
            "height": params["height"],
            "width": params["width"],
            "num_inference_steps": params["num_inference_steps"],
            "guidance_scale": params["guidance_scale"],
            "generator": torch.Generator(device="cpu").manual_seed(params["seed"]),
            "output_type": "np",
        }
        if request.negative_prompt:
            kwargs["negative_prompt"] = request.negative_prompt
        kwargs.update(self.media_kwargs(request.task, prepared.media, params))
        kwargs.update(self.family_call_kwargs(request.task, pipe, params))
        kwargs.update(meta.call_kwargs)
        accepted = inspect.signature(pipe.__call__).parameters
        prepared.kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        return prepared

    def run(self, pipe, kwargs: dict[str, Any], params: dict[str, Any]) -> Any:
        """One job's pipeline call: ``kwargs`` from ``prepare_inputs`` with the worker's step callback. A family whose
        job is more than one call overrides it (LTX-Video's latent upscale: two passes around its upsampler)."""
        return call_pipeline(pipe, kwargs)

    def media_kwargs(self, task: str, media: SettledMedia, params: dict[str, Any]) -> dict[str, Any]:
        """The settled media as pipeline kwargs, under the names diffusers' pipelines share (``image``,
        ``last_image``, ``video`` + ``strength``, ``mask``, ``reference_images``, ``conditioning_scale``). A family
        whose pipeline names them otherwise (LTX's conditions) overrides this."""
        size = (params["width"], params["height"])
        kwargs: dict[str, Any] = {}
        if media.image is not None:
            kwargs["image"] = media.image.resize(size)
        if media.last_image is not None:
            kwargs["last_image"] = media.last_image.resize(size)
        if media.video is not None:  # sized and timed by resolve_params: the output follows it
            kwargs["video"] = media.video
        for name in ("mask", "reference_images"):
            if getattr(media, name) is not None:
                kwargs[name] = getattr(media, name)
        for name in ("strength", "conditioning_scale"):
            if name in params:
                kwargs[name] = params[name]
        return kwargs

    def family_adjustments(self, request: VideoRequest) -> list[Adjustment]:
        """Request values this family accepts but will not use as asked. Override in a family adapter."""
        return []

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        """Extra pipeline kwargs this family needs. Override in a family adapter."""
        return {}

    def _check_frames(self, frames: int, adjustments: list[Adjustment], rule: FrameRule) -> int:
        whose = self.family if rule == self.spec.frame_rule else f"this {self.family} model"
        why = f"{rule.reason}: {rule.describe()}" if rule.reason else f"{whose} needs {rule.describe()} frames"
        if not rule.min_frames <= frames <= rule.max_frames:
            raise InvalidRequestError(
                "num_frames",
                f"{frames} is outside {whose}'s range {rule.describe()}",
                allowed={"min": rule.min_frames, "max": rule.max_frames},
            )
        used = rule.nearest(frames)
        if used != frames:
            adjustments.append(
                Adjustment(
                    field="num_frames",
                    requested=frames,
                    used=used,
                    reason=why,
                )
            )
        return used

    def _check_size(self, name: str, value: int, adjustments: list[Adjustment], meta: ModelMeta) -> int:
        spec = self.spec
        min_size, m = model_limits.min_size(spec, meta), model_limits.size_multiple(spec, meta)
        if not min_size <= value <= spec.max_size:
            raise InvalidRequestError(
                name,
                f"{value} is outside {self.family}'s range {min_size}..{spec.max_size}",
                allowed={"min": min_size, "max": spec.max_size},
            )
        used = max(
            min_size, min(spec.max_size - spec.max_size % m, int(value / m + 0.5) * m)
        )  # ties round up, like frames
        if used != value:
            why = (
                f"{self.family} needs a multiple of {m}"
                if m == spec.resolution_multiple
                else f"this {self.family} model needs a multiple of {m} (its VAE's spatial compression x its "
                "transformer's patch)"
            )
            adjustments.append(Adjustment(field=name, requested=value, used=used, reason=why))
        return used

    # -- outputs -----------------------------------------------------------
    def extract_audio(self, output, pipe, params: dict[str, Any]) -> Soundtrack | None:
        """The soundtrack the MP4 carries: the pipeline's ``audio`` at its vocoder's rate for a family with sound
        (``spec.audio``) when the job keeps it (``with_audio``); None otherwise."""
        audio = getattr(output, "audio", None)
        if not params.get("with_audio") or audio is None:
            return None
        return soundtrack_of(audio, pipe.vocoder.config.output_sampling_rate)

    def extract_frames(self, output) -> np.ndarray:
        """Pipeline output -> uint8 frames ``[F, H, W, 3]``."""
        frames = getattr(output, "frames", output)
        if isinstance(frames, (list, tuple)):
            frames = (
                frames[0]
                if frames and isinstance(frames[0], (list, tuple, np.ndarray)) or _is_torch(frames[0])
                else frames
            )
            if isinstance(frames, (list, tuple)):
                frames = np.stack([np.asarray(f) for f in frames])
        if _is_torch(frames):
            frames = frames.detach().float().cpu().numpy()
        frames = np.asarray(frames)
        if frames.ndim == 5:
            frames = frames[0]
        if frames.ndim != 4:
            raise ValueError(f"unexpected frame array shape {frames.shape}")
        if frames.shape[-1] not in (1, 3, 4) and frames.shape[1] in (1, 3, 4):
            frames = frames.transpose(0, 2, 3, 1)
        if frames.dtype != np.uint8:
            frames = np.clip(np.rint(frames.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
        if frames.shape[-1] == 1:
            frames = np.repeat(frames, 3, axis=-1)
        return np.ascontiguousarray(frames[..., :3])


def _is_torch(value) -> bool:
    return type(value).__module__.startswith("torch")
