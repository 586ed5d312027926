"""One job split across the ranks of a replica (``videogen.video.parallel``): what each rank holds, computes, sends.

With a ``ParallelConfig`` (cfg x ring x ulysses ranks) every figure of an estimate is one rank's: the ranks do the
same work at the same time, so one rank's memory must fit its device and one rank's time is the job's.

- Weights: every rank holds the whole model (context parallelism splits activations, never weights; the two CFG
  groups run the same denoiser), so a rank's resident weights are the single-device figures.
- Denoising activations: a rank holds 1/N of the video tokens, N = ulysses x ring (inside attention Ulysses holds
  every token of 1/u of the heads: the same bytes); with cfg=2 and guidance on, one CFG branch (a batched family's
  half batch; a sequential family runs one pass a step instead of two). Ring attention in diffusers 0.42
  (``TemplatedRingAttention``) all-gathers the ring's key/value blocks before its loop, so a rank also holds one
  layer's whole key/value sequence of its heads: 2 x T x H/u x b, added.
- Denoising FLOPs: split the same way (attention over whole sequences of 1/u of the heads, everything else over 1/N
  of the tokens). The text and image encoders and the VAE are not split: every rank runs the whole pipeline around
  the denoiser (same inputs, same seed), so their FLOPs and memory stay a rank's.
- Communication, the bytes one rank sends per denoiser pass (T video tokens, X text tokens, H = heads x head_dim,
  b bytes per element, L transformer blocks, N = u x r), each collective over its own group (``MESH_DIMS``):
  - Ulysses, per block: all-to-alls of q, k, v before the self-attention and of its output after (DeepSpeed-Ulysses,
    arXiv:2309.14509: an aggregate 4·T·H, 4·T·H/N per link). A rank holds T/N tokens of each and keeps 1/u of them:
    it sends 4 · (T/N) · H · b · (u-1)/u;
  - ring, per block: one all-gather of the k/v blocks; a rank's block is 2 · (T/r) · (H/u) · b and an all-gather
    sends it r-1 times: 2 · T · H · b · (r-1) / (r·u);
  - a model whose context-parallel plan splits the text too (LTX-Video's ``encoder_hidden_states``) runs its
    cross-attention split as well: Ulysses moves q and the output over the video tokens and k, v over the text,
    (2·T + 2·X)/N · H · b · (u-1)/u; ring gathers the text's k/v, 2 · X · H · b · (r-1)/(r·u). Wan splits only the
    video tokens and its cross-attention runs locally;
  - CFG, once a step: an all-gather of the denoiser's output over the two branch groups (``parallel.cfg``), so a
    rank sends one branch's output, the size of the latents: C · F · h · w · b.
- Time: compute at the device's rate plus, per collective, its bytes over ``device_peaks.link_gbps`` (one direction,
  for the group's size), with no overlap: diffusers waits for each all-to-all and the ring's all-gather before the
  attention that needs it, and the CFG hook waits for its exchange. The latency of each call (microseconds on NVLink,
  4·L calls a pass) is left out; a replica's measured throughput takes in what the model misses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from videogen.video.cost.device_peaks import link_gbps
from videogen.video.parallel.config import ParallelConfig

__all__ = ["Exchange", "ParallelConfig", "ParallelCost", "Split", "on_hardware", "per_rank"]


class Exchange(BaseModel):
    """One kind of collective a rank takes part in, and what it sends."""

    axis: str = Field(description="ulysses, ring or cfg: the mesh dimension whose group exchanges")
    collective: str = Field(description="all_to_all or all_gather")
    group: int = Field(description="ranks in the group")
    bytes_per_step: float = Field(description="bytes one rank sends in one denoising step")
    steps: int = Field(description="denoising steps it runs in")
    what: str


class ParallelCost(BaseModel):
    """A job's split across a replica's ranks; the estimate around it is one rank's."""

    parallel: str = Field(description="the split, as ParallelConfig.describe() writes it")
    world_size: int
    cfg: int
    ulysses: int
    ring: int
    cfg_split: bool = Field(description="the two guidance branches run on two rank groups (cfg 2 and guidance on)")
    weights_bytes_per_rank: int = Field(description="every rank holds the whole model: no weight is sharded")
    denoise_share: float = Field(description="a rank's share of the single-device denoising FLOPs and activations")
    job_flops_total: float = Field(description="the job's FLOPs on one device (the estimate's flops are a rank's)")
    video_tokens: list[int] = Field(description="the tokens each denoising pass splits (every count must divide)")
    steps: int = Field(description="denoising steps the exchanges run in")
    exchanges: list[Exchange]
    communication_bytes: float = Field(description="bytes one rank sends over the whole job")
    link_gbps: float | None = Field(None, description="GB/s one rank sends at (one direction); None: not known")
    communication_seconds: float | None = Field(None, description="the bytes at that rate; None: link not known")
    notes: list[str] = Field(default_factory=list)

    @property
    def config(self) -> ParallelConfig:
        return ParallelConfig(cfg=self.cfg, ulysses=self.ulysses, ring=self.ring)

    def plus(self, other: ParallelCost) -> ParallelCost:
        """This pass and ``other`` (a two-pass job's first pass) as one job: their steps, tokens and bytes."""
        return self.model_copy(
            update={
                "job_flops_total": self.job_flops_total + other.job_flops_total,
                "video_tokens": [*self.video_tokens, *other.video_tokens],
                "steps": self.steps + other.steps,
                "exchanges": [*self.exchanges, *other.exchanges],
                "communication_bytes": self.communication_bytes + other.communication_bytes,
            }
        )


