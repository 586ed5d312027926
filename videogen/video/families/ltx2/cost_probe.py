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

from videogen.video.cost.meta_tensors import meta_tensors, module_dtype


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
    t = meta_tensors(module)
    b, n = batch, frames * height * width
    audio = audio_latent_frames(cfg, frames, SPEC.defaults.fps)
    timestep = t(b, n, dtype=torch.float32) if per_token_timestep else t(b, dtype=torch.float32)
    kwargs: dict[str, Any] = {
        "hidden_states": t(b, n, cfg.in_channels),
        "audio_hidden_states": t(b, audio, cfg.audio_in_channels),
        "encoder_hidden_states": t(b, text_tokens, cfg.caption_channels),
        "audio_encoder_hidden_states": t(b, text_tokens, cfg.caption_channels),
        "timestep": timestep,
        "audio_timestep": t(b, dtype=torch.float32),
        "sigma": t(b, dtype=torch.float32),
        "encoder_attention_mask": t(b, text_tokens),
        "audio_encoder_attention_mask": t(b, text_tokens),
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
    t = meta_tensors(module)
    states = t(1, tokens, cfg.caption_channels * cfg.text_proj_in_factor)
    mask = torch.ones(1, tokens, dtype=torch.long, device="meta")
    return (lambda: module(states, mask)), [states, mask]


def audio_decode_call(audio_vae: torch.nn.Module, vocoder: torch.nn.Module, *, audio_frames: int):
    """The audio VAE's decode of ``audio_frames`` latent frames, then the vocoder on the spectrogram it gives."""
    cfg = audio_vae.config
    latents = meta_tensors(audio_vae)(
        1, cfg.latent_channels, audio_frames, cfg.mel_bins // audio_vae.mel_compression_ratio
    )

    def run():
        mel = audio_vae.decode(latents, return_dict=False)[0]
        return vocoder(mel.to(module_dtype(vocoder)))

    return run, [latents]
