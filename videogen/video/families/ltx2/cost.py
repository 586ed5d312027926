"""LTX-2's cost facts (``LTX2Pipeline`` / ``LTX2ImageToVideoPipeline`` / ``LTX2ConditionPipeline``, diffusers 0.42).

Text: Gemma-3 runs on the prompt padded to ``max_sequence_length`` (1024) and every one of its hidden states is
stacked for the text connectors, which give the transformer one 1024-token sequence per stream (learnable registers
in the padding). The transformer denoises video tokens (VAE /32 spatial, /8 temporal, patch 1) and, beside them, the
audio latents of as long a clip (25 a second: ``cost_probe``), batched with the negative prompt under CFG (the adapter
runs LTX-2.0's guidance: CFG alone, one batched pass). After the video VAE, the audio VAE and the vocoder decode the
sound (``audio_decode``), priced for the family's default frame rate.
"""

from __future__ import annotations

import threading

from videogen.video.cost.facts import AfterDecode, CostFacts, TextFacts, VaeLaw, lazy
from videogen.video.cost.fit import fit, term
from videogen.video.spec import IMAGE_TO_VIDEO, KEYFRAMES

TEXT_TOKENS = 1024  # the pipelines' max_sequence_length
# LTX2ConditionPipeline appends every latent frame of a condition after frame 0 as tokens (no prefix cut, unlike
# LTX-Video's two): no bound on the frames counted
EVERY_LATENT_FRAME = 1 << 30
_AUDIO_POINTS = (25, 50)  # audio latent frames (1 s and 2 s) the decoders are measured at: both are linear in them
_LOCK = threading.Lock()
_AUDIO_FITS: dict[tuple, tuple] = {}


def audio_decode(preset, num_frames: int) -> AfterDecode:
    """The audio VAE's decode and the vocoder for a clip of ``num_frames`` at the family's default frame rate:
    convolutions over the audio's length, so FLOPs and peak are ``a + b x audio frames``, fitted from two lengths."""
    from videogen.video.cost.measure import measure, module_tensors
    from videogen.video.cost.meta_models import component_key, meta_module
    from videogen.video.families.ltx2.cost_probe import audio_decode_call, audio_frames
    from videogen.video.families.ltx2.spec import SPEC

    parts = ("audio_vae", "vocoder")
    key = tuple(component_key(preset.component(name)) for name in parts)
    with _LOCK:
        if key not in _AUDIO_FITS:
            audio_vae, vocoder = (meta_module(preset.component(name)) for name in parts)
            runs = []
            for frames in _AUDIO_POINTS:
                call, inputs = audio_decode_call(audio_vae, vocoder, audio_frames=frames)
                runs.append(measure(call, exclude=[*module_tensors(audio_vae, vocoder), *inputs]))
            points = [{"a": a} for a in _AUDIO_POINTS]
            terms = (term(), term(a=1))
            _AUDIO_FITS[key] = (
                fit(terms, points, [r.flops for r in runs]),
                fit(terms, points, [r.peak_bytes for r in runs]),
            )
        flops, peak = _AUDIO_FITS[key]
    transformer = preset.component(preset.denoiser).config
    length = audio_frames(_AudioFacts(transformer), num_frames, SPEC.defaults.fps)
    return AfterDecode(components=parts, flops=flops(a=length), peak_bytes=int(peak(a=length)))


class _AudioFacts:
    """The transformer config values ``audio_frames`` reads, from a preset's config dict (defaults: LTX-2.0's)."""

    def __init__(self, config: dict) -> None:
        self.audio_sampling_rate = config.get("audio_sampling_rate", 16000)
        self.audio_hop_length = config.get("audio_hop_length", 160)
        self.audio_scale_factor = config.get("audio_scale_factor", 4)


COST = CostFacts(
    vae_spatial="module_ratio",
    vae_temporal="module_ratio",
    cfg="batched",
    text=TextFacts(
        tokens=TEXT_TOKENS,
        encoder_tokens={"text_encoder": TEXT_TOKENS, "connectors": TEXT_TOKENS},
        notes=(
            "the transformer's audio stream is priced at the family's default 24 fps (25 audio latents a second of "
            "video); another frame rate changes its length",
        ),
    ),
    # the first frame alone (one pixel frame), as the first latent frame's clean value
    i2v_vae_encode="image",
    # image-to-video keeps the first latent frame clean, keyframes their conditions' tokens: the video timestep is
    # per token ((1 - mask) x t)
    per_token_timestep_tasks=frozenset({IMAGE_TO_VIDEO, KEYFRAMES}),
    # LTX2ConditionPipeline VAE-encodes every condition; one after frame 0 joins the sequence whole, as tokens
    keyframe_token_frames={KEYFRAMES: EVERY_LATENT_FRAME},
    denoiser_probes={"LTX2VideoTransformer3DModel": lazy("videogen.video.families.ltx2.cost_probe:denoiser_call")},
    encoder_probes={"LTX2TextConnectors": lazy("videogen.video.families.ltx2.cost_probe:connectors_call")},
    after_decode=audio_decode,
    # latent_upscale's upsampler (``upscale.py``), run once between the two stages
    latent_upsampler_class="diffusers.pipelines.ltx2.latent_upsampler:LTX2LatentUpsamplerModel",
    # The decoder is convolutions over F·S (and S: its causal first chunk) without attention, like LTX-Video's
    vae_laws={
        "AutoencoderKLLTX2Video": VaeLaw(
            flop_terms=(term(), term(s=1), term(f=1, s=1)),
            flop_points=((2, 0), (5, 0), (2, 1)),
            peak_terms=(term(s=1), term(f=1, s=1)),
            peak_points=((2, 0), (5, 0), (2, 1)),
        )
    },
)

__all__ = ["COST", "audio_decode"]
