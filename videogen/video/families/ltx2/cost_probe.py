"""The cost model's meta-device probes of LTX-2's own modules, as the pipelines call them.

- ``denoiser_call``: one ``LTX2VideoTransformer3DModel`` forward (``CostFacts.denoiser_probes``): the video tokens the
  shared probe's shapes give, and the audio stream beside them: the audio latent frames of a clip of that many video
  latent frames at the family's default frame rate (the pipelines' ``duration x sample_rate / hop / 4``), each
  stream with its own text sequence (the connectors' outputs) and the two attending to each other in every block.
- ``connectors_call``: the text connectors over every stacked Gemma hidden state (``CostFacts.encoder_probes``).
- ``audio_decode_call``: the audio VAE's decode of the audio latents and the vocoder's waveform from its
  spectrogram: what turns the denoised sound into samples, after the video VAE's decode (``cost.audio_decode``).
"""

from __future__ import annotations

from typing import Any

import torch

_META = torch.device("meta")


def _t(*shape: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.empty(*shape, device=_META, dtype=dtype)


def _dtype(module: torch.nn.Module) -> torch.dtype:
    return next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)


def audio_frames(config, num_frames: int, fps: float) -> int:
    """Audio latent frames of a clip of ``num_frames`` frames at ``fps``, as the pipelines count them from the
    transformer's own audio facts (``round(num_frames / fps x sample rate / hop / audio scale)``: 25 a second)."""
    per_second = config.audio_sampling_rate / config.audio_hop_length / config.audio_scale_factor
    return max(1, round(num_frames / fps * per_second))


def audio_latent_frames(config, video_latent_frames: int, fps: float) -> int:
    """``audio_frames`` of the clip ``video_latent_frames`` latent frames decode to (the VAE's ``8k+1``)."""
    return audio_frames(config, (video_latent_frames - 1) * int(config.vae_scale_factors[0]) + 1, fps)


def denoiser_call(
    module: torch.nn.Module,
    *,
    batch: int,
    frames: int,
    height: int,
    width: int,
    text_tokens: int,
    image_tokens: int = 0,
    per_token_timestep: bool = False,
):
    """One forward on ``frames x height x width`` video latents (patch 1: the pipelines pack them to tokens) and the
    audio latents of as long a clip; ``per_token_timestep``: image-to-video's per-token video timestep."""
    from videogen.video.families.ltx2.spec import SPEC

    del image_tokens  # LTX-2 has no image encoder
    cfg = module.config
    dt = _dtype(module)
    b, n = batch, frames * height * width
    audio = audio_latent_frames(cfg, frames, SPEC.defaults.fps)
    timestep = _t(b, n, dtype=torch.float32) if per_token_timestep else _t(b, dtype=torch.float32)
    kwargs: dict[str, Any] = {
        "hidden_states": _t(b, n, cfg.in_channels, dtype=dt),
        "audio_hidden_states": _t(b, audio, cfg.audio_in_channels, dtype=dt),
        "encoder_hidden_states": _t(b, text_tokens, cfg.caption_channels, dtype=dt),
        "audio_encoder_hidden_states": _t(b, text_tokens, cfg.caption_channels, dtype=dt),
        "timestep": timestep,
        "audio_timestep": _t(b, dtype=torch.float32),
        "sigma": _t(b, dtype=torch.float32),
        "encoder_attention_mask": _t(b, text_tokens, dtype=dt),
        "audio_encoder_attention_mask": _t(b, text_tokens, dtype=dt),
        "num_frames": frames,
        "height": height,
        "width": width,
        "fps": float(SPEC.defaults.fps),
        "audio_num_frames": audio,
        "return_dict": False,
    }
    return (lambda: module(**kwargs)), [v for v in kwargs.values() if isinstance(v, torch.Tensor)]


def connectors_call(module: torch.nn.Module, *, tokens: int):
    """The connectors over ``tokens`` tokens of every text-encoder layer's states, stacked (``caption_channels x
    text_proj_in_factor`` wide), with the tokenizer's mask."""
    cfg = module.config
    dt = _dtype(module)
    states = _t(1, tokens, cfg.caption_channels * cfg.text_proj_in_factor, dtype=dt)
    mask = torch.ones(1, tokens, dtype=torch.long, device=_META)
    return (lambda: module(states, mask)), [states, mask]


def audio_decode_call(audio_vae: torch.nn.Module, vocoder: torch.nn.Module, *, audio_frames: int):
    """The audio VAE's decode of ``audio_frames`` latent frames, then the vocoder on the spectrogram it gives."""
    cfg = audio_vae.config
    latents = _t(
        1, cfg.latent_channels, audio_frames, cfg.mel_bins // audio_vae.mel_compression_ratio, dtype=_dtype(audio_vae)
    )

    def run():
        mel = audio_vae.decode(latents, return_dict=False)[0]
        return vocoder(mel.to(_dtype(vocoder)))

    return run, [latents]
