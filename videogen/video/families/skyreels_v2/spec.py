"""SkyReels-V2: what the family is.

Sources: diffusers 0.42.1 ``pipelines/skyreels_v2`` (five pipelines over one ``SkyReelsV2Transformer3DModel``, a Wan 2.1
DiT, with Wan 2.1's UMT5-XXL text encoder and VAE), its conversion script ``scripts/convert_skyreelsv2_to_diffusers.py``,
the docs page ``api/pipelines/skyreels_v2`` and Skywork's model cards (the model zoo: 540P checkpoints at 544x960 and
97 frames, 720P at 720x1280 and 121; 24 fps; guidance 6.0 for text-to-video and 5.0 for image-to-video, flow shift 8.0
and 5.0; the docs' diffusion-forcing example runs 30 steps).

The family's pipelines are the diffusion-forcing ones: a DF checkpoint (``SkyReels-V2-DF-*``) runs all three tasks,
any length, in windows of ``base_num_frames`` (``forcing.py``). A checkpoint saved as ``SkyReelsV2Pipeline`` (T2V) or
``SkyReelsV2ImageToVideoPipeline`` (I2V: a CLIP image encoder, 36 input channels) runs its one task through its own
class, one clip at once (``checkpoint_tasks``).
"""

from __future__ import annotations

from videogen.video.spec import (
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    TEXT_TO_VIDEO,
    VIDEO_TO_VIDEO,
    Defaults,
    FrameRule,
    StepCacheSupport,
    SupportLevel,
    VideoModelSpec,
)

DF_T2V = "SkyReelsV2DiffusionForcingPipeline"
DF_I2V = "SkyReelsV2DiffusionForcingImageToVideoPipeline"
DF_V2V = "SkyReelsV2DiffusionForcingVideoToVideoPipeline"
PLAIN_T2V = "SkyReelsV2Pipeline"
PLAIN_I2V = "SkyReelsV2ImageToVideoPipeline"
DIFFUSION_FORCING = frozenset({DF_T2V, DF_I2V, DF_V2V})
# The request fields only the diffusion-forcing pipelines take (``request.FAMILY_FIELDS``).
FORCING_FIELDS = ("ar_step", "causal_block_size", "overlap_history")
# What a plain (non-DF) checkpoint generates at once: the whole clip in one window, as Wan 2.1 does.
_ONE_WINDOW = FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=161)

SPEC = VideoModelSpec(
    id="skyreels-v2",
    display_name="SkyReels-V2",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: DF_T2V,
        # the image's latents are the first latent frame, already clean (no image encoder)
        IMAGE_TO_VIDEO: DF_I2V,
        # extends the clip: its last overlap_history frames condition the continuation
        VIDEO_TO_VIDEO: DF_V2V,
        # the image-to-video pipeline's ``last_image``: its clean latent frame closes the last window (``forcing.py``)
        FIRST_LAST_FRAME: DF_I2V,
    },
    recommended_dtype="bfloat16",
    rocm_notes="bf16 on MI200/MI300; keep the Wan VAE in float32 (the model cards load it so). A long video decodes "
    "every frame at once at the end: VAE tiling bounds that peak. causal_block_size > 1 builds a dense causal mask "
    "over the window's tokens, which the native attention backend takes.",
    support_level=SupportLevel.READY,
    default_model_ids=dict.fromkeys(
        (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO, FIRST_LAST_FRAME), "Skywork/SkyReels-V2-DF-1.3B-540P-Diffusers"
    ),
    # Diffusion forcing: any 4k+1 length, in windows of base_num_frames sharing overlap_history frames (the model
    # cards' demos are 30 s); up to what a request may ask for.
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=1021),
    resolution_multiple=16,  # VAE /8 x patch 2
    defaults=Defaults(num_inference_steps=30, guidance_scale=6.0, num_frames=97, height=544, width=960, fps=24),
    min_vram_gb=15,  # the SkyReels-V2 README: the 1.3B at 540P peaks at ~14.7 GB
    extra_checkpoint_classes=[PLAIN_T2V, PLAIN_I2V],
    checkpoint_tasks={PLAIN_T2V: (TEXT_TO_VIDEO,), PLAIN_I2V: (IMAGE_TO_VIDEO,)},
    pipeline_frame_rules={PLAIN_T2V: _ONE_WINDOW, PLAIN_I2V: _ONE_WINDOW},
    # extending a clip keeps it whole: no strength
    task_optional_inputs={VIDEO_TO_VIDEO: ()},
    request_fields=FORCING_FIELDS,
    step_caches=StepCacheSupport(
        why_not={
            "*": "not measured on SkyReels-V2: its diffusion-forcing pipelines denoise a window of latent frames at "
            "per-frame timesteps, which no step cache's drift is held to a bound for here",
        }
    ),
)
