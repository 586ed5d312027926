"""HunyuanVideo adapter: HunyuanVideoPipeline / HunyuanVideoImageToVideoPipeline / HunyuanVideoFramepackPipeline.

``guidance_scale`` is the transformer's embedded guidance, and the i2v pipeline's dropped conditioning frames
are in the spec (``frames_dropped``). FramePack runs first-last-frame, and image-to-video on a FramePack checkpoint
(the first frame alone): it returns whole sections, whatever ``num_frames`` was, so the job's ``num_frames`` is
settled on FramePack's own frame rule (``framepack.frame_rule``, through ``model_limits``), the video keeps every
frame, and the pipeline gets the ``num_frames`` that picks that many sections (``framepack.py``), with FramePack's
window and sampling.
"""

from __future__ import annotations

from typing import Any

from videogen.video import model_limits
from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.hunyuan_video import framepack
from videogen.video.families.hunyuan_video.spec import FRAMEPACK, SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import Adjustment, VideoRequest


class HunyuanVideoAdapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        prepared = super().resolve_params(request, meta)
        if model_limits.pipeline_class(SPEC, request.task, meta) == FRAMEPACK:
            _settle_sections(prepared)
        return prepared

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        if "sections" not in params:  # settled for FramePack only
            return {}
        return {
            # num_frames only picks the section count: this one gives exactly params["num_frames"] frames
            "num_frames": framepack.pipeline_num_frames(params["num_frames"]),
            "latent_window_size": framepack.LATENT_WINDOW_SIZE,
            # the only sampling that takes a last_image, and FramePackI2V_HY's with or without one
            "sampling_type": framepack.SAMPLING_TYPE,
        }

    def family_adjustments(self, request: VideoRequest) -> list[Adjustment]:
        # The pipelines only read negative_prompt with true CFG (true_cfg_scale > 1), which doubles
        # the compute of this already heavy model; we leave it off and say so instead of ignoring it silently.
        if not request.negative_prompt:
            return []
        return [
            Adjustment(
                field="negative_prompt",
                requested=request.negative_prompt,
                used=None,
                reason="HunyuanVideo uses embedded guidance; a negative prompt is not applied",
            )
        ]


def _settle_sections(prepared: PreparedInputs) -> None:
    """FramePack's ``num_frames`` (already on its frame rule) is the video's: no frame is dropped; count its sections,
    and every section's steps in the progress."""
    params = prepared.params
    sections = framepack.sections(framepack.pipeline_num_frames(params["num_frames"]))
    params.update(expected_frames=params["num_frames"], sections=sections)
    # the scheduler runs all its steps once per section: the progress counts every one
    params["denoising_steps"] = sections * params["num_inference_steps"]
