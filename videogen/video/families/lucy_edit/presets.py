"""Real-size Lucy Edit presets (``arch:<id>``), from the configs ``decart-ai/Lucy-Edit-Dev`` publishes (its
``transformer/``, ``vae/`` and ``scheduler/`` configs and ``model_index.json``), built with the Wan family's helpers:
Lucy Edit is Wan 2.2 TI2V-5B's architecture.

The transformer is TI2V-5B's Wan DiT (24 heads x 128, 30 layers, ffn 14336, patch (1, 2, 2), UMT5's 4096-wide text,
no image cross-attention) taking 96 channels in (48 noise + 48 of the clip's latents) and giving 48 out; the VAE is Wan
2.2's (48 channels, /16 in space after its 2x2 patchify, /4 in time) and the text encoder UMT5-XXL; the scheduler UniPC
with flow sigmas at shift 5; ``model_index.json`` sets ``expand_timesteps`` (and no ``boundary_ratio``: one expert).
``decart-ai/Lucy-Edit-1.1-Dev`` publishes the same configs (the same preset, other weights).
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset
from videogen.video.arch.shared_components import umt5_xxl_encoder
from videogen.video.families.lucy_edit.spec import SPEC
from videogen.video.families.wan.presets import _TOKENIZER, _WAN22_VAE, _transformer, _unipc
from videogen.video.spec import VIDEO_TO_VIDEO

_LATENT_CHANNELS = 48  # Wan 2.2's VAE

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="lucy-edit-dev",
        family=SPEC.id,
        checkpoint=SPEC.default_model_ids[VIDEO_TO_VIDEO],
        tasks=[VIDEO_TO_VIDEO],
        pipeline_classes=dict(SPEC.pipeline_classes),
        components=[
            _transformer(
                heads=24, layers=30, ffn=14336, in_channels=2 * _LATENT_CHANNELS, out_channels=_LATENT_CHANNELS
            ),
            _WAN22_VAE,
            umt5_xxl_encoder(),
        ],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_unipc(5.0),
        pipeline_kwargs={"expand_timesteps": True},
        # "~5B params" (the model card: built on Wan 2.2 5B). The checkpoint's files agree with every count here to the
        # byte but their headers: the transformer's float32 safetensors are 20,001,594,880 bytes (5,000,377,536 x 4
        # + 84,736), the VAE's 2,818,777,808 (704,688,668 x 4 + 23,136), the bf16 text encoder's index totals
        # 11,361,820,672 (5,680,910,336 x 2)
        published_params={"transformer": 5_000_000_000},
    ),
]