@dataclass(frozen=True)
class Split:
    """One request's split: what ``estimate_cost`` needs before the estimate exists (its memory)."""

    config: ParallelConfig
    cfg_split: bool
    batched: bool  # the family runs both branches in one forward (a batch of 2)
    passes: int  # denoiser passes a step on one device
    tokens: int
    hidden: int
    layers: int
    text_split: bool
    element: int  # bytes per activation element

    @classmethod
    def of(cls, config: ParallelConfig | None, preset: Any, passes: int, cfg_mode: str, tokens: int, dtype: Any):
        """The split for a request on ``preset``; None for one rank."""
        if config is None or config.world_size == 1:
            return None
        denoiser = preset.component(preset.denoiser)
        cfg = denoiser.config
        heads, head_dim = int(cfg.get("num_attention_heads") or 0), int(cfg.get("attention_head_dim") or 0)
        return cls(
            config=config,
            cfg_split=config.cfg == 2 and passes == 2,
            batched=cfg_mode == "batched",
            passes=passes,
            tokens=tokens,
            hidden=heads * head_dim,
            layers=int(cfg.get("num_layers") or 0),
            text_split=_plan_splits_text(denoiser.class_name),
            element=dtype.itemsize,
        )

    @property
    def passes_per_rank(self) -> int:
        return 1 if self.cfg_split else self.passes

    @property
    def share(self) -> float:
        """A rank's share of the denoising FLOPs (and activations) of one device."""
        return (0.5 if self.cfg_split else 1.0) / self.config.sequence_degree

    def activation(self, peak: float) -> float:
        """A rank's denoising activation bytes from the single-device peak (both branches' batch when batched)."""
        halved = 2 if self.cfg_split and self.batched else 1  # the other half of the batch is on the other group
        gathered = 0.0
        if self.config.ring > 1:  # the ring's all-gathered k/v of one layer, every token of this rank's heads
            batch = 2 if self.batched and self.passes == 2 and not self.cfg_split else 1
            gathered = 2 * self.tokens * self.hidden / self.config.ulysses * self.element * batch
        return peak / halved / self.config.sequence_degree + gathered

    def exchanges(self, text_tokens: int, latent_bytes: int, steps: int) -> list[Exchange]:
        """What a rank sends each step (module docstring), per collective, over ``steps`` steps."""
        u, r, n, b = self.config.ulysses, self.config.ring, self.config.sequence_degree, self.element
        per_pass = self.passes_per_rank * self.layers
        t, x, h = self.tokens, text_tokens if self.text_split else 0, self.hidden
        out: list[Exchange] = []
        if u > 1:
            sent = (4 * t + (2 * t + 2 * x if x else 0)) / n * h * b * (u - 1) / u
            what = "q, k, v and the output of each block's self-attention" + (" and cross-attention" if x else "")
            out.append(
                Exchange(
                    axis="ulysses",
                    collective="all_to_all",
                    group=u,
                    bytes_per_step=sent * per_pass,
                    steps=steps,
                    what=what,
                )
            )
        if r > 1:
            sent = 2 * (t + x) * h * b * (r - 1) / (r * u)
            what = "each block's key/value blocks" + (" (video and text)" if x else "")
            out.append(
                Exchange(
                    axis="ring",
                    collective="all_gather",
                    group=r,
                    bytes_per_step=sent * per_pass,
                    steps=steps,
                    what=what,
                )
            )
        if self.cfg_split:
            what = "the denoiser's output, one branch"
            out.append(
                Exchange(
                    axis="cfg",
                    collective="all_gather",
                    group=2,
                    bytes_per_step=float(latent_bytes),
                    steps=steps,
                    what=what,
                )
            )
        return out


