"""What the cost model needs to know about a family's pipeline: ``CostFacts``, one per family.

Each family states its facts in ``families/<family>/cost.py`` (``COST``); the cost model
(``shapes``, ``calibrate``, ``vae_tiles``) reads them through ``families.get_cost_facts`` and
never branches on a family's name. Every number is the one the family's diffusers 0.42
pipeline uses (``prepare_latents``, ``encode_prompt``, ``do_classifier_free_guidance``,
``decode_latents``); what a preset can say for itself (its VAE's ratios, its denoiser's
patch) is read from the preset, so a preset with a different VAE needs no new facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from videogen.video.cost.fit import Term
from videogen.video.spec import IMAGE_TO_VIDEO

# How a pipeline runs classifier-free guidance when guidance_scale > 1:
# "batched": one forward on a batch of 2 (cond + uncond); "sequential": two forwards of batch 1;
# "none": the guidance is an input of the model (HunyuanVideo's embedded guidance), one forward.
CfgMode = Literal["batched", "sequential", "none"]

# Where the pipeline reads the VAE's spatial compression:
# "config_scale_factor": ``vae.config.scale_factor_spatial``;
# "module_ratio": the module's ``spatial_compression_ratio`` attribute;
# "downsample_blocks": ``2 ** (len(vae.config.block_out_channels) - 1)``.
SpatialRule = Literal["config_scale_factor", "module_ratio", "downsample_blocks"]
# ... and its temporal compression: "config_scale_factor": ``vae.config.scale_factor_temporal``;
# "config_ratio": ``vae.config.temporal_compression_ratio``; "module_ratio": the module's
# ``temporal_compression_ratio``; "none": a 2D VAE, every frame its own latent frame.
TemporalRule = Literal["config_scale_factor", "config_ratio", "module_ratio", "none"]

# The frames the VAE encodes for image-to-video conditioning: "none" (the family has no
# VAE-encoded conditioning), "image" (the image alone), "clip" (the image followed by zero
# frames, the whole clip; a pipeline run with ``expand_timesteps`` encodes the image alone).
I2vEncode = Literal["none", "image", "clip"]


def lazy(path: str) -> Callable:
    """The function ``"module:function"`` names, imported at its first call: a family's cost probe or pricer imports
    torch and diffusers, and its ``CostFacts`` are read where neither is (the ingress validating a request)."""

    def call(*args, **kwargs):
        from videogen.video.dotted import resolve

        return resolve(path)(*args, **kwargs)

    call.__qualname__ = call.__name__ = path
    return call


@dataclass(frozen=True)
class VaeLaw:
    """How a VAE class's plain decode scales, and where to measure it (``calibrate``).

    Variables: F latent frames (a 2D VAE: frames in the batch), S latent pixels per frame,
    O = 1 when F is odd. Points are (F, spatial scale) with scale 0 = the family's default
    latent size, 1 = half of it per side, 2 = three quarters.
    """

    flop_terms: tuple[Term, ...]
    flop_points: tuple[tuple[int, int], ...]
    peak_terms: tuple[Term, ...]
    peak_points: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class AfterDecode:
    """Decoders a pipeline runs after the VAE's decode, for one request: the components they are, their FLOPs and
    their activation peak (measured in bfloat16, like every stage's)."""

    components: tuple[str, ...]
    flops: float
    peak_bytes: int


@dataclass(frozen=True)
class TextFacts:
    """The text sequences of one task.

    ``tokens``: the sequence the denoiser cross-attends to (per CFG branch); when
    ``tokens_config_key`` is set and the denoiser's config has it, that value instead.
    ``encoder_tokens``: text-encoder component -> the sequence length it runs at
    (``None``: the denoiser's text length, after the config override).
    """

    tokens: int
    encoder_tokens: Mapping[str, int | None]
    tokens_config_key: str | None = None
    # Image tokens the text encoder splices into the prompt (HunyuanVideo i2v's LLaVA): the
    # denoiser sees every ``splice_stride``-th of them on top of ``tokens``; the stride is
    # ``splice_strides[denoiser.config[splice_config_key]]`` when that value is listed.
    spliced_image_tokens: int = 0
    splice_stride: int = 1
    splice_config_key: str | None = None
    splice_strides: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def _prompt_tokens(self, denoiser_config: Mapping) -> int:
        if self.tokens_config_key is None:
            return self.tokens
        return int(denoiser_config.get(self.tokens_config_key, self.tokens))

    def denoiser_tokens(self, denoiser_config: Mapping) -> int:
        """The text sequence the denoiser cross-attends to, for a denoiser of this config."""
        tokens = self._prompt_tokens(denoiser_config)
        if self.spliced_image_tokens:
            stride = self.splice_stride
            if self.splice_config_key is not None:
                stride = self.splice_strides.get(denoiser_config.get(self.splice_config_key), stride)
            tokens += self.spliced_image_tokens // stride
        return tokens

    def encoder_lengths(self, denoiser_config: Mapping) -> dict[str, int]:
        """Text-encoder component -> the sequence length it runs at."""
        text = self._prompt_tokens(denoiser_config)
        return {name: text if tokens is None else tokens for name, tokens in self.encoder_tokens.items()}


@dataclass(frozen=True)
class SectionFacts:
    """A pipeline that denoises the video section by section (FramePack).

    Each section denoises ``window`` latent frames beside packed context: ``history`` lists each context part as
    (latent frames, temporal kernel, spatial kernel) of the patch embedder that packs it. The job's
    ``num_frames`` is the video's (``frames_per_section`` per section plus the first frame). The VAE decodes
    after every section (``decode_latents``); the image encoder embeds and the VAE encodes each of the task's images
    (``CostFacts.image_tasks``: the first frame, and the last for first-last-frame).
    """

    window: int
    frames_per_section: int
    history: tuple[tuple[int, int, int], ...]

    def sections(self, num_frames: int) -> int:
        return max(1, -(-(num_frames - 1) // self.frames_per_section))

    def context_tokens(self, height: int, width: int) -> int:
        """Tokens of the packed context at ``height x width`` latent pixels (each part padded to its kernel)."""
        return sum(-(-f // kt) * -(-height // ks) * -(-width // ks) for f, kt, ks in self.history)

    def decode_latents(self, sections: int) -> list[int]:
        """Latent frames of each section's VAE decode: the first window (+ the image's latent frame when it is
        also the last), then the newest two windows (+ that frame for the last)."""
        if sections == 1:
            return [self.window + 1]
        return [self.window] + [2 * self.window] * (sections - 2) + [2 * self.window + 1]


@dataclass(frozen=True)
class CostFacts:
    """A family's pipeline, as far as its cost goes."""

    vae_spatial: SpatialRule
    vae_temporal: TemporalRule
    cfg: CfgMode
    text: TextFacts
    # Per-task replacements of ``text`` (a task not listed uses ``text``), and per pipeline class, which beat them
    # (FramePack runs image-to-video on a FramePack checkpoint with its own text encoders).
    text_by_task: Mapping[str, TextFacts] = field(default_factory=dict)
    text_by_pipeline: Mapping[str, TextFacts] = field(default_factory=dict)
    # The pipeline pads latent frames to a multiple of the denoiser's ``patch_size_t`` (CogVideoX 1.5).
    pad_latent_frames_to_patch: bool = False
    # Latent frames per VAE decode call for a 2D VAE decoding frames as a batch (None: all at once).
    decode_chunk: int | None = None
    # Image-to-video: what the VAE encodes, and the tasks whose every token gets its own timestep.
    i2v_vae_encode: I2vEncode = "none"
    per_token_timestep_tasks: frozenset[str] = frozenset()
    # Image-to-video with an ``image_encoder`` component: the image tokens it gives the denoiser (per image).
    image_encoder_tokens: int = 0
    # The tasks conditioned on still images as image-to-video is (the VAE encode of ``i2v_vae_encode``, the image
    # encoder's tokens), and how many images each gives: Wan's first-last-frame embeds both images (2 x the tokens
    # in the image cross-attention) and encodes the clip they bound once, like its image-to-video.
    image_tasks: Mapping[str, int] = field(default_factory=lambda: {IMAGE_TO_VIDEO: 1})
    # Pipeline classes that denoise in sections (FramePack), and how: keyed by the class, since one task may run
    # through it on one checkpoint and not on another (HunyuanVideo's image-to-video).
    sections: Mapping[str, SectionFacts] = field(default_factory=dict)
    # Tasks whose pipeline VAE-encodes the whole clip, and how many times (Wan VACE: the kept and the regenerated
    # video, each of the job's frames, even for reference-to-video's empty clip).
    clip_vae_encodes: Mapping[str, int] = field(default_factory=dict)
    # The class of the latent upsampler a model directory may hold (``model_meta.LATENT_UPSAMPLER_DIR``; LTX-Video's
    # spatial upscaler), as ``module:Class``: built on the meta device from the directory's config to count its FLOPs.
    latent_upsampler_class: str | None = None
    # Tasks whose reference images are each VAE-encoded as one frame and denoised as one more latent frame in
    # front of the video's (Wan VACE); ``cost.conditioning`` prices them from the job's own count.
    reference_image_tasks: frozenset[str] = frozenset()
    # Tasks whose keyframe conditions are each VAE-encoded and, placed after frame 0, join the denoised sequence
    # as tokens: an image's one latent frame, a clip's first this many (LTX's ``num_prefix_latent_frames``).
    keyframe_token_frames: Mapping[str, int] = field(default_factory=dict)
    # Tasks whose pipeline runs the model's ``controlnet`` component beside its UNet at every step, on the control
    # frames at the job's size, its residuals added to the UNet's (AnimateDiff's control-to-video): priced as part
    # of the denoiser's step.
    controlnet_tasks: frozenset[str] = frozenset()
    # The family's own meta-device probes of denoiser classes the shared ones (``probes.denoiser_call``) do not know, by
    # class name: ``probe(module, *, batch, frames, height, width, text_tokens, image_tokens) -> (call, inputs)``
    # (HunyuanVideo 1.5's transformer, whose forward packs its conditions by boolean masks).
    denoiser_probes: Mapping[str, Callable] = field(default_factory=dict)
    # Decode laws of VAE classes the shared table (``calibrate``) does not know, by class name.
    vae_laws: Mapping[str, VaeLaw] = field(default_factory=dict)
    # Denoiser config values its forward never reads (HunyuanVideo 1.5's target_size and task_type, which only its
    # pipelines read): presets that differ in nothing else share one calibration.
    cost_neutral_config: frozenset[str] = frozenset()
    # The family's own meta-device probes of text-side modules the shared ``probes.encoder_call`` does not know, by
    # class name: ``probe(module, *, tokens) -> (call, inputs)`` (LTX-2's text connectors, listed in
    # ``TextFacts.encoder_tokens`` like a text encoder: they run on every stacked Gemma hidden state).
    encoder_probes: Mapping[str, Callable] = field(default_factory=dict)
    # Decoders the pipeline runs after the VAE's (LTX-2's audio VAE and vocoder: the sound as samples):
    # ``after_decode(preset, num_frames) -> AfterDecode``, priced as a stage of their own.
    after_decode: Callable | None = None
    # Per pipeline class, what image-to-video VAE-encodes where it is not ``i2v_vae_encode`` (SkyReels-V2: the
    # diffusion-forcing pipeline encodes the image alone, a plain image-to-video checkpoint's the whole clip).
    i2v_vae_encode_by_pipeline: Mapping[str, I2vEncode] = field(default_factory=dict)
    # A pipeline whose denoiser does not run ``steps`` forwards over the whole clip prices a job itself, from its
    # settled params: ``price_job(cost, estimate, params) -> CostEstimate``, given the plain estimate and
    # ``estimate(num_frames, height, width, steps, guidance_scale)`` of the same model at another size (SkyReels-V2's
    # diffusion forcing: each window its own calls over its own latent frames). It returns ``cost`` for other jobs.
    price_job: Callable | None = None

    def text_for(self, task: str, pipeline_class: str | None = None) -> TextFacts:
        if pipeline_class in self.text_by_pipeline:
            return self.text_by_pipeline[pipeline_class]
        return self.text_by_task.get(task, self.text)
