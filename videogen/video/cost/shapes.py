"""Latent shape, video tokens and text tokens of a request, as each family's pipeline computes them.

Each number is the one the diffusers 0.42 pipeline uses (``prepare_latents``, ``encode_prompt``,
the ``do_classifier_free_guidance`` property), read from the preset's own VAE/denoiser so a
preset with a different VAE (Wan 2.2's /16) is right without a table entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from videogen.video.arch.preset import ArchPreset
from videogen.video.cost.meta_models import meta_module
from videogen.video.spec import IMAGE_TO_VIDEO

# How a pipeline runs classifier-free guidance when guidance_scale > 1:
# "batched": one forward on a batch of 2 (cond + uncond); "sequential": two forwards of batch 1;
# "none": the guidance is an input of the model (HunyuanVideo's embedded guidance), one forward.
CfgMode = Literal["batched", "sequential", "none"]

# SANA-Video prepends its default "complex human instruction" (8 lines, ~1,000 characters)
# to the prompt and tokenises to ``instruction tokens + 300 - 2``. The Gemma tokenizer is not
# available offline; ~4.5 characters per token gives ~220 tokens (approximate).
_SANA_INSTRUCTION_TOKENS = 220
# HunyuanVideo's prompt templates: tokens of the template prefix the pipeline crops away.
_HUNYUAN_T2V_CROP = 95
_HUNYUAN_I2V_CROP = 103
_HUNYUAN_IMAGE_TOKENS = 576  # LLaVA's CLIP-L/336 image tokens spliced into the Llama input


@dataclass(frozen=True)
class LatentShape:
    """The denoised latents (batch 1): channels x frames x height x width."""

    channels: int
    frames: int
    height: int
    width: int

    @property
    def pixels_per_frame(self) -> int:
        return self.height * self.width


@dataclass(frozen=True)
class PipelineFacts:
    """What one request runs besides the denoiser's own shape."""

    text_tokens: int  # the sequence the denoiser cross-attends to (per CFG branch)
    encoder_tokens: dict[str, int]  # text-encoder component -> sequence length it runs at
    cfg: CfgMode
    image_tokens: int = 0  # Wan 2.1 I2V: CLIP image tokens in the denoiser's image cross-attention
    vae_encode_frames: int = 0  # i2v: frames of the conditioning video the VAE encodes
    image_encoder_runs: int = 0
    notes: list[str] = field(default_factory=list)


def _vae(preset: ArchPreset):
    return meta_module(preset.component("vae"))


def compression(preset: ArchPreset) -> tuple[int, int]:
    """(spatial, temporal) compression as the family's pipeline reads it from its VAE."""
    vae = _vae(preset)
    config = vae.config
    family = preset.family
    if family in ("wan", "sana-video"):
        return int(config.scale_factor_spatial), int(config.scale_factor_temporal)
    if family == "cogvideox":
        return 2 ** (len(config.block_out_channels) - 1), int(config.temporal_compression_ratio)
    if family in ("ltx-video", "hunyuan-video"):
        return int(vae.spatial_compression_ratio), int(vae.temporal_compression_ratio)
    # Stable-Diffusion-based families: a 2D VAE decoding every frame, no temporal compression.
    return 2 ** (len(config.block_out_channels) - 1), 1


def latent_channels(preset: ArchPreset) -> int:
    config = _vae(preset).config
    return int(config.z_dim if "z_dim" in config else config.latent_channels)


