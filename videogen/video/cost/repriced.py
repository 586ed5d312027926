"""An estimate's figures recomputed after its job is priced from parts (SkyReels-V2's windows, Helios' chunks, a
two-pass latent upscale): a memory entry with some stages changed, the seconds at the job's FLOPs. One formula each,
the same as ``estimate`` uses for a plain job."""

from __future__ import annotations

from videogen.video.cost import memory

# (No import of ``estimate``, not even for its types: the families' pricers import this module, and ``estimate``
# imports the families.)


def with_stages(entry, **stages: int):
    """``entry`` (an estimate's ``PlacementMemory``) with ``stages`` (device bytes by stage name) replaced, and its
    peak and requirement with them."""
    merged = {**entry.stages, **stages}
    peak = max(merged.values())
    required = memory.required_bytes(peak)
    return entry.model_copy(
        update={
            "stages": merged,
            "peak_bytes": peak,
            "required_bytes": required,
            "required_gb": round(required / memory.GIB, 2),
        }
    )


def seconds_at(seconds, flops):
    """``seconds`` (an estimate's ``Seconds``: a device's lower bounds, or None) for ``flops`` (its ``Flops``) at the
    same throughput; None stays None."""
    if seconds is None:
        return None
    rate = seconds.tflops * 1e12
    return seconds.model_copy(
        update={
            "text_encode": (flops.text_encode + flops.image_encode + flops.vae_encode) / rate,
            "denoise": (flops.denoise_total + flops.latent_upsample) / rate,
            "vae_decode": (flops.vae_decode + flops.audio_decode) / rate,
            "total": flops.total / rate,
        }
    )


__all__ = ["seconds_at", "with_stages"]
