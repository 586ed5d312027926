"""SkyReels-V2 adapter: the three diffusion-forcing pipelines, and a plain checkpoint's own pipeline for its one task.

What is this family's own:

- diffusion forcing (``forcing.py``): a request's ``ar_step``, ``causal_block_size`` and ``overlap_history`` are
  settled against the windows the job runs in before anything loads (refused naming the field and what is allowed,
  or moved and said), and the job's params say its transformer calls and windows, which the progress counts and the
  cost model prices (``cost.py``). A plain checkpoint (``SkyReelsV2Pipeline`` / ``SkyReelsV2ImageToVideoPipeline``)
  has no diffusion forcing: those fields are refused on it;
- video-to-video extends the clip: ``num_frames`` is the whole output, the clip its first frames (at the job's fps and
  size), and the pipeline generates the rest from the clip's last ``overlap_history`` frames. diffusers returns the
  clip followed by everything it decoded, the overlap again included; the re-decoded overlap is dropped, so the output
  is the clip and then the new frames;
- ``causal_block_size`` is written into the transformer's config by the pipeline (``_set_ar_attention``): the model's
  own value is put back after each call, so one job's blocks never become the next job's default; and the noise a
  long job adds to each window's overlap (``addnoise_condition``, the model card's 20) comes from torch's global
  generator, seeded from the job for the call, so a seed gives one video;
- a checkpoint's defaults: image-to-video's guidance 5.0 (the model cards'), and a 720P DF checkpoint (its window,
  ``base_num_frames``, is 121) generates 720x1280x121 unless asked otherwise.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from videogen.errors import InvalidRequestError
from videogen.video import model_limits
from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.skyreels_v2 import forcing
from videogen.video.families.skyreels_v2.spec import DIFFUSION_FORCING, FORCING_FIELDS, SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO

I2V_GUIDANCE = 5.0  # the model cards: "6.0 for T2V, 5.0 for I2V"


class SkyReelsV2Adapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        SPEC.check_task(request.task)  # before the task's pipeline class is looked up
        meta = checkpoint_defaults(request.task, meta or ModelMeta())
        runs = model_limits.pipeline_class(SPEC, request.task, meta)
        if runs not in DIFFUSION_FORCING:
            refuse_forcing_fields(request, runs)
        clip = 0
        if request.task == VIDEO_TO_VIDEO:
            prepared, clip = self._resolve_extension(request, meta)
        else:
            prepared = super().resolve_params(request, meta)
        if runs in DIFFUSION_FORCING:
            settle_forcing(prepared, request, meta, clip)
        return prepared

    def _resolve_extension(self, request: VideoRequest, meta: ModelMeta) -> tuple[PreparedInputs, int]:
        """Video-to-video: the clip at its own length (the job's fps, the frame rule), then the output's length."""
        prepared = super().resolve_params(request.model_copy(update={"num_frames": None}), meta)
        params = prepared.params
        clip = params["num_frames"]
        for name in ("strength", "denoising_steps"):  # the shared video-to-video's: this one keeps the clip whole
            params.pop(name, None)
        rule = model_limits.frame_rule(SPEC, VIDEO_TO_VIDEO, meta)
        least = clip + forcing.TEMPORAL  # one new latent frame
        if least > rule.max_frames:
            raise InvalidRequestError(
                "video",
                f"is {clip} frames at {params['fps']} fps: nothing fits after it within {rule.max_frames} frames",
                allowed={"max_frames": rule.max_frames - forcing.TEMPORAL, "fps": params["fps"]},
            )
        if request.num_frames is None:  # the clip and one window after it
            extended = forcing.one_window_more(clip, base_num_frames(meta), request.overlap_history)
            frames = rule.nearest(min(extended, rule.max_frames))
        else:
            frames = self._check_frames(request.num_frames, prepared.adjustments, rule)
        if frames < least:
            raise InvalidRequestError(
                "num_frames",
                f"{frames} frames do not extend the {clip}-frame clip (at {params['fps']} fps): the output is the clip "
                "followed by the new frames",
                allowed={"min": least, "max": rule.max_frames},
            )
        params["num_frames"] = frames
        params["expected_frames"] = SPEC.output_frames(VIDEO_TO_VIDEO, frames)
        return prepared, clip

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        settled = forcing.Forcing.from_params(params)
        if settled is None or type(pipe).__name__ not in DIFFUSION_FORCING:
            return {}
        own = int(pipe.transformer.config.num_frame_per_block)
        if settled.causal_block_size is None and own != 1:  # a model whose own blocks the ingress could not know
            forcing.settle(
                task,
                frames=params["num_frames"],
                steps=params["num_inference_steps"],
                base_num_frames=settled.base_num_frames,
                ar_step=settled.ar_step,
                causal_block_size=None,
                overlap_history=settled.overlap_history,
                clip_frames=settled.clip_frames,
                model_block=own,
            )
        # the frame rate picks the DF-1.3B's sample embedding (16 fps or not), as the pipelines' fps argument
        return {**settled.pipeline_kwargs(), "fps": params["fps"]}

    def run(self, pipe, kwargs: dict[str, Any], params: dict[str, Any]) -> Any:
        settled = forcing.Forcing.from_params(params)
        noise = job_seeded_noise(params["seed"]) if settled is not None and settled.long else contextlib.nullcontext()
        with own_block_size(pipe.transformer), noise:
            output = super().run(pipe, kwargs, params)
        if settled is not None and settled.clip_frames:
            output.frames = without_redecoded_overlap(output.frames, settled)
        return output

    def model_unavailable_reason(self, task: str, model_dir: Path) -> str | None:
        index = Path(model_dir) / "model_index.json"
        checkpoint = json.loads(index.read_text()).get("_class_name") if index.is_file() else None
        offers = SPEC.checkpoint_tasks.get(checkpoint)
        if offers is not None and task not in offers:
            return (
                f"this SkyReels-V2 checkpoint is a {checkpoint}: it runs {', '.join(offers)} only, without diffusion "
                f"forcing; {task} needs a DF checkpoint such as {SPEC.default_model_ids[task]}"
            )
        return None


def checkpoint_defaults(task: str, meta: ModelMeta) -> ModelMeta:
    """``meta`` with the checkpoint's own request defaults under its directory's (``videogen.json``'s)."""
    own: dict[str, Any] = {}
    if task in (IMAGE_TO_VIDEO, FIRST_LAST_FRAME):  # the image-to-video pipeline, both
        own["guidance_scale"] = I2V_GUIDANCE
    window = meta.call_kwargs.get("base_num_frames")
    if window in forcing.NATIVE_SIZE:  # a 540P or 720P DF checkpoint: its native size and one window
        height, width = forcing.NATIVE_SIZE[window]
        own.update(num_frames=window, height=height, width=width)
    return meta.model_copy(update={"request_defaults": {**own, **meta.request_defaults}})


def base_num_frames(meta: ModelMeta) -> int:
    """The model's window: its call kwargs' (a checkpoint's, a tiny model's), else the pipelines' default."""
    return int(meta.call_kwargs.get("base_num_frames", forcing.PIPELINE_BASE_NUM_FRAMES))


def refuse_forcing_fields(request: VideoRequest, runs: str) -> None:
    for name in FORCING_FIELDS:
        if getattr(request, name) is not None:
            raise InvalidRequestError(
                name,
                f"is diffusion forcing's; this model runs {request.task} through {runs}, which has none (a SkyReels-V2 "
                f"DF checkpoint has it, e.g. {SPEC.default_model_ids[request.task]})",
            )


def settle_forcing(prepared: PreparedInputs, request: VideoRequest, meta: ModelMeta, clip: int) -> None:
    """The job's diffusion forcing, in its params: what the pipeline gets, the calls the progress counts
    (``denoising_steps``) in their windows (``denoising_blocks``)."""
    params = prepared.params
    settled, moved = forcing.settle(
        request.task,
        frames=params["num_frames"],
        steps=params["num_inference_steps"],
        base_num_frames=base_num_frames(meta),
        ar_step=request.ar_step,
        causal_block_size=request.causal_block_size,
        overlap_history=request.overlap_history,
        clip_frames=clip,
    )
    params[forcing.PARAMS_KEY] = settled.to_params()
    params["denoising_steps"] = settled.calls
    params["denoising_blocks"] = [calls for _, calls in settled.windows]
    prepared.adjustments.extend(moved)


@contextlib.contextmanager
def own_block_size(transformer):
    """The transformer's own ``num_frame_per_block`` back after the call (the pipelines overwrite it)."""
    own = transformer.config.num_frame_per_block
    try:
        yield
    finally:
        if transformer.config.num_frame_per_block != own:
            transformer.register_to_config(num_frame_per_block=own)


@contextlib.contextmanager
def job_seeded_noise(seed: int):
    """torch's global generators seeded from the job for the call, their state back after: the pipelines draw the
    noise they add to a window's clean overlap (``addnoise_condition``) with ``randn_like``, not from the job's
    generator, and one seed must still give one video."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


def without_redecoded_overlap(frames, settled: forcing.Forcing):
    """The pipeline's ``[batch, clip + generated, ...]`` frames without the overlap it decoded again after the clip."""
    import numpy as np

    clip, overlap = settled.clip_frames, settled.overlap_history or 0
    return np.concatenate([frames[:, :clip], frames[:, clip + overlap :]], axis=1)
