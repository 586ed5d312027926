"""Mochi 1 adapter: ``MochiPipeline`` (text-to-video).

What is this family's own: its frames are 6k+1 (the VAE decodes L latent frames to 6(L-1)+1), a grid no other family
has. A request's ``num_frames`` off it is moved to the nearest count and said, as everywhere; a default length off it
(one a model directory's ``videogen.json`` carries, such as every tiny model's 9 frames) is the model's, not the
request's, so it runs at the nearest count on the grid without an adjustment, and the job's params say what ran.
The pipeline computes Genmo's linear-quadratic sigma schedule, whose linear half is ``steps // 2`` steps and divides by
it: one step would raise ZeroDivisionError, so a request for 1 is moved to ``MIN_STEPS`` and said. Everything else is
the shared adapter's: the pipeline takes ``guidance_scale`` (CFG above 1, both branches as one batch) and the worker's
step callback.
"""

from __future__ import annotations

from videogen.video import model_limits
from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.mochi.spec import SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest

MIN_STEPS = 2


class MochiAdapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        prepared = super().resolve_params(request, default_frames_on_grid(request, meta or ModelMeta()))
        prepared.at_least_steps(MIN_STEPS, "Mochi's linear-quadratic schedule divides by its linear half")
        return prepared


def default_frames_on_grid(request: VideoRequest, meta: ModelMeta) -> ModelMeta:
    """``meta`` with its default ``num_frames`` moved onto the family's frame grid when the request names none."""
    default = meta.request_defaults.get("num_frames")
    if request.num_frames is not None or default is None or request.task not in SPEC.pipeline_classes:
        return meta
    rule = model_limits.frame_rule(SPEC, request.task, meta)
    used = rule.nearest(int(default))
    if used == default:
        return meta
    return meta.model_copy(update={"request_defaults": {**meta.request_defaults, "num_frames": used}})