def _plan_splits_text(class_name: str) -> bool:
    """Whether the denoiser's context-parallel plan splits the text sequence (then its cross-attention runs split)."""
    import diffusers

    plan = getattr(getattr(diffusers, class_name, None), "_cp_plan", None) or {}
    return any(isinstance(entry, dict) and "encoder_hidden_states" in entry for entry in plan.values())


def per_rank(cost: Any, split: Split | None) -> Any:
    """``cost`` (a ``CostEstimate`` whose memory is already a rank's) with one rank's FLOPs and the split beside them;
    unchanged for one rank."""
    if split is None:
        return cost
    f = cost.flops
    denoise = f.denoise_total * split.share
    flops = f.model_copy(
        update={
            "per_step": f.per_step * split.share,
            "denoise_total": denoise,
            "total": f.total - f.denoise_total + denoise,
        }
    )
    lat = cost.latent
    steps = sum(cost.denoiser_steps.values())
    latent_bytes = lat.channels * lat.frames * lat.height * lat.width * split.element
    exchanges = split.exchanges(cost.text_tokens, latent_bytes, steps)
    notes = [
        f"parallel {split.config.describe()}: {split.config.world_size} ranks, each holding the whole model "
        f"({cost.total_weight_bytes / 2**30:.2f} GB of weights); figures are one rank's"
    ]
    if split.config.sequence_degree > 1 and not (split.hidden and split.layers):
        notes.append("the denoiser's config names no heads/layers: its sequence exchanges are not counted")
    parallel = ParallelCost(
        parallel=split.config.describe(),
        world_size=split.config.world_size,
        cfg=split.config.cfg,
        ulysses=split.config.ulysses,
        ring=split.config.ring,
        cfg_split=split.cfg_split,
        weights_bytes_per_rank=cost.total_weight_bytes,
        denoise_share=split.share,
        job_flops_total=f.total,
        video_tokens=[split.tokens],
        steps=steps,
        exchanges=exchanges,
        communication_bytes=sum(e.bytes_per_step * e.steps for e in exchanges),
        notes=notes,
    )
    seconds = cost.seconds
    if seconds is not None:  # compute only: the communication is the parallel block's
        rate = seconds.tflops * 1e12
        seconds = seconds.model_copy(update={"denoise": denoise / rate, "total": flops.total / rate})
    return cost.model_copy(update={"flops": flops, "parallel": parallel, "seconds": seconds})


def on_hardware(parallel: ParallelCost, device_name: str | None, is_gpu: bool) -> ParallelCost:
    """``parallel`` with the link of the device it would run on and the seconds its bytes take there."""
    seconds, rates = 0.0, []
    for e in parallel.exchanges:
        rate = link_gbps(device_name, is_gpu, e.group)
        if rate is None:
            note = f"no link bandwidth recorded for {device_name}: communication time not counted"
            return parallel.model_copy(update={"notes": [*parallel.notes, note]})
        rates.append(rate)
        seconds += e.bytes_per_step * e.steps / (rate * 1e9)
    return parallel.model_copy(
        update={"link_gbps": min(rates) if rates else None, "communication_seconds": seconds if rates else 0.0}
    )
