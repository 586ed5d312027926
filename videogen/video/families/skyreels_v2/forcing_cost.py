"""A diffusion-forcing job's price (``CostFacts.price_job``): its transformer calls over the windows it really runs.

The plain estimate prices ``steps`` forwards over the whole clip. A diffusion-forcing job (``forcing.py``, its windows
in the job's params) runs, per window, its own number of calls over that window's latent frames only, and decodes the
frames it generated once at the end; video-to-video encodes the clip's last ``overlap_history`` frames, not the clip.
So the job is priced from estimates of the same model at one step: one of the generated frames (text encode, image
encode, the decode, every stage but the denoising), one per distinct window (a call at its size), and for
video-to-video one of the overlap (its encode). The denoising stage's memory is the largest window's; every other
stage's, the generated clip's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from videogen.video.families.skyreels_v2.forcing import Forcing, pixel_frames


def price_job(cost, estimate, params: dict[str, Any]):
    """``cost`` (the plain estimate of ``params``) as the diffusion-forcing job runs; unchanged for another job.
    ``estimate(num_frames, height, width, steps, guidance_scale)`` prices the same model at another size."""
    from videogen.video.cost.repriced import seconds_at, with_stages

    settled = Forcing.from_params(params)
    if settled is None:
        return cost
    height, width, guidance = int(params["height"]), int(params["width"]), float(params["guidance_scale"])

    def at(frames: int):
        return estimate(frames, height, width, 1, guidance)

    whole = at(settled.generated_frames)
    calls = Counter()
    for latent, count in settled.windows:
        calls[latent] += count
    per_window = {latent: at(pixel_frames(latent)) for latent in calls}
    largest = per_window[max(calls)]
    total_calls = sum(calls.values())
    denoise = sum(per_window[latent].flops.per_step * count for latent, count in calls.items())
    encode = at(settled.overlap_history).flops.vae_encode if settled.clip_frames else whole.flops.vae_encode
    f = whole.flops
    flops = f.model_copy(
        update={
            "vae_encode": encode,
            "per_step": denoise / max(total_calls, 1),
            "denoise_total": denoise,
            "total": f.text_encode + f.image_encode + encode + denoise + f.vae_decode + f.audio_decode,
        }
    )
    note = (
        f"diffusion forcing: {len(settled.windows)} window(s) of up to {max(calls)} latent frames, {total_calls} "
        f"transformer calls in all (ar_step {settled.ar_step}, base_num_frames {settled.base_num_frames}"
        + (f", overlap_history {settled.overlap_history}" if settled.long else "")
        + f"); the VAE decodes the {settled.generated_frames} generated frames once"
    )
    return cost.model_copy(
        update={
            "flops": flops,
            "latent": largest.latent,
            "video_tokens": largest.video_tokens,
            "denoiser_steps": dict.fromkeys(cost.denoiser_steps, total_calls),
            # the generated clip's memory with the denoising stage at the largest window's
            "memory": [
                with_stages(entry, denoise=window.stages["denoise"])
                for entry, window in zip(whole.memory, largest.memory, strict=True)
            ],
            "seconds": seconds_at(whole.seconds, flops),
            "parallel": _parallel(largest, per_window, calls, flops),
            "notes": [*cost.notes, note],
        }
    )


def _parallel(largest, per_window, calls: Counter, flops):
    """A split job's exchanges over every call (each at the largest window's bytes: an upper bound) and its
    one-device FLOPs: a rank's and what the split saved in each call."""
    if largest.parallel is None:
        return None
    total_calls = sum(calls.values())
    saved = sum((per_window[w].parallel.job_flops_total - per_window[w].flops.total) * n for w, n in calls.items())
    exchanges = [e.model_copy(update={"steps": total_calls}) for e in largest.parallel.exchanges]
    return largest.parallel.model_copy(
        update={
            "job_flops_total": flops.total + saved,
            "steps": total_calls,
            "exchanges": exchanges,
            "communication_bytes": sum(e.bytes_per_step * e.steps for e in exchanges),
        }
    )
