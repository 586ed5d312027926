"""A Helios job's price (``CostFacts.price_job``): its chunks, each denoised on its own and decoded on its own.

The plain estimate prices ``steps`` forwards over the whole clip and one decode of it. A Helios job (``chunks.py``,
recorded in its params) runs per chunk its steps over one chunk's latents beside the packed history, and decodes that
chunk: so it is priced from estimates of the same model at one step: one of a chunk at the job's size (its step, its
decode, its encode, every stage's memory: the denoising, decoding and encoding peaks are a chunk's), and for a
pyramid checkpoint one per stage, the chunk at that stage's size (1/4, 1/2, 1 of each side) beside the history the law
carries (``cost_probe``). Image-to-video encodes the image and a still clip of one chunk; video-to-video the clip's
first frame and its whole chunks. The decoded chunks accumulate on the device until the call returns: the decoding
stage's memory holds the ones before the last.
"""

from __future__ import annotations

from typing import Any

from videogen.video.families.helios.chunks import HISTORY_SIZES, Chunks
from videogen.video.spec import IMAGE_TO_VIDEO, VIDEO_TO_VIDEO

_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def price_job(cost, estimate, params: dict[str, Any]):
    """``cost`` (the plain estimate of ``params``) as the job's chunks run; unchanged for params without chunks.
    ``estimate(num_frames, height, width, steps, guidance_scale)`` prices the same model at another size."""
    from videogen.video.cost.repriced import seconds_at, with_stages

    settled = Chunks.from_params(params)
    if settled is None:
        return cost
    height, width, guidance = int(params["height"]), int(params["width"]), float(params["guidance_scale"])

    def at(frames: int, scale: int = 1):
        return estimate(frames, height // scale, width // scale, 1, guidance)

    chunk = at(settled.frames)
    if settled.stage_steps:  # stage s of S at 1 / 2^(S-1-s) of each side
        last = len(settled.stage_steps) - 1
        per_chunk = sum(
            at(settled.frames, 2 ** (last - s)).flops.per_step * steps for s, steps in enumerate(settled.stage_steps)
        )
    else:
        per_chunk = chunk.flops.per_step * settled.steps
    calls = settled.calls
    denoise = per_chunk * (settled.count + (1 if settled.amplify_first else 0))  # an amplified first chunk: twice
    encode = 0.0
    if cost.task in (IMAGE_TO_VIDEO, VIDEO_TO_VIDEO):
        chunks = 1 if cost.task == IMAGE_TO_VIDEO else settled.encoded_clip_chunks
        encode = at(1).flops.vae_encode + chunks * chunk.flops.vae_encode
    f = chunk.flops
    decode, tiled = f.vae_decode * settled.count, f.vae_decode_tiled * settled.count
    flops = f.model_copy(
        update={
            "vae_encode": encode,
            "per_step": denoise / sum(calls),
            "denoise_total": denoise,
            "vae_decode": decode,
            "vae_decode_tiled": tiled,
            "total": f.text_encode + f.image_encode + encode + denoise + decode,
        }
    )
    held = (settled.count - 1) * settled.frames * 3 * height * width * _BYTES.get(cost.dtype, 4)
    pyramid = f", stages of {'/'.join(map(str, settled.stage_steps))} steps" if settled.stage_steps else ""
    note = (
        f"{settled.count} chunk(s) of {settled.frames} frames ({settled.latent_frames} latent frames), "
        f"{sum(calls)} transformer steps in all{pyramid}"
        + (" (the first chunk's doubled)" if settled.amplify_first else "")
        + f"; the VAE decodes each chunk, and the job keeps {params['num_frames']} of {settled.count * settled.frames} "
        "frames; the history's tokens are counted at the family's default size"
    )
    return cost.model_copy(
        update={
            "flops": flops,
            "latent": chunk.latent,
            "video_tokens": chunk.video_tokens,
            "denoiser_steps": dict.fromkeys(cost.denoiser_steps, sum(calls)),
            # the decoded chunks before the last held through the last decode
            "memory": [with_stages(e, vae_decode=e.stages["vae_decode"] + held) for e in chunk.memory],
            "seconds": seconds_at(chunk.seconds, flops),
            "parallel": _parallel(chunk, flops, sum(calls), split_sequences(settled, chunk.latent)),
            "notes": [*cost.notes, note],
        }
    )


def split_sequences(settled: Chunks, latent) -> list[int]:
    """The token counts a sequence-parallel split cuts, each of which must divide: per stage, the chunk's tokens (the
    cross-attention's) and the chunk's beside the full-size history (the self-attention's and the feed-forward's)."""
    height, width = latent.height, latent.width
    long, mid, short = HISTORY_SIZES

    def packed(frames: int, kt: int, ks: int) -> int:  # the patch embedder pads each part to its kernel
        return -(-frames // kt) * -(-height // ks) * -(-width // ks)

    history = packed(1 + short, 1, 2) + packed(mid, 2, 4) + packed(long, 4, 8)
    stages = len(settled.stage_steps) if settled.stage_steps else 1
    counts = set()
    for stage in range(stages):
        scale = 2 ** (stages - 1 - stage)
        tokens = settled.latent_frames * (height // scale // 2) * (width // scale // 2)
        counts |= {tokens, tokens + history}
    return sorted(counts)


def _parallel(chunk, flops, steps: int, sequences: list[int]):
    """A split job's exchanges over every step (each at a full-size chunk's bytes: an upper bound for a pyramid's
    smaller stages), the sequences it cuts, and its one-device FLOPs: the rank's and what the split saves of each
    step, in proportion."""
    split = chunk.parallel
    if split is None:
        return None
    saved_per_flop = (split.job_flops_total - chunk.flops.total) / max(chunk.flops.per_step, 1.0)
    exchanges = [e.model_copy(update={"steps": steps}) for e in split.exchanges]
    return split.model_copy(
        update={
            "job_flops_total": flops.total + saved_per_flop * flops.denoise_total,
            "video_tokens": sequences,
            "steps": steps,
            "exchanges": exchanges,
            "communication_bytes": sum(e.bytes_per_step * e.steps for e in exchanges),
        }
    )
