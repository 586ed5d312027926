"""LTX-2 adapter: LTX2Pipeline / LTX2ImageToVideoPipeline, and LTX2ConditionPipeline for keyframes
(``keyframes.py``: where LTX-2 places a condition, and how the settled media become that pipeline's conditions); a
request's ``latent_upscale`` runs any task in two stages around the model's latent upsampler (``upscale.py``).

What is this family's own:

- the call runs LTX-2.0 as diffusers documents it (the ``__call__`` docstrings): classifier-free guidance at the job's
  scale for picture and sound alike, no spatio-temporal guidance, no modality-isolation guidance, no guidance rescale,
  the legacy (2.0) cross-attention timestep. The pipelines' own defaults are LTX-2.3's, which add two more transformer
  passes a step; the cost model prices the one batched CFG pass these settings run (``cost.py``);
- the frame rate goes in as ``frame_rate``: the RoPE positions of the video and the audio's length follow it;
- image-to-video's first frame is H.264-compressed as in training (``image_crf.py``);
- at least ``MIN_STEPS`` steps: the scheduler stretches its sigmas to a terminal value (``shift_terminal``), which a
  one-step schedule has no room for (0/0: NaN latents), so one step is moved to two, and said;
- the soundtrack: the pipeline returns it beside the frames (``extract_audio`` of the base adapter, at the vocoder's
  rate); the MP4 carries it unless the job's ``with_audio`` is false.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.ltx2 import image_crf, keyframes, upscale
from videogen.video.families.ltx2.spec import SPEC
from videogen.video.families.ltx_video import upscale as shared_upscale
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.spec import IMAGE_TO_VIDEO, KEYFRAMES
from videogen.video.task_media import record_conditioning

# LTX-2.0's guidance: CFG only (the pipelines' docstrings; None: the audio takes the video's value)
LTX20_GUIDANCE: dict[str, Any] = {
    "stg_scale": 0.0,
    "modality_scale": 1.0,
    "guidance_rescale": 0.0,
    "audio_guidance_scale": None,
    "audio_stg_scale": None,
    "audio_modality_scale": None,
    "audio_guidance_rescale": None,
    "spatio_temporal_guidance_blocks": None,
    "use_cross_timestep": False,
}


MIN_STEPS = 2


class LTX2Adapter(VideoPipelineAdapter):
    spec = SPEC
    has_latent_upsampler_models = True  # Lightricks/LTX-2's latent_upsampler (its two-stage generation)

    def load(self, task: str, model_dir: Path, torch_dtype, **load_kwargs):
        pipe = super().load(task, model_dir, torch_dtype, **load_kwargs)
        # for latent_upscale, when the directory has one
        shared_upscale.attach_upsampler(pipe, model_dir, torch_dtype, upscale.UPSAMPLER_CLASS)
        return pipe

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        meta = meta or ModelMeta()
        if request.latent_upscale:  # sizes checked and media conformed on the doubled grid the output needs
            shared_upscale.refuse_without_upsampler(meta)
            meta = shared_upscale.job_meta(self.spec, meta)
        prepared = super().resolve_params(request, meta)
        if request.latent_upscale:
            upscale.settle(prepared.params, prepared.adjustments, meta)
        prepared.at_least_steps(MIN_STEPS, "LTX-2's scheduler stretches its schedule to a terminal sigma")
        if request.task == KEYFRAMES:  # a condition after frame 0 starts on LTX-2's latent grid (keyframes.py)
            prepared.adjustments.extend(keyframes.place_on_keyframe_grid(prepared.media.conditions or []))
            record_conditioning(prepared.media, prepared.params)  # priced where it now starts
        return prepared

    def prepare_inputs(
        self, request: VideoRequest, pipe, meta: ModelMeta | None = None, settled: PreparedInputs | None = None
    ) -> PreparedInputs:
        if request.latent_upscale:
            shared_upscale.upsampler_of(pipe)  # a model not known to lack one at the ingress: refused before the call
        prepared = super().prepare_inputs(request, pipe, meta, settled)
        if request.task in (IMAGE_TO_VIDEO, KEYFRAMES):
            from diffusers.pipelines.ltx2.utils import resolve_default_image_crf

            crf = resolve_default_image_crf(pipe.text_encoder)  # the text encoder's generation's (Gemma-3: 33)
            if request.task == IMAGE_TO_VIDEO:
                prepared.kwargs["image"] = image_crf.compress(prepared.kwargs["image"], crf)
            else:  # LTX2ConditionPipeline takes its images and clips as conditions at latent indices
                prepared.kwargs["conditions"] = keyframes.ltx2_conditions(prepared.media.conditions or [], crf)
        return prepared

    def run(self, pipe, kwargs: dict[str, Any], params: dict[str, Any]) -> Any:
        if params.get("latent_upscale"):
            return upscale.run(pipe, kwargs, params)
        return super().run(pipe, kwargs, params)

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"frame_rate": float(params["fps"]), **LTX20_GUIDANCE}
        if task == IMAGE_TO_VIDEO:
            kwargs["image_crf"] = 0  # compressed here already (prepare_inputs)
        return kwargs
