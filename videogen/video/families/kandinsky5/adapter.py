"""Kandinsky 5 adapter: Kandinsky5T2VPipeline / Kandinsky5I2VPipeline.

What is this family's own:

- image-to-video needs ``I2V_MIN_LATENT_FRAMES`` latent frames (17 frames through the /4 VAE: the spec's frame rule
  for ``Kandinsky5I2VPipeline``): the pipeline renormalises its first four latent frames against the ones after them
  (``normalize_first_frame``), and with none after them every latent is NaN. A shorter request is refused naming
  ``num_frames``; a model whose default length is shorter (a tiny model's 9 frames) runs image-to-video at 17 when
  the request names no length;
- guidance: the pipelines run the unconditional pass only above 1.0 (a second transformer call), with their own
  negative prompt when the request has none.
"""

from __future__ import annotations

from videogen.video import model_limits
from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.kandinsky5.spec import SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.spec import IMAGE_TO_VIDEO


class Kandinsky5Adapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        meta = meta or ModelMeta()
        if request.task == IMAGE_TO_VIDEO and request.num_frames is None:
            least = model_limits.frame_rule(SPEC, IMAGE_TO_VIDEO, meta).min_frames
            default = int(meta.request_defaults.get("num_frames", SPEC.defaults.num_frames))
            if default < least:  # the model's default is its text-to-video length; image-to-video's least instead
                request = request.model_copy(update={"num_frames": least})
        return super().resolve_params(request, meta)
