"""``VideoPipelineAdapter``: what every family adapter does over its diffusers pipeline.

The generic behaviour (defaults, frame/size rules from the spec, seeds, the image,
frame extraction) lives here once. A family adapter (``families/<family>/adapter.py``)
sets ``spec`` and overrides only what is really its own: ``family_call_kwargs`` for
pipeline arguments, ``family_adjustments`` for values it will not use as asked,
``load`` for unusual checkpoints.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from videogen.errors import InvalidRequestError, UnsupportedTaskError
from videogen.video.model_meta import ModelMeta
from videogen.video.request import Adjustment, VideoRequest
from videogen.video.spec import TASK_INPUTS, VideoModelSpec
from videogen.video.task_media import SettledMedia, decode_request_clip, refuse_unused, settle_media
from videogen.video.video_to_video import DEFAULT_STRENGTH, clip_frames


def diffusers_pipeline_class(spec: VideoModelSpec, task: str):
    """The diffusers class ``spec`` names for ``task``, looked up at run time (never an import error)."""
    spec.check_task(task)
    name = spec.pipeline_classes[task]
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


class VideoPipelineAdapter:
    """Base adapter; a family adapter sets ``spec`` and overrides hooks as needed."""

    spec: ClassVar[VideoModelSpec]
    # video-to-video: the strength a request without one runs at (a model's videogen.json may say otherwise)
    default_strength: ClassVar[float] = DEFAULT_STRENGTH
    # Whether the family has models with a second, low-noise denoiser expert (``guidance_scale_2``; Wan 2.2 A14B)
    has_two_expert_models: ClassVar[bool] = False

    @property
    def family(self) -> str:
        return self.spec.id

    # -- loading ---------------------------------------------------------
    def pipeline_class(self, task: str):
        """The diffusers class for ``task``, resolved at run time (never an import error)."""
        return diffusers_pipeline_class(self.spec, task)

    def load(self, task: str, model_dir: Path, torch_dtype):
        """Load from a local directory: safetensors only, no remote code, no network."""
        cls = self.pipeline_class(task)
        return cls.from_pretrained(str(model_dir), dtype=torch_dtype, use_safetensors=True, local_files_only=True)

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
        defaults = {**spec.defaults.model_dump(), **meta.request_defaults}
        adjustments: list[Adjustment] = []

        def pick(name: str):
            value = getattr(request, name)
            return defaults[name] if value is None else value

        refuse_unused(request, task)  # an input the task does not take is refused, never silently ignored
        if request.guidance_scale_2 is not None and not self.has_two_expert_models:
            raise InvalidRequestError(
                "guidance_scale_2", f"is the low-noise expert's guidance; no {self.family} model has two experts"
            )
        # A task with an input clip follows the clip's own length when the request names no frame count.
        follow_clip = "video" in TASK_INPUTS[task] and request.num_frames is None
        num_frames = None if follow_clip else self._check_frames(pick("num_frames"), adjustments)
        # Tiny models generate far below a real model's minimum size: any positive multiple is fine.
        min_size = spec.resolution_multiple if meta.tiny else spec.min_size
        height = self._check_size("height", pick("height"), adjustments, min_size)
        width = self._check_size("width", pick("width"), adjustments, min_size)
        clip = decode_request_clip(request, task)  # after the cheap checks: ffmpeg runs once
        if follow_clip:
            num_frames = self._check_frames(clip_frames(clip, int(pick("fps")), spec.frame_rule), adjustments)
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
        media = settle_media(
            request,
            clip,
            params,
            family=self.family,
            frame_rule=spec.frame_rule,
            default_strength=meta.request_defaults.get("strength", self.default_strength),
        )
        del clip  # the decoded source: only the conformed frames are kept
        params.update(media.params)
        adjustments.extend(media.adjustments)
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

    def _check_frames(self, frames: int, adjustments: list[Adjustment]) -> int:
        rule = self.spec.frame_rule
        if not rule.min_frames <= frames <= rule.max_frames:
            raise InvalidRequestError(
                "num_frames",
                f"{frames} is outside {self.family}'s range {rule.describe()}",
                allowed={"min": rule.min_frames, "max": rule.max_frames},
            )
        used = rule.nearest(frames)
        if used != frames:
            adjustments.append(
                Adjustment(
                    field="num_frames",
                    requested=frames,
                    used=used,
                    reason=f"{self.family} needs {rule.describe()} frames",
                )
            )
        return used

    def _check_size(self, name: str, value: int, adjustments: list[Adjustment], min_size: int) -> int:
        spec = self.spec
        if not min_size <= value <= spec.max_size:
            raise InvalidRequestError(
                name,
                f"{value} is outside {self.family}'s range {min_size}..{spec.max_size}",
                allowed={"min": min_size, "max": spec.max_size},
            )
        m = spec.resolution_multiple
        used = max(
            min_size, min(spec.max_size - spec.max_size % m, int(value / m + 0.5) * m)
        )  # ties round up, like frames
        if used != value:
            adjustments.append(
                Adjustment(field=name, requested=value, used=used, reason=f"{self.family} needs a multiple of {m}")
            )
        return used

    # -- outputs -----------------------------------------------------------
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
