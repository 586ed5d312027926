"""LTX-Video adapter: LTXPipeline / LTXImageToVideoPipeline, and LTXConditionPipeline for keyframes and
video-to-video (``conditions.py``: how the settled media become that pipeline's arguments); a request's
``latent_upscale`` runs any task as two passes around the model's latent upsampler (``upscale.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.ltx_video import conditions, upscale
from videogen.video.families.ltx_video.spec import SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.spec import KEYFRAMES, VIDEO_TO_VIDEO
from videogen.video.task_media import SettledMedia, record_conditioning

# Lightricks' recommended decode settings for checkpoints whose VAE is timestep-conditioned
# (LTX-Video 0.9.1 and later); ignored by the pipeline when the VAE is not.
DECODE_TIMESTEP = 0.03
DECODE_NOISE_SCALE = 0.025
_CONDITION_TASKS = (KEYFRAMES, VIDEO_TO_VIDEO)


class LTXVideoAdapter(VideoPipelineAdapter):
    spec = SPEC
    has_latent_upsampler_models = True  # LTX-Video 0.9.7 and later (Lightricks' spatial upscaler)

    def load(self, task: str, model_dir: Path, torch_dtype, **load_kwargs):
        pipe = super().load(task, model_dir, torch_dtype, **load_kwargs)
        upscale.attach_upsampler(pipe, model_dir, torch_dtype)  # for latent_upscale, when the directory has one
        return pipe

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        meta = meta or ModelMeta()
        if request.latent_upscale:  # sizes checked and media conformed on the doubled grid the output needs
            upscale.refuse_without_upsampler(meta)
            meta = upscale.job_meta(self.spec, meta)
        prepared = super().resolve_params(request, meta)
        if request.latent_upscale:
            upscale.settle(prepared.params, prepared.adjustments, meta)
        if request.task == KEYFRAMES:  # a clip starts on LTX's latent grid (conditions.py says why it is moved)
            prepared.adjustments.extend(conditions.place_on_latent_grid(prepared.media.conditions or []))
            record_conditioning(prepared.media, prepared.params)  # priced where it now starts (0 adds no tokens)
        return prepared

    def prepare_inputs(
        self, request: VideoRequest, pipe, meta: ModelMeta | None = None, settled: PreparedInputs | None = None
    ) -> PreparedInputs:
        if request.task in _CONDITION_TASKS or request.latent_upscale:
            runs = request.task if request.task in _CONDITION_TASKS else f"{request.task} with {upscale.FIELD}"
            conditions.refuse_old_scheduler(pipe, runs)
        if request.latent_upscale:
            upscale.upsampler_of(pipe)  # a model not known to lack one at the ingress: refused before the call
        prepared = super().prepare_inputs(request, pipe, meta, settled)
        params = prepared.params
        if request.task == VIDEO_TO_VIDEO:
            # the clip enters as the latents the pipeline noises to denoise_strength (the first pass's, when upscaled)
            size = "first_pass_" if request.latent_upscale else ""
            prepared.kwargs["latents"] = conditions.clip_latents(
                pipe, prepared.media.video, params[f"{size}height"], params[f"{size}width"]
            )
        return prepared

    def run(self, pipe, kwargs: dict[str, Any], params: dict[str, Any]) -> Any:
        if params.get("latent_upscale"):
            return upscale.run(pipe, kwargs, params)
        return super().run(pipe, kwargs, params)

    def media_kwargs(self, task: str, media: SettledMedia, params: dict[str, Any]) -> dict[str, Any]:
        # LTXConditionPipeline's ``video`` and ``strength`` are a *condition's* clip and strength: the generic names
        # would turn a video-to-video clip into a hard condition. Its edit strength is ``denoise_strength``.
        if task == KEYFRAMES:
            return {"conditions": conditions.ltx_conditions(media.conditions or [])}
        if task == VIDEO_TO_VIDEO:
            return {"denoise_strength": params["strength"]}
        return super().media_kwargs(task, media, params)

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        # LTX conditions its RoPE on the frame rate: pass the fps the video will be written at.
        kwargs: dict[str, Any] = {"frame_rate": params["fps"]}
        vae_config = getattr(getattr(pipe, "vae", None), "config", None)
        if getattr(vae_config, "timestep_conditioning", False):
            kwargs["decode_timestep"] = DECODE_TIMESTEP
            kwargs["decode_noise_scale"] = DECODE_NOISE_SCALE
        return kwargs
