"""HunyuanVideo adapter: HunyuanVideoPipeline / HunyuanVideoImageToVideoPipeline.

Nothing beyond the generic kwargs: ``guidance_scale`` is the transformer's embedded
guidance, and the i2v pipeline's dropped conditioning frames are in the spec
(``frames_dropped``).
"""

from __future__ import annotations

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.hunyuan_video.spec import SPEC
from videogen.video.request import Adjustment, VideoRequest


class HunyuanVideoAdapter(VideoPipelineAdapter):
    spec = SPEC

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
