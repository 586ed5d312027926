"""Stable Video Diffusion adapter: ``StableVideoDiffusionPipeline`` (image-to-video).

What is this family's own:

- no text: the pipeline has no prompt argument (its unconditional branch is a zero image embedding), yet every request
  carries one (the API requires it). It is accepted and not used, and every job says so as an adjustment of
  ``prompt`` (and of ``negative_prompt`` when one is given), never silently;
- guidance is per frame: the pipeline ramps it linearly from ``min_guidance_scale`` (its 1.0) at the first frame to
  ``max_guidance_scale`` at the last, and runs the unconditional branch (both as one batch) when that is above 1.
  The request's ``guidance_scale`` is the last frame's;
- ``fps`` is micro-conditioning as well as the MP4's rate (the pipeline conditions on fps - 1, as SVD was trained);
- a model's trained length (14 or 25 frames, ``checkpoint.py``) is its default ``num_frames``.

``motion_bucket_id`` (127), ``noise_aug_strength`` (0.02) and ``decode_chunk_size`` (every frame at once) stay the
pipeline's own; a model directory's ``videogen.json`` ``call_kwargs`` may set them for its model.
"""

from __future__ import annotations

from typing import Any

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.stable_video_diffusion.checkpoint import with_trained_frames
from videogen.video.families.stable_video_diffusion.spec import SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import Adjustment, VideoRequest

NO_TEXT = "Stable Video Diffusion has no text encoder: it is conditioned on the image alone"


class StableVideoDiffusionAdapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        return super().resolve_params(request, with_trained_frames(meta or ModelMeta()))

    def family_adjustments(self, request: VideoRequest) -> list[Adjustment]:
        unused = [("prompt", request.prompt), ("negative_prompt", request.negative_prompt)]
        return [
            Adjustment(field=name, requested=value, used=None, reason=f"{NO_TEXT}; the {name} is not used")
            for name, value in unused
            if value
        ]

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        # the pipeline names neither guidance_scale nor a prompt: the shared kwargs of those names are dropped
        return {"max_guidance_scale": params["guidance_scale"], "fps": params["fps"]}
