"""Real-size SANA-Video preset (``arch:<id>``), from diffusers' ``scripts/convert_sana_video_to_diffusers.py``
(480p: Wan 2.1 VAE with 2x2 patches, so 30 x 30 latent tokens per frame at sample size 480).

A 20-layer linear-attention DiT (20 heads x 112, FFN ratio 3) over Gemma-2-2B's hidden states.
One checkpoint, two schedulers: flow DPM-Solver for text-to-video, flow Euler for image-to-video.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import gemma2_2b, wan21_vae
from videogen.video.spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO

_FLOW_SHIFT = 8.0

_TRANSFORMER_2B = ComponentArch(
    name="transformer",
    library="diffusers",
    class_name="SanaVideoTransformer3DModel",
    config={
        "in_channels": 16,
        "out_channels": 16,
        "num_attention_heads": 20,
        "attention_head_dim": 112,
        "num_layers": 20,
        "num_cross_attention_heads": 20,
        "cross_attention_head_dim": 112,
        "cross_attention_dim": 2240,
        "caption_channels": 2304,
        "mlp_ratio": 3.0,
        "attention_bias": False,
        "sample_size": 30,
        "patch_size": [1, 2, 2],
        "norm_elementwise_affine": False,
        "norm_eps": 1e-6,
        "qk_norm": "rms_norm_across_heads",
        "rope_max_seq_len": 1024,
    },
)

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="sana-video-2b-480p",
        family="sana-video",
        checkpoint="Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
        tasks=[TEXT_TO_VIDEO, IMAGE_TO_VIDEO],
        pipeline_classes={TEXT_TO_VIDEO: "SanaVideoPipeline", IMAGE_TO_VIDEO: "SanaImageToVideoPipeline"},
        components=[_TRANSFORMER_2B, wan21_vae(), gemma2_2b()],
        denoiser="transformer",
        tokenizers=[TokenizerArch(name="tokenizer", kind="gemma", model_max_length=300)],
        scheduler=SchedulerArch(
            class_name="DPMSolverMultistepScheduler",
            config={"flow_shift": _FLOW_SHIFT, "use_flow_sigmas": True, "prediction_type": "flow_prediction"},
        ),
        task_schedulers={
            IMAGE_TO_VIDEO: SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config={"shift": _FLOW_SHIFT})
        },
        published_params={"transformer": 2_000_000_000},  # "2B" (model name)
    ),
]
