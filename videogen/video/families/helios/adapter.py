"""Helios adapter: ``HeliosPipeline``, and ``HeliosPyramidPipeline`` for a pyramid checkpoint, for all three tasks.

What is this family's own:

- chunks (``chunks.py``): the pipelines generate whole chunks of 33 frames; the job's ``num_frames`` (4k+1) is what
  it keeps, the rest of the last chunk is cut (``run``). The job's params record its chunks, which the cost model
  prices and the progress counts: every chunk's steps (``denoising_steps``), chunk by chunk (``denoising_blocks``);
- a pyramid checkpoint (``checkpoint.py``): its own defaults and 64-pixel grid; ``num_inference_steps`` is a chunk's
  steps over all its stages, split evenly into ``pyramid_num_inference_steps_list`` (at least one a stage); a
  step-distilled one runs at guidance 1.0 with its first chunk amplified, as its docs call it;
- video-to-video continues the clip: the clip (at the job's fps and size, at its own length) is the history the
  first chunk follows, and the video is the new frames, ``num_frames`` of them (without it, the model's default).
  The pipeline reads the clip in whole chunks from its end: one shorter than a chunk has its last frame repeated.
"""

from __future__ import annotations

from typing import Any

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families.helios import chunks
from videogen.video.families.helios.checkpoint import Checkpoint
from videogen.video.families.helios.spec import PYRAMID, SPEC
from videogen.video.model_meta import ModelMeta
from videogen.video.request import Adjustment, VideoRequest
from videogen.video.spec import VIDEO_TO_VIDEO

_VIDEO_FRAMES = "video.frames"


class HeliosAdapter(VideoPipelineAdapter):
    spec = SPEC

    def resolve_params(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        SPEC.check_task(request.task)  # before the task's pipeline class is looked up
        checkpoint = Checkpoint.of(request.task, meta or ModelMeta())
        meta = checkpoint.meta(meta or ModelMeta())
        clip = 0
        if request.task == VIDEO_TO_VIDEO:
            prepared, clip = self._resolve_continuation(request, meta, checkpoint)
        else:
            prepared = super().resolve_params(request, meta)
        if checkpoint.pyramid:
            _say_why_the_grid(prepared, checkpoint)
        settle_chunks(prepared, request, checkpoint, clip)
        return prepared

    def _resolve_continuation(
        self, request: VideoRequest, meta: ModelMeta, checkpoint: Checkpoint
    ) -> tuple[PreparedInputs, int]:
        """Video-to-video: the clip at its own length and the new frames' count (the shared ``continues_clip``), the
        clip padded to one chunk at least."""
        prepared = super().resolve_params(request, meta)
        least = chunks.chunk_frames(checkpoint.chunk_latent_frames)
        if len(prepared.media.video) < least:
            _pad_clip(prepared, least)
        return prepared, len(prepared.media.video)

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        settled = chunks.Chunks.from_params(params)
        if settled is None or settled.stage_steps is None or type(pipe).__name__ != PYRAMID:
            return {}
        # the loaded scheduler's own stages (the settled ones unless a directory said otherwise): the same steps
        stages = int(pipe.scheduler.config.get("stages", len(settled.stage_steps)))
        return {
            "pyramid_num_inference_steps_list": list(chunks.stage_steps(settled.steps, stages)),
            "is_amplify_first_chunk": settled.amplify_first,
        }

    def run(self, pipe, kwargs: dict[str, Any], params: dict[str, Any]) -> Any:
        output = super().run(pipe, kwargs, params)
        output.frames = output.frames[:, : params["num_frames"]]  # whole chunks came back: the job's frames are kept
        return output


def settle_chunks(prepared: PreparedInputs, request: VideoRequest, checkpoint: Checkpoint, clip: int) -> None:
    """The job's guidance and steps as the checkpoint runs them, and its chunks in its params."""
    params = prepared.params
    if checkpoint.distilled:
        _without_guidance(prepared, request)
    stage_steps = None
    if checkpoint.pyramid:
        prepared.at_least_steps(checkpoint.stages, f"{PYRAMID} runs each of its {checkpoint.stages} stages")
        stage_steps = chunks.stage_steps(params["num_inference_steps"], checkpoint.stages)
    settled = chunks.Chunks(
        count=chunks.chunk_count(params["num_frames"], checkpoint.chunk_latent_frames),
        latent_frames=checkpoint.chunk_latent_frames,
        steps=params["num_inference_steps"],
        stage_steps=stage_steps,
        amplify_first=checkpoint.distilled,
        clip_frames=clip,
    )
    params[chunks.PARAMS_KEY] = settled.to_params()
    params["denoising_steps"] = sum(settled.calls)
    params["denoising_blocks"] = settled.calls


def _without_guidance(prepared: PreparedInputs, request: VideoRequest) -> None:
    """A step-distilled checkpoint runs one pass a step: a larger guidance, and a negative prompt, are not used."""
    params = prepared.params
    why = "Helios-Distilled is step-distilled to run without classifier-free guidance (its docs run it at 1.0)"
    if params["guidance_scale"] > 1.0:
        used = Adjustment(field="guidance_scale", requested=params["guidance_scale"], used=1.0, reason=why)
        prepared.adjustments.append(used)
        params["guidance_scale"] = 1.0
    if request.negative_prompt:
        reason = f"{why}: a negative prompt is not applied"
        prepared.adjustments.append(
            Adjustment(field="negative_prompt", requested=request.negative_prompt, used=None, reason=reason)
        )


def _say_why_the_grid(prepared: PreparedInputs, checkpoint: Checkpoint) -> None:
    """The shared size check says a coarser grid is the VAE's and the patch's; a pyramid's is its halvings too."""
    reason = (
        f"{PYRAMID} halves the latents {checkpoint.stages - 1} times before its first stage: sides are multiples of "
        f"{checkpoint.size_multiple}"
    )
    for adjustment in prepared.adjustments:
        if adjustment.field in ("height", "width"):
            adjustment.reason = reason


def _pad_clip(prepared: PreparedInputs, least: int) -> None:
    """A clip shorter than one chunk, its last frame repeated to fill one (said, with what conforming it said)."""
    video = prepared.media.video
    given = len(video)
    video.extend([video[-1]] * (least - given))
    reason = f"Helios continues a clip from whole chunks of {least} frames: its last frame is repeated to fill one"
    earlier = next((a for a in prepared.adjustments if a.field == _VIDEO_FRAMES), None)
    if earlier is None:
        prepared.adjustments.append(Adjustment(field=_VIDEO_FRAMES, requested=given, used=least, reason=reason))
    else:
        earlier.used, earlier.reason = least, f"{earlier.reason}; {reason}"
