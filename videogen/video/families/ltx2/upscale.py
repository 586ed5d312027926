"""LTX-2's two-stage generation (a request's ``latent_upscale``), as diffusers documents it (``api/pipelines/ltx2``,
"Two-stages Generation", after Lightricks' ``ti2vid_two_stages``):

1. Stage 1: the job's own pipeline (text-, image-to-video or keyframes) at half the output size, with the job's steps
   and guidance, stopped at the latents (``output_type="latent"``: the video's and the soundtrack's).
2. The video latents upsampled 2x by the model's ``LTX2LatentUpsamplerModel`` (its ``latent_upsampler/`` folder)
   through ``LTX2LatentUpsamplePipeline``.
3. Stage 2: the same pipeline at the output size from those latents and the first stage's audio latents, re-noised to
   the first of diffusers' ``STAGE_2_DISTILLED_SIGMA_VALUES`` and denoised along them (``REFINE_STEPS`` steps) without
   guidance, on the converter's scheduler without its dynamic shift and terminal stretch (the sigmas are used as
   given); then decoded, picture and sound. The job's image or keyframes condition both stages.

The sizes, the refusals (a model without an upsampler) and the upsampler's loading are LTX-Video's
(``ltx_video.upscale``: the output is exactly twice the first stage, so the job's size grid is twice the model's).
Lightricks' recipe runs stage 2 of the dev checkpoint with its distilled LoRA (``ltx-2-19b-distilled-lora-384``); a
distilled checkpoint needs none. VideoGen runs stage 2 with the model as loaded (and the job's own LoRAs): an
operator serving the dev checkpoint declares that LoRA and a job names it.
"""

from __future__ import annotations

from typing import Any

from videogen.video.families.ltx_video import upscale as shared

UPSAMPLER_CLASS = "diffusers.pipelines.ltx2.latent_upsampler:LTX2LatentUpsamplerModel"
# diffusers' STAGE_2_DISTILLED_SIGMA_VALUES (pipelines/ltx2/utils.py), read here without importing diffusers (the
# ingress prices the job); a test holds the two equal.
STAGE_2_SIGMAS = (0.909375, 0.725, 0.421875)
REFINE_STEPS = len(STAGE_2_SIGMAS)
REFINE_GUIDANCE_SCALE = 1.0  # the documented stage 2: no classifier-free guidance (one transformer pass a step)


def settle(params: dict[str, Any], adjustments: list, meta) -> None:
    shared.settle(params, adjustments, meta, refine_steps=REFINE_STEPS)
    params["refine_guidance_scale"] = REFINE_GUIDANCE_SCALE


def run(pipe, kwargs: dict[str, Any], params: dict[str, Any]):
    """The job's two stages around the upsampler (``kwargs``: the job's call, step callback included: its count runs
    on through stage 2)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, LTX2LatentUpsamplePipeline

    upsampler = shared.upsampler_of(pipe)
    first = {**kwargs, "height": params["first_pass_height"], "width": params["first_pass_width"]}
    stage_1 = pipe(**first | {"output_type": "latent"})
    upsample = LTX2LatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=upsampler)
    upsample.set_progress_bar_config(disable=True)
    with shared.upsampler_on_device(pipe, upsampler):
        upscaled = upsample(latents=stage_1.frames, output_type="latent").frames
    scheduler = pipe.scheduler
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(
        scheduler.config, use_dynamic_shifting=False, shift_terminal=None
    )
    try:
        return pipe(
            **kwargs
            | {
                "latents": upscaled,
                "audio_latents": stage_1.audio,
                "num_inference_steps": REFINE_STEPS,
                "sigmas": list(STAGE_2_SIGMAS),
                "noise_scale": STAGE_2_SIGMAS[0],
                "guidance_scale": REFINE_GUIDANCE_SCALE,
            }
        )
    finally:
        pipe.scheduler = scheduler


__all__ = ["REFINE_GUIDANCE_SCALE", "REFINE_STEPS", "STAGE_2_SIGMAS", "UPSAMPLER_CLASS", "run", "settle"]
