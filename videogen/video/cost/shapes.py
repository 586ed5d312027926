"""Latent shape, video tokens and text tokens of a request, as each family's pipeline computes them.

Each number is the one the diffusers 0.42 pipeline uses (``prepare_latents``, ``encode_prompt``,
the ``do_classifier_free_guidance`` property): the family's facts (``families/<family>/cost.py``,
read through ``get_cost_facts``) say how the pipeline reads them, and the values come from the
preset's own VAE/denoiser, so a preset with a different VAE (Wan 2.2's /16) is right without a
table entry. An unknown family is refused (``UnknownFamilyError``), never given another's costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from videogen.video.arch.preset import ArchPreset
from videogen.video.cost.facts import CfgMode, CostFacts, SectionFacts, TextFacts
from videogen.video.cost.meta_models import meta_module
from videogen.video.families import get_cost_facts
from videogen.video.spec import VIDEO_TO_VIDEO


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
    image_tokens: int = 0  # Wan 2.1 I2V: CLIP image tokens in the denoiser's image cross-attention (FLF2V: 2 x 257)
    vae_encode_frames: int = 0  # i2v: frames of the conditioning video the VAE encodes
    vae_encode_runs: int = 1  # times it encodes them (FramePack: the first and the last image)
    image_encoder_runs: int = 0  # images the image encoder embeds (first-last-frame: two)
    notes: list[str] = field(default_factory=list)


def _vae(preset: ArchPreset):
    return meta_module(preset.component("vae"))


def cost_facts(preset: ArchPreset) -> CostFacts:
    """The preset's family's cost facts; ``UnknownFamilyError`` for a family VideoGen does not list."""
    return get_cost_facts(preset.family)


def compression(preset: ArchPreset) -> tuple[int, int]:
    """(spatial, temporal) compression as the family's pipeline reads it from its VAE."""
    facts = cost_facts(preset)
    vae = _vae(preset)
    config = vae.config
    if facts.vae_spatial == "config_scale_factor":
        spatial = config.scale_factor_spatial
    elif facts.vae_spatial == "module_ratio":
        spatial = vae.spatial_compression_ratio
    else:  # "downsample_blocks": one 2x downsampling between consecutive blocks
        spatial = 2 ** (len(config.block_out_channels) - 1)
    if facts.vae_temporal == "config_scale_factor":
        temporal = config.scale_factor_temporal
    elif facts.vae_temporal == "config_ratio":
        temporal = config.temporal_compression_ratio
    elif facts.vae_temporal == "module_ratio":
        temporal = vae.temporal_compression_ratio
    else:  # "none": a 2D VAE, every frame its own latent frame
        temporal = 1
    return int(spatial), int(temporal)


def latent_channels(preset: ArchPreset) -> int:
    config = _vae(preset).config
    return int(config.z_dim if "z_dim" in config else config.latent_channels)


