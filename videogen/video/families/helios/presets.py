"""Real-size Helios presets (``arch:<id>``): the three published checkpoints of one architecture.

diffusers has no Helios conversion script; the architecture is ``HeliosTransformer3DModel``'s defaults, which are
the published model's (the docs' examples load the checkpoints with no config override, and Helios' own training
and merge scripts build it with these switches: ``has_multi_term_memory_patch``, ``zero_history_timestep`` and
``guidance_cross_attn`` on, ``is_amplify_history`` off): Wan2.1-14B's DiT (40 heads x 128, 40 layers, FFN 13824,
UMT5's 4096-wide tokens, RoPE 44 + 42 + 42) with the short / mid / long history patch embedders (24 M more). 14.31 B
parameters against the "14B" of the paper and the docs. Wan 2.1's VAE and UMT5-XXL as Wan's presets.

Schedulers and pipeline switches (the docs page ``api/pipelines/helios`` and its calls): Base a ``HeliosScheduler`` in
one stage with dynamic shifting (diffusers' own Helios test builds it so: ``HeliosPipeline`` cannot run a staged
one); Mid a three-stage ``HeliosScheduler`` (UniPC) with CFG-Zero* (``is_cfg_zero_star``); Distilled a three-stage
``HeliosDMDScheduler`` with ``is_distilled``. The checkpoints' own scheduler configs cannot be read offline; the
classes' defaults are taken for the rest.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import umt5_xxl_encoder, wan21_vae
from videogen.video.families.helios.spec import PIPELINE, PYRAMID, SPEC

_TRANSFORMER = ComponentArch(
    name="transformer",
    library="diffusers",
    class_name="HeliosTransformer3DModel",
    config={
        "patch_size": [1, 2, 2],
        "num_attention_heads": 40,
        "attention_head_dim": 128,
        "in_channels": 16,
        "out_channels": 16,
        "text_dim": 4096,
        "freq_dim": 256,
        "ffn_dim": 13824,
        "num_layers": 40,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "rope_dim": [44, 42, 42],
        "rope_theta": 10000.0,
        "guidance_cross_attn": True,
        "zero_history_timestep": True,
        "has_multi_term_memory_patch": True,
        "is_amplify_history": False,
    },
)
_PUBLISHED = {"transformer": 14_000_000_000}  # "a 14B autoregressive diffusion model" (the paper, the docs)


def _preset(name: str, pipeline: str, scheduler: SchedulerArch, notes: str, **pipeline_kwargs) -> ArchPreset:
    return ArchPreset(
        id=f"helios-{name}",
        family=SPEC.id,
        checkpoint=f"BestWishYsh/Helios-{name.capitalize()}",
        tasks=list(SPEC.tasks),
        pipeline_classes=dict.fromkeys(SPEC.tasks, pipeline),
        components=[_TRANSFORMER, wan21_vae(), umt5_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[TokenizerArch(name="tokenizer", kind="t5")],
        scheduler=scheduler,
        pipeline_kwargs=pipeline_kwargs,
        published_params=dict(_PUBLISHED),
        notes=notes,
    )


PRESETS: list[ArchPreset] = [
    _preset(
        "base",
        PIPELINE,
        SchedulerArch(
            class_name="HeliosScheduler", config={"stages": 1, "stage_range": [0, 1], "use_dynamic_shifting": True}
        ),
        "best quality: 50 steps a chunk, guidance 5.0",
    ),
    _preset(
        "mid",
        PYRAMID,
        SchedulerArch(class_name="HeliosScheduler", config={"stages": 3}),
        "the pyramid in three stages, 20 steps each, CFG-Zero* at guidance 5.0; sizes in multiples of 64",
        is_cfg_zero_star=True,
    ),
    _preset(
        "distilled",
        PYRAMID,
        SchedulerArch(class_name="HeliosDMDScheduler", config={"stages": 3}),
        "step-distilled: the pyramid in three stages of 2 steps, no CFG, the first chunk's steps doubled; sizes in "
        "multiples of 64",
        is_distilled=True,
    ),
]