def latent_shape(preset: ArchPreset, num_frames: int, height: int, width: int) -> LatentShape:
    """The latents ``prepare_latents`` makes for a request (after the pipeline's own frame padding)."""
    spatial, temporal = compression(preset)
    frames = (num_frames - 1) // temporal + 1 if temporal > 1 else num_frames
    if preset.family == "cogvideox":
        # CogVideoX 1.5 pads latent frames to a multiple of the transformer's temporal patch.
        patch_t = preset.component(preset.denoiser).config.get("patch_size_t")
        if patch_t and frames % patch_t:
            frames += patch_t - frames % patch_t
    return LatentShape(latent_channels(preset), frames, height // spatial, width // spatial)


def denoiser_patch(preset: ArchPreset) -> tuple[int, int, int]:
    """(t, h, w) latent cells per token; UNets work on single latent pixels."""
    config = preset.component(preset.denoiser).config
    patch = config.get("patch_size", 1)
    if isinstance(patch, (list, tuple)):
        return int(patch[0]), int(patch[1]), int(patch[2])
    return int(config.get("patch_size_t") or 1), int(patch), int(patch)


def video_tokens(preset: ArchPreset, latent: LatentShape) -> int:
    """Tokens the denoiser attends over (for a UNet: latent pixels, F·h·w)."""
    pt, ph, pw = denoiser_patch(preset)
    return (latent.frames // pt) * (latent.height // ph) * (latent.width // pw)


def cfg_passes(preset: ArchPreset, guidance_scale: float) -> int:
    """Denoiser passes per step (each at batch 1): 2 with classifier-free guidance, else 1."""
    return 2 if _cfg_mode(preset) != "none" and guidance_scale > 1.0 else 1


def _cfg_mode(preset: ArchPreset) -> CfgMode:
    # Wan calls the transformer twice (cond, then uncond); HunyuanVideo embeds the guidance
    # (its true CFG needs true_cfg_scale > 1 and a negative prompt, which the service never sets);
    # the others concatenate the two branches into one batch.
    return {"wan": "sequential", "hunyuan-video": "none"}.get(preset.family, "batched")


def pipeline_facts(preset: ArchPreset, task: str, num_frames: int) -> PipelineFacts:
    family = preset.family
    denoiser = preset.component(preset.denoiser).config
    names = {c.name for c in preset.components}
    i2v = task == IMAGE_TO_VIDEO
    cfg = _cfg_mode(preset)
    if family == "wan":
        expand = bool(preset.pipeline_kwargs.get("expand_timesteps"))
        clip = i2v and "image_encoder" in names
        return PipelineFacts(
            text_tokens=512,
            encoder_tokens={"text_encoder": 512},
            cfg=cfg,
            image_tokens=257 if clip else 0,  # CLIP-H/14 at 224: 16x16 patches + class token
            image_encoder_runs=1 if clip else 0,
            # Wan 2.1 I2V encodes the image followed by zero frames, the whole clip; Wan 2.2 the image only.
            vae_encode_frames=(1 if expand else num_frames) if i2v else 0,
        )
    if family == "cogvideox":
        tokens = int(denoiser.get("max_text_seq_length", 226))
        return PipelineFacts(tokens, {"text_encoder": tokens}, cfg, vae_encode_frames=1 if i2v else 0)
    if family == "ltx-video":
        return PipelineFacts(128, {"text_encoder": 128}, cfg, vae_encode_frames=1 if i2v else 0)
    if family == "hunyuan-video":
        if i2v:
            # Llama sees template + image tokens + prompt; the transformer gets every 2nd image token
            # (latent_concat; every 4th for token_replace) and the prompt less the template and
            # the 4 assistant-header tokens.
            llama = 256 + _HUNYUAN_I2V_CROP + _HUNYUAN_IMAGE_TOKENS - 1
            interleave = 4 if denoiser.get("image_condition_type") == "token_replace" else 2
            text = _HUNYUAN_IMAGE_TOKENS // interleave + llama - (_HUNYUAN_I2V_CROP - 1 + _HUNYUAN_IMAGE_TOKENS) - 4
            return PipelineFacts(
                text,
                {"text_encoder": llama, "text_encoder_2": 77},
                cfg,
                vae_encode_frames=1,
                notes=["the i2v text encoder also runs its CLIP-L/336 vision tower on the image"],
            )
        return PipelineFacts(256, {"text_encoder": 256 + _HUNYUAN_T2V_CROP, "text_encoder_2": 77}, cfg)
    if family == "sana-video":
        return PipelineFacts(
            300,
            {"text_encoder": _SANA_INSTRUCTION_TOKENS + 300 - 2},
            cfg,
            vae_encode_frames=1 if i2v else 0,
            notes=["Gemma-2 sequence length includes an approximate count of the instruction prefix"],
        )
    # CLIP text encoders (TextToVideoSD, AnimateDiff).
    return PipelineFacts(77, {"text_encoder": 77}, cfg)


def text_encoder_runs(preset: ArchPreset, guidance_scale: float) -> int:
    """Prompt encodings per request: the negative prompt is encoded too when CFG is on."""
    return cfg_passes(preset, guidance_scale)
