"""LTX-Video's latent upscale (a request's ``latent_upscale``): diffusers' documented multi-scale flow for LTX-Video
0.9.7 and later, on ``LTXConditionPipeline`` and ``LTXLatentUpsamplePipeline``.

1. Generate at half the output size and stop at the latents (``output_type="latent"``).
2. Upsample them 2x with the model's ``LTXLatentUpsamplerModel`` (its ``latent_upsampler/`` folder, loaded beside the
   pipeline: ``attach_upsampler``) through ``LTXLatentUpsamplePipeline``, matched to the first pass's per-channel
   statistics (``adain_factor`` 1, as LTX-Video's own multi-scale pipeline does).
3. Refine them at the output size, ``denoise_strength`` ``REFINE_STRENGTH`` of a ``REFINE_INFERENCE_STEPS``-step
   schedule (diffusers' 0.9.7 example: 4 of 10 steps), and decode.

Both passes take the job's conditions (image-to-video's first frame, keyframes); video-to-video's clip enters the
first pass as its latents at that pass's size. The upsampler doubles latent pixels, so the output is exactly twice
the first pass: with the option a job's size grid is twice the model's (``job_meta``; a size off it moves to the
nearest, said as an adjustment), which keeps both passes on LTX's multiple of 32. Text- and image-to-video load
``LTXPipeline`` / ``LTXImageToVideoPipeline``; the passes run on an ``LTXConditionPipeline`` made of the same
modules (nothing is loaded twice).

Whether a model has an upsampler is known from its directory (``ModelMeta.latent_upsampler``): the ingress refuses
the option for a model known to have none, the worker for a loaded pipeline without one. The sizes, the refusals and
the loading are shared with LTX-2's two-stage flow (``families/ltx2/upscale.py``), which passes its own upsampler
class and refinement steps.
"""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path
from typing import Any

from videogen.errors import InvalidRequestError
from videogen.video import model_limits
from videogen.video.dotted import resolve
from videogen.video.model_meta import LATENT_UPSAMPLER_DIR, ModelMeta
from videogen.video.request import Adjustment
from videogen.video.spec import VideoModelSpec
from videogen.video.video_to_video import steps_at_strength

FIELD = "latent_upscale"
SCALE = 2  # LTXLatentUpsamplerModel with spatial_upsample: twice the latent height and width
REFINE_INFERENCE_STEPS = 10
REFINE_STRENGTH = 0.4
REFINE_STEPS = steps_at_strength(REFINE_INFERENCE_STEPS, REFINE_STRENGTH)  # the steps the refinement really runs
ADAIN_FACTOR = 1.0
UPSAMPLER_CLASS = "diffusers.pipelines.ltx.modeling_latent_upsampler:LTXLatentUpsamplerModel"
# Where a loaded pipeline keeps its upsampler: no diffusers pipeline class takes one as a component.
_ATTRIBUTE = "videogen_latent_upsampler"
_NO_UPSAMPLER = (
    f"needs the model's latent upsampler and this model has none (in its {LATENT_UPSAMPLER_DIR}/ folder: e.g. "
    "Lightricks/ltxv-spatial-upscaler-0.9.7 for LTX-Video 0.9.7 and later, the latent_upsampler of Lightricks/LTX-2 "
    "for LTX-2); leave it out"
)


def refuse_without_upsampler(meta: ModelMeta) -> None:
    """Refuse the option for a model known to have no upsampler (None: not known yet, the worker checks)."""
    if meta.latent_upsampler is False:
        raise InvalidRequestError(FIELD, _NO_UPSAMPLER, allowed=[False])


def job_meta(spec: VideoModelSpec, meta: ModelMeta) -> ModelMeta:
    """``meta`` with the size grid an upscaled job obeys: twice the model's, so that the first pass (half the
    output) is on the model's grid too."""
    return meta.model_copy(update={"resolution_multiple": SCALE * model_limits.size_multiple(spec, meta)})


