"""HunyuanVideo adapter: HunyuanVideoPipeline / HunyuanVideoImageToVideoPipeline.

Nothing beyond the generic kwargs: ``guidance_scale`` is the transformer's embedded
guidance, and the i2v pipeline's dropped conditioning frames are in the spec
(``frames_dropped``).
"""

from __future__ import annotations

from videogen.video.adapters.base import VideoPipelineAdapter


class Adapter(VideoPipelineAdapter):
    family = "hunyuan-video"