def latent_shape(preset: ArchPreset, num_frames: int, height: int, width: int) -> LatentShape:
    """The latents ``prepare_latents`` makes for a request (after the pipeline's own frame padding)."""
    spatial, temporal = compression(preset)
    frames = (num_frames - 1) // temporal + 1 if temporal > 1 else num_frames
    if cost_facts(preset).pad_latent_frames_to_patch:
        # CogVideoX 1.5 pads latent frames to a multiple of the transformer's temporal patch.
        patch_t = preset.component(preset.denoiser).config.get("patch_size_t")
        if patch_t and frames % patch_t:
            frames += patch_t - frames % patch_t
    return LatentShape(latent_channels(preset), frames, height // spatial, width // spatial)


@dataclass(frozen=True)
class Sections:
    """A sectioned pipeline's request (FramePack): how many sections, one section's latents, the packed context
    tokens beside them, and the latents of each VAE decode (one after every section)."""

    count: int
    window: LatentShape
    context_tokens: int
    decoded: tuple[LatentShape, ...]

    def note(self) -> str:
        return (
            f"{self.count} section(s) of {self.window.frames} latent frames, each denoised over every step beside "
            f"{self.context_tokens} tokens of packed history (latent: one section's); the VAE decodes after each"
        )


def section_facts(preset: ArchPreset, task: str) -> SectionFacts | None:
    """How the pipeline that runs ``task`` on ``preset`` denoises in sections; None for one without sections."""
    return cost_facts(preset).sections.get(preset.pipeline_classes.get(task, ""))


def text_facts(preset: ArchPreset, task: str) -> TextFacts:
    """The text sequences of ``task`` as the pipeline that runs it on ``preset`` encodes them."""
    return cost_facts(preset).text_for(task, preset.pipeline_classes.get(task))


def sections_of(preset: ArchPreset, task: str, num_frames: int, height: int, width: int) -> Sections | None:
    """The sections a request of ``num_frames`` (the video's) runs in; None for a pipeline without sections."""
    facts = section_facts(preset, task)
    if facts is None:
        return None
    temporal = compression(preset)[1]

    def latents(frames: int) -> LatentShape:
        return latent_shape(preset, (frames - 1) * temporal + 1, height, width)

    count = facts.sections(num_frames)
    window = latents(facts.window)
    decoded = tuple(latents(f) for f in facts.decode_latents(count))
    return Sections(count, window, facts.context_tokens(window.height, window.width), decoded)


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
    return 2 if cost_facts(preset).cfg != "none" and guidance_scale > 1.0 else 1


def _patch_tokens(preset: ArchPreset) -> int:
    """Patch tokens of the preset's image encoder on one image (SigLIP: no class token)."""
    config = preset.component("image_encoder").config
    return (int(config["image_size"]) // int(config["patch_size"])) ** 2


def pipeline_facts(preset: ArchPreset, task: str, num_frames: int) -> PipelineFacts:
    facts = cost_facts(preset)
    text = text_facts(preset, task)
    denoiser = preset.component(preset.denoiser).config
    images = facts.image_tasks.get(task, 0)  # image-to-video: 1; first-last-frame: 2
    if section_facts(preset, task) is not None:  # FramePack: image tokens beside the text, each image VAE-encoded
        return PipelineFacts(
            text_tokens=text.denoiser_tokens(denoiser),
            encoder_tokens=text.encoder_lengths(denoiser),
            cfg=facts.cfg,
            image_tokens=_patch_tokens(preset),
            vae_encode_frames=1,
            vae_encode_runs=images,
            image_encoder_runs=images,
            notes=list(text.notes),
        )
    i2v = images > 0
    image_encoder = (
        i2v and bool(facts.image_encoder_tokens) and any(c.name == "image_encoder" for c in preset.components)
    )
    encode_frames = 0
    encode = facts.i2v_vae_encode_by_pipeline.get(preset.pipeline_classes.get(task, ""), facts.i2v_vae_encode)
    if i2v and encode == "image":
        encode_frames = 1
    elif i2v and encode == "clip":
        # The image followed by zero frames, the whole clip; with expand_timesteps the image only.
        encode_frames = 1 if preset.pipeline_kwargs.get("expand_timesteps") else num_frames
    # Every video-to-video pipeline VAE-encodes the input clip once (its latents are noised to the strength's
    # timestep); a family's facts say when a task encodes a clip otherwise (Wan VACE: twice).
    clip_encodes = facts.clip_vae_encodes.get(task, 1 if task == VIDEO_TO_VIDEO else 0)
    if clip_encodes:
        encode_frames = num_frames
    return PipelineFacts(
        text_tokens=text.denoiser_tokens(denoiser),
        encoder_tokens=text.encoder_lengths(denoiser),
        cfg=facts.cfg,
        image_tokens=facts.image_encoder_tokens * images if image_encoder else 0,
        vae_encode_frames=encode_frames,
        # a clip encodes once; images one at a time each (SkyReels-V2 DF's first-last-frame: two)
        vae_encode_runs=clip_encodes or (images if i2v and encode == "image" else 1),
        image_encoder_runs=images if image_encoder else 0,
        notes=list(text.notes),
    )


def text_encoder_runs(preset: ArchPreset, guidance_scale: float) -> int:
    """Prompt encodings per request: the negative prompt is encoded too when CFG is on."""
    return cfg_passes(preset, guidance_scale)
