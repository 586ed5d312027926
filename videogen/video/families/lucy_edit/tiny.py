"""Tiny Lucy Edit (``LucyEditPipeline``): Wan 2.2 TI2V-5B's tiny components (imported from the Wan family, not copied)
wired as Lucy Edit's checkpoint is.

Wan's tiny Wan 2.2 VAE (48 latent channels, /16 in space: sizes are multiples of 32 with the 2x2 patches), its UMT5
text encoder and tokenizer, and its tiny Wan transformer with twice the latent channels in (the noise and the clip's
latents side by side) and the latent channels out; ``expand_timesteps`` on, as the checkpoint's ``model_index.json``
has it (every token its own timestep); the checkpoint's scheduler, UniPC with flow sigmas at shift 5.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.lucy_edit.spec import SPEC
from videogen.video.families.wan.tiny import _WAN22_CHANNELS, _text_components, _transformer, _wan22_vae

TINY_CALL_KWARGS: dict[str, dict] = {}

FLOW_SHIFT = 5.0  # the checkpoint's scheduler_config.json


def build_pipeline(task: str):
    from diffusers import UniPCMultistepScheduler

    pipeline_class = diffusers_pipeline_class(SPEC, task)
    vae = _wan22_vae()
    transformer = _transformer(in_channels=2 * _WAN22_CHANNELS, out_channels=_WAN22_CHANNELS)
    components = _text_components()
    components["scheduler"] = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=FLOW_SHIFT
    )
    return pipeline_class(vae=vae, transformer=transformer, expand_timesteps=True, **components)
