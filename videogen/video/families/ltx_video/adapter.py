"""LTX-Video adapter: LTXPipeline / LTXImageToVideoPipeline, and LTXConditionPipeline for keyframes and
video-to-video (``conditions.py``: how the settled media become that pipeline's arguments)."""

from __future__ import annotations

from typing import Any

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.ltx_video import conditions
from videogen.video.families.ltx_video.spec import SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.spec import KEYFRAMES, VIDEO_TO_VIDEO
from videogen.video.task_media import SettledMedia

# Lightricks' recommended decode settings for checkpoints whose VAE is timestep-conditioned
# (LTX-Video 0.9.1 and later); ignored by the pipeline when the VAE is not.
DECODE_TIMESTEP = 0.03
DECODE_NOISE_SCALE = 0.025
_CONDITION_TASKS = (KEYFRAMES, VIDEO_TO_VIDEO)


class LTXVideoAdapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        prepared = super().resolve_params(request, meta)
        if request.task == KEYFRAMES:  # a clip starts on LTX's latent grid (conditions.py says why it is moved)
            prepared.adjustments.extend(conditions.place_on_latent_grid(prepared.media.conditions or []))
        return prepared

    def prepare_inputs(
        self, request: VideoRequest, pipe, meta: ModelMeta | None = None, settled: PreparedInputs | None = None
    ) -> PreparedInputs:
        if request.task in _CONDITION_TASKS:
            conditions.refuse_old_scheduler(pipe, request.task)
        prepared = super().prepare_inputs(request, pipe, meta, settled)
        if request.task == VIDEO_TO_VIDEO:  # the clip enters as the latents the pipeline noises to denoise_strength
            params = prepared.params
            prepared.kwargs["latents"] = conditions.clip_latents(
                pipe, prepared.media.video, params["height"], params["width"]
            )
        return prepared

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
