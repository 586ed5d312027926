"""HunyuanVideo 1.5 adapter: HunyuanVideo15Pipeline / HunyuanVideo15ImageToVideoPipeline.

Three things are this family's own:

- guidance is a component, not an argument: the pipelines take no ``guidance_scale`` and run whatever their
  ``guider`` (``ClassifierFreeGuidance``) says, so each job's call runs with a guider of the job's scale, CFG on only
  above 1 as in every other family (two passes a step, one otherwise), and the model's own guider is back after;
- image-to-video takes no height or width: it generates the checkpoint's resolution bucket nearest the image's aspect
  ratio (``buckets.py``). The job's size is settled to that bucket, each change said, and the pipeline gets the image
  at the requested size, whose aspect ratio picks it;
- a checkpoint's own defaults (its guider's scale: 1.0 for the CFG-distilled ones; 8 steps for the step-distilled
  one) come before the family's (``checkpoint.py``), under a model directory's ``videogen.json``.

The pipelines have no step callback: the worker's progress and cancel reach them through the scheduler
(``stage_clock.step_callback_kwargs``), which the base ``run`` hooks for the call.
"""

from __future__ import annotations

import contextlib
from typing import Any

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.hunyuan_video15 import checkpoint
from videogen.video.families.hunyuan_video15.buckets import bucket
from videogen.video.families.hunyuan_video15.spec import SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import Adjustment, VideoRequest
from videogen.video.spec import IMAGE_TO_VIDEO

# params key: the (height, width) whose aspect ratio picks the image-to-video bucket (the request's, on the size grid)
BUCKET_OF = "bucket_of"


class HunyuanVideo15Adapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        meta = meta or ModelMeta()
        own = checkpoint.request_defaults(meta)
        if own:  # under the directory's videogen.json, over the family's
            meta = meta.model_copy(update={"request_defaults": {**own, **meta.request_defaults}})
        prepared = super().resolve_params(request, meta)
        if request.task == IMAGE_TO_VIDEO:
            settle_bucket(prepared, checkpoint.target_size(meta))
        return prepared

    def prepare_inputs(
        self, request: VideoRequest, pipe, meta: ModelMeta | None = None, settled: PreparedInputs | None = None
    ) -> PreparedInputs:
        prepared = super().prepare_inputs(request, pipe, meta, settled)
        if request.task == IMAGE_TO_VIDEO:
            # the loaded checkpoint's own target_size (a model that could not say it before loading)
            settle_bucket(prepared, pipe.transformer.config.target_size)
            height, width = prepared.params[BUCKET_OF]
            prepared.kwargs["image"] = prepared.image.resize((width, height))
        return prepared

    def run(self, pipe, kwargs: dict[str, Any], params: dict[str, Any]) -> Any:
        with job_guidance(pipe, params["guidance_scale"]):
            return super().run(pipe, kwargs, params)


@contextlib.contextmanager
def job_guidance(pipe, guidance_scale: float):
    """``pipe`` with a guider of ``guidance_scale`` for one call (CFG only above 1); its own guider back after."""
    own = pipe.guider
    pipe.guider = own.new(guidance_scale=guidance_scale, enabled=guidance_scale > 1.0)
    try:
        yield
    finally:
        pipe.guider = own


def settle_bucket(prepared: PreparedInputs, target_size: float) -> None:
    """Image-to-video's size: the bucket of ``target_size`` nearest the requested aspect ratio, each change said
    (as one move from the value asked for, also when the size grid moved it first)."""
    params = prepared.params
    asked = params.setdefault(BUCKET_OF, [params["height"], params["width"]])
    used = bucket(*asked, target_size)
    reason = (
        f"HunyuanVideo 1.5 image-to-video generates at its checkpoint's resolution (target_size {int(target_size)}: "
        f"about {int(target_size)}x{int(target_size)} pixels), in the size nearest the requested aspect ratio"
    )
    for field, value, grid in zip(("height", "width"), used, asked, strict=True):
        earlier = next((a for a in prepared.adjustments if a.field == field), None)
        requested = earlier.requested if earlier is not None else grid
        if earlier is not None:
            prepared.adjustments.remove(earlier)
        if value != requested:
            why = reason if value != grid else earlier.reason
            prepared.adjustments.append(Adjustment(field=field, requested=requested, used=value, reason=why))
        params[field] = value
