"""LTX-Video adapter: LTXPipeline / LTXImageToVideoPipeline."""

from __future__ import annotations

from typing import Any

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.ltx_video.spec import SPEC

# Lightricks' recommended decode settings for checkpoints whose VAE is timestep-conditioned
# (LTX-Video 0.9.1 and later); ignored by the pipeline when the VAE is not.
DECODE_TIMESTEP = 0.03
DECODE_NOISE_SCALE = 0.025


class LTXVideoAdapter(VideoPipelineAdapter):
    spec = SPEC

    def family_call_kwargs(self, task: str, pipe, params: dict[str, Any]) -> dict[str, Any]:
        # LTX conditions its RoPE on the frame rate: pass the fps the video will be written at.
        kwargs: dict[str, Any] = {"frame_rate": params["fps"]}
        vae_config = getattr(getattr(pipe, "vae", None), "config", None)
        if getattr(vae_config, "timestep_conditioning", False):
            kwargs["decode_timestep"] = DECODE_TIMESTEP
            kwargs["decode_noise_scale"] = DECODE_NOISE_SCALE
        return kwargs