def settle(
    params: dict[str, Any], adjustments: list[Adjustment], meta: ModelMeta, refine_steps: int = REFINE_STEPS
) -> None:
    """The two passes' sizes and the refinement's steps, in ``params`` of a job resolved with ``job_meta``'s
    ``meta``; its size moves said as the option's."""
    grid = meta.resolution_multiple
    for adjustment in adjustments:  # made on the doubled grid: the option is why they moved
        if adjustment.field in ("height", "width") and adjustment.cause is None:
            adjustment.reason = (
                f"with {FIELD} the output is twice a first pass on the model's grid: a multiple of {grid}"
            )
    params.update(
        latent_upscale=True,
        first_pass_height=params["height"] // SCALE,
        first_pass_width=params["width"] // SCALE,
        refine_steps=refine_steps,
    )


def attach_upsampler(pipe, model_dir: Path, torch_dtype, upsampler_class: str = UPSAMPLER_CLASS) -> None:
    """Load the model directory's upsampler (if it has one, of ``upsampler_class``: ``module:Class``) beside
    ``pipe``: safetensors only, no network."""
    folder = Path(model_dir) / LATENT_UPSAMPLER_DIR
    if not (folder / "config.json").is_file():
        return
    upsampler = resolve(upsampler_class).from_pretrained(
        str(folder), dtype=torch_dtype, use_safetensors=True, local_files_only=True
    )
    setattr(pipe, _ATTRIBUTE, upsampler.eval())


def upsampler_of(pipe):
    """The upsampler loaded beside ``pipe``; the option refused, naming it, when there is none."""
    upsampler = getattr(pipe, _ATTRIBUTE, None)
    if upsampler is None:
        raise InvalidRequestError(FIELD, _NO_UPSAMPLER, allowed=[False])
    return upsampler


def run(pipe, kwargs: dict[str, Any], params: dict[str, Any]):
    """The job's two passes around the upsampler (``kwargs``: the job's call, step callback included: its count
    runs on through the second pass)."""
    upsampler = upsampler_of(pipe)
    passes = _condition_pipeline(pipe)
    first = {**kwargs, "height": params["first_pass_height"], "width": params["first_pass_width"]}
    latents = passes(**_accepted(passes, first | {"output_type": "latent"})).frames
    upsampled = _upsample(pipe, upsampler, latents)
    refine = {
        **kwargs,
        "latents": upsampled,
        "denoise_strength": REFINE_STRENGTH,
        "num_inference_steps": REFINE_INFERENCE_STEPS,
    }
    output = passes(**_accepted(passes, refine))
    if passes is not pipe:  # the passes ran on the loaded pipeline's modules: put them back as it places them
        pipe.maybe_free_model_hooks()
    return output


def _condition_pipeline(pipe):
    from diffusers import LTXConditionPipeline

    if isinstance(pipe, LTXConditionPipeline):
        return pipe
    passes = LTXConditionPipeline(**pipe.components)  # the same modules, placed as the loaded pipeline placed them
    passes.set_progress_bar_config(disable=True)
    return passes


def _accepted(pipe, kwargs: dict[str, Any]) -> dict[str, Any]:
    accepted = inspect.signature(pipe.__call__).parameters
    return {k: v for k, v in kwargs.items() if k in accepted}


@contextlib.contextmanager
def upsampler_on_device(pipe, upsampler):
    """The upsampler on the pipeline's device for the block; afterwards it rests where the VAE rests (on the device
    unless the placement offloads). LTX-2's two stages use it too."""
    device = pipe._execution_device
    rest = next(pipe.vae.parameters()).device
    upsampler.to(device)
    try:
        yield upsampler
    finally:
        if rest != device:
            upsampler.to("cpu" if rest.type == "meta" else rest)


def _upsample(pipe, upsampler, latents):
    """The first pass's latents upsampled 2x (normalised as the pipeline's ``latents`` takes them)."""
    from diffusers import LTXLatentUpsamplePipeline

    upsample = LTXLatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=upsampler)
    upsample.set_progress_bar_config(disable=True)
    with upsampler_on_device(pipe, upsampler):
        return upsample(latents=latents, adain_factor=ADAIN_FACTOR, output_type="latent").frames


__all__ = [
    "FIELD",
    "REFINE_INFERENCE_STEPS",
    "REFINE_STEPS",
    "REFINE_STRENGTH",
    "UPSAMPLER_CLASS",
    "attach_upsampler",
    "job_meta",
    "refuse_without_upsampler",
    "run",
    "settle",
    "upsampler_of",
    "upsampler_on_device",
]
