"""HunyuanVideo adapter: HunyuanVideoPipeline / HunyuanVideoImageToVideoPipeline / HunyuanVideoFramepackPipeline.

``guidance_scale`` is the transformer's embedded guidance, and the i2v pipeline's dropped conditioning frames
are in the spec (``frames_dropped``). First-last-frame (FramePack) returns whole sections, whatever
``num_frames`` was: the job's ``num_frames`` moves to the count it returns and the pipeline gets the
``num_frames`` that picks that many sections (``framepack.py``), with FramePack's window and sampling.
"""

from __future__ import annotations

from typing import Any

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.hunyuan_video import framepack
from videogen.video.families.hunyuan_video.spec import SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import Adjustment, VideoRequest
from videogen.video.spec import FIRST_LAST_FRAME

FRAMEPACK_FRAMES = framepack.frame_rule(SPEC.frame_rule)


class HunyuanVideoAdapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        prepared = super().resolve_params(request, meta)
        if request.task == FIRST_LAST_FRAME:
            _settle_sections(prepared)
        return prepared

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        if task != FIRST_LAST_FRAME:
            return {}
        return {
            # num_frames only picks the section count: this one gives exactly params["num_frames"] frames
            "num_frames": framepack.pipeline_num_frames(params["num_frames"]),
            "latent_window_size": framepack.LATENT_WINDOW_SIZE,
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
    """Move ``num_frames`` to the nearest count FramePack returns (36k+1), merged into any move already made, and
    count every section's steps in the progress."""
    params = prepared.params
    asked = params["num_frames"]
    used = FRAMEPACK_FRAMES.nearest(asked)
    if used != asked:
        earlier = [a for a in prepared.adjustments if a.field == "num_frames"]
        requested = earlier[0].requested if earlier else asked
        prepared.adjustments[:] = [a for a in prepared.adjustments if a.field != "num_frames"]
        prepared.adjustments.insert(
            0,
            Adjustment(
                field="num_frames",
                requested=requested,
                used=used,
                reason=f"FramePack returns whole sections of {framepack.frames_per_section()} frames plus the "
                f"first: {FRAMEPACK_FRAMES.describe()}",
            ),
        )
    sections = framepack.sections(framepack.pipeline_num_frames(used))
    params.update(num_frames=used, expected_frames=used, sections=sections)
    # the scheduler runs all its steps once per section: the progress counts every one
    params["denoising_steps"] = sections * params["num_inference_steps"]
