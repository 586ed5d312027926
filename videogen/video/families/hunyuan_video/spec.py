"""HunyuanVideo: what the family is."""

from __future__ import annotations

from videogen.video.families.hunyuan_video import framepack
from videogen.video.spec import (
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    TEXT_TO_VIDEO,
    Defaults,
    FrameRule,
    StepCacheSupport,
    SupportLevel,
    VideoModelSpec,
)

# 4k+1 (the VAE's /4 in time) up to the 129 frames HunyuanVideo's own pipelines take.
_FRAMES = FrameRule(multiple=4, remainder=1, min_frames=9, max_frames=129)
FRAMEPACK = "HunyuanVideoFramepackPipeline"

SPEC = VideoModelSpec(
    id="hunyuan-video",
    display_name="HunyuanVideo",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: "HunyuanVideoPipeline",
        IMAGE_TO_VIDEO: "HunyuanVideoImageToVideoPipeline",
        # FramePack (lllyasviel): image= the first frame, last_image= the last. Generates in sections of
        # latent_window_size latent frames, each conditioned on SigLIP embeddings of the images and on packed
        # (2x/4x compressed) history latents; the adapter settles the frame count (see ``framepack.py``).
        FIRST_LAST_FRAME: FRAMEPACK,
    },
    # A FramePack checkpoint runs image-to-video too, from the first frame alone (last_image None): its own pipeline
    # and frames (long videos, section by section), where HunyuanVideo's checkpoints keep
    # HunyuanVideoImageToVideoPipeline.
    checkpoint_tasks={FRAMEPACK: (FIRST_LAST_FRAME, IMAGE_TO_VIDEO)},
    pipeline_frame_rules={FRAMEPACK: framepack.frame_rule(_FRAMES.min_frames)},
    recommended_dtype="bfloat16",
    rocm_notes="13B transformer: needs ≥ 48 GB or offload; bf16 on MI300X runs it fully on GPU.",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "hunyuanvideo-community/HunyuanVideo",
        IMAGE_TO_VIDEO: "hunyuanvideo-community/HunyuanVideo-I2V",
        # The published FramePack transformer (diffusers format). It is a transformer only: the pipeline's other
        # components come from hunyuanvideo-community/HunyuanVideo (vae, text_encoder, text_encoder_2, tokenizer,
        # tokenizer_2, scheduler) and lllyasviel/flux_redux_bfl (image_encoder, feature_extractor: SigLIP). A local
        # directory must hold all of them as one pipeline: those subfolders, transformer/ with this repo's
        # config.json + safetensors, and a model_index.json whose _class_name is HunyuanVideoFramepackPipeline
        # (what HunyuanVideoFramepackPipeline.from_pretrained(..., transformer=, image_encoder=,
        # feature_extractor=).save_pretrained(dir) writes).
        FIRST_LAST_FRAME: "lllyasviel/FramePackI2V_HY",
    },
    frame_rule=_FRAMES,
    resolution_multiple=16,
    defaults=Defaults(num_inference_steps=30, guidance_scale=6.0, num_frames=61, height=544, width=960, fps=24),
    min_vram_gb=24,
    # The image-to-video pipeline returns the video without its 4 conditioning frames.
    frames_dropped={IMAGE_TO_VIDEO: 4},
    step_caches=StepCacheSupport(
        works={
            "first_block": (TEXT_TO_VIDEO,),
            "taylorseer": (TEXT_TO_VIDEO,),
            "pyramid_broadcast": (TEXT_TO_VIDEO, IMAGE_TO_VIDEO),
        },
        why_not={
            "first_block": "HunyuanVideoImageToVideoPipeline and HunyuanVideoFramepackPipeline call their "
            "transformer outside any cache_context, which this cache keeps its state under",
            "taylorseer": "HunyuanVideoImageToVideoPipeline and HunyuanVideoFramepackPipeline call their "
            "transformer outside any cache_context, which this cache keeps its state under",
            # offered only where its drift is measured against a PSNR bound (speed.py's tests)
            "pyramid_broadcast": "not measured on HunyuanVideoFramepackPipeline, whose timesteps restart in "
            "every section; its drift there is not yet held to a stated bound",
            "faster_cache": "HunyuanVideo's guidance is embedded (one pass a step) and its true CFG runs the "
            "unconditional pass as a separate call; FasterCache approximates the unconditional half of one "
            "batched CFG call",
            "sea_cache": "SeaCache has a built-in adapter only for Wan text-to-video (and Cosmos 3) in diffusers 0.42",
        },
    ),
)
